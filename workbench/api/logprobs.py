"""Per-token probabilities from a choice's ``logprobs``, whichever shape the server sent.

Two shapes are accepted:

* OpenAI's legacy completions shape, which Cerebras and the simulator send:
  ``{"tokens": [...], "token_logprobs": [...], "top_logprobs": [{token: logprob}, ...],
  "text_offset": [...]}``;
* the newer per-token list that llama.cpp's server (and OpenAI's chat API) send:
  ``{"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob"}]}]}``.

Anything else, or a malformed entry, is skipped rather than trusted: these dictionaries come
from the network or from a session file a person may have edited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# A response with more entries than this is cut: the view and the HTML export stay bounded.
MAX_TOKENS = 200_000
MAX_ALTERNATIVES = 20


@dataclass(frozen=True, slots=True)
class TokenProb:
    """One generated token: its text, its log-probability and the top alternatives."""

    token: str
    logprob: float | None
    alternatives: tuple[tuple[str, float], ...] = ()
    token_bytes: tuple[int, ...] | None = None

    @property
    def probability(self) -> float | None:
        return probability_of(self.logprob)


def probability_of(logprob: Any) -> float | None:
    """A log-probability as a probability (capped at 1); None unless it is a finite number
    (these values come from the network or from a file a person may have edited)."""
    value = _finite(logprob)
    return None if value is None else math.exp(min(value, 0.0))


def extend_logprobs(into: dict[str, Any] | None, more: dict[str, Any]) -> dict[str, Any]:
    """Add one streamed chunk's logprobs to the choice's so far: the legacy shape arrives as
    parallel lists per chunk, which are extended in place (a copy per chunk would make a long
    stream quadratic). ``into`` is owned by the caller; ``more``'s lists are copied, not kept,
    so two holders of the same chunk never share a list."""
    if into is None:
        return {key: list(value) if isinstance(value, list) else value for key, value in more.items()}
    for key, value in more.items():
        if isinstance(value, list) and isinstance(into.get(key), list):
            into[key].extend(value)
        else:
            into[key] = list(value) if isinstance(value, list) else value
    return into


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _alternatives_from_mapping(top: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(top, dict):
        return ()
    pairs = [(str(k), v) for k, v in top.items() if _finite(v) is not None]
    pairs.sort(key=lambda pair: -pair[1])
    return tuple((token, float(value)) for token, value in pairs[:MAX_ALTERNATIVES])


def _alternatives_from_list(top: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(top, list):
        return ()
    pairs = []
    for item in top[:MAX_ALTERNATIVES]:
        if isinstance(item, dict) and isinstance(item.get("token"), str):
            value = _finite(item.get("logprob"))
            if value is not None:
                pairs.append((item["token"], value))
    pairs.sort(key=lambda pair: -pair[1])
    return tuple(pairs)


def _byte_list(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, list) and all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value[:64]
    ):
        return tuple(value[:64])
    return None


def token_probs(logprobs: Any) -> list[TokenProb] | None:
    """The tokens of one choice with their probabilities; None when there are none to show."""
    if not isinstance(logprobs, dict):
        return None
    content = logprobs.get("content")
    if isinstance(content, list):
        out = []
        for entry in content[:MAX_TOKENS]:
            if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
                continue
            out.append(
                TokenProb(
                    entry["token"],
                    _finite(entry.get("logprob")),
                    _alternatives_from_list(entry.get("top_logprobs")),
                    _byte_list(entry.get("bytes")),
                )
            )
        return out or None
    tokens = logprobs.get("tokens")
    if not isinstance(tokens, list):
        return None
    values = logprobs.get("token_logprobs")
    tops = logprobs.get("top_logprobs")
    values = values if isinstance(values, list) else []
    tops = tops if isinstance(tops, list) else []
    out = []
    for position, token in enumerate(tokens[:MAX_TOKENS]):
        if not isinstance(token, str):
            continue
        value = _finite(values[position]) if position < len(values) else None
        top = tops[position] if position < len(tops) else None
        out.append(TokenProb(token, value, _alternatives_from_mapping(top)))
    return out or None


# Probability bands, most likely first: the views colour a token by the band it falls in.
# Five bands read at a glance; finer steps are in the token's detail (exact probability).
BANDS: tuple[tuple[float, str], ...] = (
    (0.9, "≥ 90 %"),
    (0.5, "50–90 %"),
    (0.2, "20–50 %"),
    (0.05, "5–20 %"),
    (0.0, "< 5 %"),
)


def band(probability: float | None) -> int | None:
    """0 (near certain) … 4 (surprising); None when the probability is unknown."""
    if probability is None:
        return None
    for index, (floor, _label) in enumerate(BANDS):
        if probability >= floor:
            return index
    return len(BANDS) - 1
