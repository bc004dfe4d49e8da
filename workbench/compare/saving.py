"""A compare run as one exchange group of a session (session schema v2).

Every lane becomes one :class:`Exchange` with the request it sent and what came back; the
lanes of one run share ``group`` (the run's id) and carry ``lane`` (0-based), ``variant`` (the
lane's overrides) and ``label``. Replay then re-sends every lane and diffs each against its
recording, like any other exchange.
"""

from __future__ import annotations

from typing import Any

from workbench.compare.runner import CompareRun, LaneState
from workbench.sessions.model import Exchange, Session, exchange_groups


def saved_variant(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides as a session stores them. TOML has no null, and the exchange's request
    holds the exact values sent, so an override that unset a field is left out."""
    return {name: value for name, value in overrides.items() if value is not None}


def lane_exchange(run: CompareRun, lane: LaneState) -> Exchange:
    # A lane that never started (the run was cancelled first) is recorded as cancelled.
    status = lane.status if lane.status in ("complete", "cancelled", "error") else "cancelled"
    exchange = Exchange.from_outcome(
        lane.request,
        lane.result or lane.partial(),
        status=status,  # type: ignore[arg-type]
        error=lane.error_message if status == "error" else None,
        started_at=lane.started_at or run.started_at,
        finished_at=lane.finished_at or run.finished_at,
        failure=lane.error,
    )
    exchange.group = run.group
    exchange.lane = lane.index
    exchange.variant = saved_variant(lane.variant.overrides)
    exchange.label = lane.variant.label or None
    return exchange


def group_exchanges(run: CompareRun) -> list[Exchange]:
    """One exchange per lane, in lane order."""
    return [lane_exchange(run, lane) for lane in run.lanes]


def append_group(session: Session, run: CompareRun) -> None:
    session.exchanges.extend(group_exchanges(run))
    session.touch()


def compare_session(
    run: CompareRun, *, title: str = "", profile: str | None = None, base_url: str | None = None
) -> Session:
    """A new session holding this run as its one group."""
    session = Session.new(title=title, profile=profile, base_url=base_url)
    append_group(session, run)
    return session


def groups_of(session: Session) -> list[list[Exchange]]:
    """The session's exchanges as groups in order (see :func:`exchange_groups`)."""
    return exchange_groups(session.exchanges)
