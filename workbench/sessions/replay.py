"""Replay: send every exchange of a saved session again and compare the outputs.

No Textual here: the CLI (``workbench replay``) and the replay screen both drive
:func:`replay_session`, an async generator that yields one :class:`ReplayStep` per exchange,
so progress is visible as it happens and cancelling the consuming task stops at once (the
client closes the connection when its task is cancelled).

A compare run is saved as one exchange per lane (sharing ``group``); replay re-sends every
lane, in lane order, and each step names its lane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from workbench.api.errors import WorkbenchAPIError
from workbench.api.fields import FieldValueError, parse_text, spec_for
from workbench.api.request import CompletionRequest
from workbench.sessions.diff import Verdict, unified, verdict
from workbench.sessions.model import Exchange, Session, utc_now

_REMOVE = object()


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value), read as the request-field registry says (the same rules
    as a compare lane or a sidebar input). An empty value removes the field (``seed=`` sends
    no seed). An unknown field raises :class:`FieldValueError` (a ValueError) naming the
    nearest valid one, so a typo is never sent."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise FieldValueError(f"expected FIELD=VALUE, got {text!r}")
    return key, parse_text(spec_for(key), raw)


@dataclass(slots=True)
class ReplayOverrides:
    """Changes applied to every saved request before it is sent again."""

    model: str | None = None
    #: field -> new value; None removes the field
    fields: dict[str, Any] = field(default_factory=dict)

    def apply(self, request: CompletionRequest) -> CompletionRequest:
        body = request.to_body()
        for key, value in self.fields.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        if self.model:
            body["model"] = self.model
        return CompletionRequest.from_body(body)

    @property
    def empty(self) -> bool:
        return not self.model and not self.fields


@dataclass(slots=True)
class ReplayStep:
    index: int  # 0-based position in the session
    total: int
    saved: Exchange
    replayed: Exchange
    #: the error that ended the call, if any (also recorded in replayed.error)
    failure: WorkbenchAPIError | None = None

    @property
    def verdict(self) -> Verdict:
        return verdict(self.saved, self.replayed)

    @property
    def same(self) -> bool:
        return self.verdict == "same"

    @property
    def lane(self) -> int | None:
        """0-based lane of a compare group, None for a single exchange."""
        return self.saved.lane if self.saved.group is not None else None

    @property
    def lane_note(self) -> str:
        """`` (lane 2: qwen-3-32b)`` for a compare lane, else ``""``."""
        if self.lane is None:
            return ""
        return f" (lane {self.lane + 1}: {self.saved.lane_name})"

    @property
    def name(self) -> str:
        """``exchange 3``, or ``exchange 3 (lane 2: qwen-3-32b)`` for a compare lane."""
        return f"exchange {self.index + 1}{self.lane_note}"

    def diff(self) -> str:
        return unified(self.saved, self.replayed, label=self.name)


def prepare_requests(session: Session, overrides: ReplayOverrides) -> list[CompletionRequest]:
    """The requests a replay will send; raises RequestValidationError (naming the exchange)
    before anything is sent when an override makes one invalid."""
    requests = []
    for position, exchange in enumerate(session.exchanges, start=1):
        request = overrides.apply(exchange.request)
        errors = request.validate()
        if errors:
            from workbench.api.request import FieldError, RequestValidationError

            raise RequestValidationError(
                [FieldError(e.field, f"{e.message} (exchange {position})") for e in errors]
            )
        requests.append(request)
    return requests


async def send(client: Any, request: CompletionRequest) -> tuple[Exchange, WorkbenchAPIError | None]:
    """One call as the app makes it (streamed when the saved request streamed)."""
    started = utc_now()
    try:
        result = await client.collect(request)
    except WorkbenchAPIError as error:
        exchange = Exchange.from_outcome(
            request,
            error.partial,
            status="error",
            error=str(error),
            started_at=started,
            finished_at=utc_now(),
            failure=error,
        )
        return exchange, error
    return Exchange.from_outcome(request, result, started_at=started, finished_at=utc_now()), None


def _same_place(replayed: Exchange, saved: Exchange) -> Exchange:
    """The replayed exchange keeps the saved one's place in its compare group."""
    replayed.group, replayed.lane, replayed.label = saved.group, saved.lane, saved.label
    replayed.variant = dict(saved.variant)
    return replayed


async def replay_session(
    session: Session,
    client: Any,
    overrides: ReplayOverrides | None = None,
) -> AsyncIterator[ReplayStep]:
    """Yield a :class:`ReplayStep` per exchange, in order. API errors are recorded in the
    step (the replay goes on); cancellation propagates."""
    overrides = overrides or ReplayOverrides()
    requests = prepare_requests(session, overrides)
    total = len(requests)
    for index, (saved, request) in enumerate(zip(session.exchanges, requests)):
        replayed, failure = await send(client, request)
        yield ReplayStep(
            index=index,
            total=total,
            saved=saved,
            replayed=_same_place(replayed, saved),
            failure=failure,
        )


def replay_as_session(
    original: Session, steps: list[ReplayStep], *, base_url: str | None = None
) -> Session:
    """The replayed exchanges as a new, unsaved session."""
    result = Session.new(
        title=f"{original.display_title} (replay)",
        profile=original.profile,
        base_url=base_url if base_url is not None else original.base_url,
    )
    result.exchanges = [step.replayed for step in steps]
    return result
