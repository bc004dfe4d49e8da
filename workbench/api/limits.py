"""How much the client accepts from a server: every cap in one place.

A server can be broken or hostile: an endless body, a line or an event that never ends, a
model list of millions, a stream that never stops. Each cap turns that into one clear error
(the text received so far is kept) instead of unbounded memory. The defaults are far above
what the Cerebras API sends (its largest context is ~131K tokens, about 0.5 M characters) and
keep the process well under 300 MB whatever arrives. Change them per client::

    CompletionClient(endpoint, limits=Limits(choice_chars=4_000_000))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one response may hold. All sizes are bytes unless the name says otherwise."""

    #: a whole non-streamed body (a completion or the model list); JSON expands several times
    #: in memory, so this stays well below the memory target
    body_bytes: int = 8 * MIB
    #: the part of an error body (or of any non-JSON answer) looked at for a message
    error_body_bytes: int = 64 * KIB
    #: one line of a server-sent-event stream
    sse_line_bytes: int = 1 * MIB
    #: one event of the stream (its data lines together)
    sse_event_bytes: int = 4 * MIB
    #: entries in the model list
    models: int = 10_000
    #: distinct choices in one response (also never more than the request asked for)
    choices: int = 1024
    #: characters of text kept per choice; a stream that goes past it ends with
    #: ResponseTooLargeError, the text so far kept
    choice_chars: int = 2_000_000
    #: characters of text kept over all choices of one response
    total_chars: int = 16_000_000
    #: token ids and logprobs entries kept over all choices of one response (each costs
    #: ~40-100 bytes in memory, far more than a character)
    total_items: int = 500_000
    #: JSON objects and arrays in one body or event: an empty ``{}`` costs ~64 bytes once
    #: parsed, so 8 MB of them would be ~200 MB; checked before parsing
    json_containers: int = 200_000
    #: token ids accepted from the tokenizer endpoint (``/tokenize``)
    tokenize_tokens: int = 1_000_000

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{spec.name} must be a whole number of 1 or more")


DEFAULT_LIMITS = Limits()


def size_text(count: int) -> str:
    """``count`` bytes as a person reads it (``64 KB``, ``8 MB``)."""
    if count >= MIB and count % MIB == 0:
        return f"{count // MIB} MB"
    if count >= KIB and count % KIB == 0:
        return f"{count // KIB} KB"
    return f"{count:,} bytes"


def json_containers(data: bytes | str) -> int:
    """An upper bound on the objects and arrays ``data`` would parse into (every ``{`` and
    ``[``, those inside strings too): a fast scan, done before parsing."""
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    return data.count(b"{") + data.count(b"[")
