"""The in-memory session: a titled list of exchanges (request + outcome), no I/O here.

An :class:`Exchange` keeps everything needed to understand and replay one call: the full
request (every parameter and the prompt in its own form), every choice, usage, server
``time_info``, the client's own metrics, the outcome status and timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, CompletionResult, TimeInfo, Usage
from workbench.sessions.ids import new_id

#: Bumped when the file format changes; a file with a higher number is never overwritten by
#: this version of the app. 2 added exchange groups (compare runs) and structured errors; a
#: version-1 file reads unchanged and is written as version 2 only once something is added.
SCHEMA_VERSION = 2

ExchangeStatus = Literal["complete", "cancelled", "error"]
STATUSES: tuple[ExchangeStatus, ...] = ("complete", "cancelled", "error")
#: Lanes of one compare group are numbered 0 .. MAX_LANES - 1 (compare runs at most 8).
MAX_LANES = 64


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def scrub_base_url(url: str | None) -> str | None:
    """The base URL without user info or query: a key pasted into a URL never reaches a file."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(slots=True)
class Exchange:
    """One request and what came back (possibly partial, possibly nothing)."""

    request: CompletionRequest
    status: ExchangeStatus = "complete"
    error: str | None = None
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    choices: list[Choice] = field(default_factory=list)
    usage: Usage | None = None
    time_info: TimeInfo | None = None
    metrics: ClientMetrics | None = None
    response_id: str | None = None
    response_model: str | None = None
    response_created: int | None = None
    system_fingerprint: str | None = None
    #: Identity inside the session: lets two app instances merge their exchanges safely.
    id: str = field(default_factory=new_id)
    #: For ``status == "error"`` when the server answered: its HTTP status and its own message
    #: (replay compares these, not the rendering in ``error``, which names hosts and retries).
    http_status: int | None = None
    server_message: str | None = None
    #: A compare run: every lane is one exchange; they share ``group`` (an id) and are
    #: numbered by ``lane`` (0-based). ``variant`` holds the lane's request-field overrides on
    #: top of the common request (``request`` is what was actually sent), ``label`` its name.
    group: str | None = None
    lane: int | None = None
    variant: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    @classmethod
    def from_outcome(
        cls,
        request: CompletionRequest,
        result: CompletionResult | None,
        *,
        status: ExchangeStatus = "complete",
        error: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        failure: BaseException | None = None,
    ) -> Exchange:
        """Build the record from a finished, cancelled or failed call (``result`` may be the
        error's ``partial`` or None when nothing arrived). Pass the exception as ``failure``
        so that its HTTP status and the server's own message are kept for replay checks."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        exchange = cls(
            request=request,
            status=status,
            error=error,
            started_at=started_at or utc_now(),
            finished_at=finished_at or utc_now(),
        )
        if failure is not None:
            exchange.http_status, exchange.server_message = failure_details(failure)
        if result is not None:
            exchange.choices = [
                Choice(
                    index=c.index,
                    text=c.text,
                    tokens=list(c.tokens) if c.tokens is not None else None,
                    finish_reason=c.finish_reason,
                    logprobs=c.logprobs,
                )
                for c in result.choices
            ]
            exchange.usage = result.usage
            exchange.time_info = result.time_info
            exchange.metrics = result.metrics
            exchange.response_id = result.id
            exchange.response_model = result.model
            exchange.response_created = result.created
            exchange.system_fingerprint = result.system_fingerprint
        return exchange

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def lane_name(self) -> str:
        """How a report names this lane: its label, else its overrides, else its model."""
        if self.label:
            return self.label
        if self.variant:
            return ",".join(f"{key}={value}" for key, value in self.variant.items())
        return self.request.model

    @property
    def output_text(self) -> str:
        """All choices' text in index order (token ids written out when there is no text)."""
        parts = []
        for choice in sorted(self.choices, key=lambda c: c.index):
            if choice.text or choice.tokens is None:
                parts.append(choice.text)
            else:
                parts.append(" ".join(str(t) for t in choice.tokens))
        return "".join(parts) if len(parts) <= 1 else "\n".join(parts)

    @property
    def prompt_text(self) -> str:
        """The prompt as text for display and search (token ids written out)."""
        prompt = self.request.prompt
        if isinstance(prompt, str):
            return prompt
        lines = []
        for item in prompt:
            if isinstance(item, list):
                lines.append(" ".join(str(t) for t in item))
            else:
                lines.append(str(item))
        kind = self.request.kind
        return " ".join(lines) if kind == "tokens" else "\n".join(lines)


def failure_details(failure: BaseException) -> tuple[int | None, str | None]:
    """(HTTP status, the server's own message) of an API error; (None, None) for others."""
    status = getattr(failure, "status_code", None)
    if not isinstance(status, int) or isinstance(status, bool):
        return None, None
    body = getattr(failure, "body", None)
    message = None
    if body is not None:
        # Lazy: the error-body reader imports httpx, which the app's start does not need.
        from workbench.api.failures import read_error_body

        message = read_error_body(body).message
    return status, message


def exchange_groups(exchanges: list[Exchange]) -> list[list[Exchange]]:
    """Exchanges in order, each compare group (consecutive exchanges sharing ``group``) as one
    list of lanes, every other exchange as a list of one."""
    groups: list[list[Exchange]] = []
    for exchange in exchanges:
        if exchange.group is not None and groups and groups[-1][0].group == exchange.group:
            groups[-1].append(exchange)
        else:
            groups.append([exchange])
    return groups


@dataclass(slots=True)
class Session:
    """A titled, ordered list of exchanges plus where they were sent (never the key)."""

    id: str = field(default_factory=new_id)
    title: str = ""
    created: datetime = field(default_factory=utc_now)
    updated: datetime = field(default_factory=utc_now)
    profile: str | None = None
    base_url: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    #: Top-level keys written by a newer app of the same schema: kept so a save does not drop them.
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where this session lives on disk and what we last read/wrote there (set by the store).
    storage: Any = field(default=None, compare=False, repr=False)
    #: Set when the file was read with a repair (e.g. a save cut off by a crash): says what.
    recovered: str | None = field(default=None, compare=False)

    @classmethod
    def new(
        cls, title: str = "", profile: str | None = None, base_url: str | None = None
    ) -> Session:
        now = utc_now()
        return cls(
            id=new_id(now),
            title=title,
            created=now,
            updated=now,
            profile=profile,
            base_url=scrub_base_url(base_url),
        )

    @property
    def display_title(self) -> str:
        if self.title.strip():
            return self.title
        for exchange in self.exchanges:
            first_line = exchange.prompt_text.strip().splitlines()
            if first_line:
                return first_line[0][:60]
        return "(untitled)"

    @property
    def model(self) -> str:
        """The model of the latest exchange (what the browser shows)."""
        return self.exchanges[-1].request.model if self.exchanges else ""

    def touch(self) -> None:
        self.updated = utc_now()
