"""A compare run as one exchange group of a session (session schema v2).

Every lane becomes one :class:`Exchange` with the request it sent and what came back; the
lanes of one run share ``group`` (the run's id) and carry ``lane`` (0-based), ``variant`` (the
lane's overrides) and ``label``. Replay then re-sends every lane and diffs each against its
recording, like any other exchange.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from workbench.compare.runner import CompareRun, LaneState
from workbench.sessions.model import Exchange, Session

_EXCHANGE_FIELDS = {f.name for f in dataclasses.fields(Exchange)}
#: Whether this build's sessions know exchange groups (schema v2). Without them the lanes are
#: saved as plain exchanges, in lane order: still one replayable exchange per lane.
GROUPS_SUPPORTED = {"group", "lane", "variant", "label"} <= _EXCHANGE_FIELDS


def saved_variant(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides as a session stores them. TOML has no null, and the exchange's request
    holds the exact values sent, so an override that unset a field is left out."""
    return {name: value for name, value in overrides.items() if value is not None}


def lane_exchange(run: CompareRun, lane: LaneState) -> Exchange:
    status = lane.status if lane.status in ("complete", "cancelled", "error") else "cancelled"
    exchange = Exchange.from_outcome(
        lane.request,
        lane.result or lane.partial(),
        status=status,  # type: ignore[arg-type]
        error=lane.error_message if status == "error" else None,
        started_at=lane.started_at or run.started_at,
        finished_at=lane.finished_at or run.finished_at,
    )
    if GROUPS_SUPPORTED:
        exchange.group = run.group  # type: ignore[attr-defined]
        exchange.lane = lane.index  # type: ignore[attr-defined]
        exchange.variant = saved_variant(lane.variant.overrides)  # type: ignore[attr-defined]
        exchange.label = lane.variant.label or None  # type: ignore[attr-defined]
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
    """The session's exchanges as groups in order: a compare run's lanes together (by lane),
    every other exchange alone."""
    groups: list[list[Exchange]] = []
    by_id: dict[str, list[Exchange]] = {}
    for exchange in session.exchanges:
        group = getattr(exchange, "group", None)
        if group is None:
            groups.append([exchange])
            continue
        if group not in by_id:
            by_id[group] = []
            groups.append(by_id[group])
        by_id[group].append(exchange)
    for members in by_id.values():
        members.sort(key=lambda e: getattr(e, "lane", None) or 0)
    return groups
