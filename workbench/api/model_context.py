"""Context lengths of known Cerebras models: how many tokens prompt + completion may take.

Only for a warning before sending (the server has the last word). Per model the largest
context its Cerebras documentation gives (inference-docs.cerebras.ai, "paid tiers up to";
the free tier can be smaller), so a warning means the request cannot fit at all. The catalogue
churns: a model not listed here gets no warning rather than a guessed one.
"""

from __future__ import annotations

KNOWN_CONTEXT_LENGTHS: dict[str, int] = {
    "llama3.1-8b": 8_192,
    "qwen-3-32b": 131_072,
    "qwen-3-235b-a22b": 131_072,
    "gpt-oss-120b": 131_072,
}


def context_length(model: str) -> int | None:
    """The model's context length in tokens, or None when it is not known here."""
    return KNOWN_CONTEXT_LENGTHS.get(model.strip())
