"""How many tokens the prompt in the pane is, and how much of the model's context the request
would take (prompt + max_tokens) — counted before sending. No Textual here.

The count is exact when the endpoint has a tokenizer (``CompletionClient.tokenize``: the
simulator's and llama.cpp's ``/tokenize``) or the prompt is token ids; otherwise it is an
estimate from the characters, always shown as "≈N".
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from workbench.api.model_context import context_length
from workbench.api.request import prompt_kind
from workbench.ui.prompt_forms import PromptForm, parse_prompt

# English text runs about 4 characters a token with Llama and Qwen tokenizers.
CHARS_PER_TOKEN = 4.0
# A batch of more prompts than this is estimated rather than sent to the tokenizer one by one.
MAX_TOKENIZE_CALLS = 8
# Longer text is estimated: a tokenizer round trip for megabytes would not be "while typing".
MAX_TOKENIZE_CHARS = 200_000

Tokenizer = Callable[[str], "Awaitable[list[int] | None] | list[int] | None"]
"""``CompletionClient.tokenize``: token ids of a text, or None when the endpoint has no
tokenizer. Awaitable or plain."""


@dataclass(frozen=True, slots=True)
class PromptDraft:
    """What the next send would use, as far as the gauge is concerned."""

    text: str
    form: PromptForm
    model: str
    max_tokens: int | None


@dataclass(frozen=True, slots=True)
class PromptCount:
    """Tokens of the longest prompt (in a batch, each prompt must fit on its own)."""

    tokens: int
    exact: bool
    prompts: int = 1


@dataclass(frozen=True, slots=True)
class Gauge:
    text: str
    short: str
    over: bool
    """True when prompt + max_tokens exceeds the model's known context."""
    tooltip: str


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


async def _exact(text: str, tokenizer: Tokenizer | None) -> int | None:
    if not text:
        return 0
    if tokenizer is None or len(text) > MAX_TOKENIZE_CHARS:
        return None
    try:
        result = tokenizer(text)
        if inspect.isawaitable(result):
            result = await result
    except Exception:  # noqa: BLE001 - any failure means "estimate"; sending will tell the truth
        return None
    return len(result) if isinstance(result, list) else None


async def count_prompt(draft: PromptDraft, tokenizer: Tokenizer | None) -> PromptCount | None:
    """The draft's token count (None when the pane holds no sendable prompt)."""
    # Off the UI thread: a pasted megabyte of token ids is a JSON parse of some milliseconds.
    parsed = await asyncio.to_thread(parse_prompt, draft.text, draft.form)
    if not parsed.ok or parsed.prompt is None:
        return None
    prompt = parsed.prompt
    kind = prompt_kind(prompt)
    if kind == "tokens":
        return PromptCount(len(prompt), exact=True)  # type: ignore[arg-type]
    if kind == "token_batches":
        return PromptCount(max(len(row) for row in prompt), exact=True, prompts=len(prompt))  # type: ignore[union-attr]
    texts = [prompt] if kind == "text" else list(prompt)  # type: ignore[list-item]
    counts: list[int] = []
    exact = len(texts) <= MAX_TOKENIZE_CALLS
    for text in texts:
        count = await _exact(str(text), tokenizer) if exact else None
        if count is None:
            exact = False
            break
        counts.append(count)
    if not exact:
        counts = [estimate_tokens(str(text)) for text in texts]  # len() only: cheap
    return PromptCount(max(counts, default=0), exact=exact, prompts=len(texts))


def gauge(count: PromptCount, draft: PromptDraft) -> Gauge:
    """The status bar's words for ``count``: tokens, the share of the context, a warning."""
    approx = "" if count.exact else "≈"
    tokens = f"{approx}{count.tokens:,} tok"
    how = "counted by the endpoint's tokenizer" if count.exact else (
        f"an estimate (about {CHARS_PER_TOKEN:g} characters a token): the endpoint has no tokenizer"
    )
    batch = f" (longest of {count.prompts} prompts)" if count.prompts > 1 else ""
    tooltip = f"Prompt: {count.tokens:,} tokens{batch}, {how}."
    context = context_length(draft.model)
    if context is None:
        return Gauge(tokens, tokens, False, tooltip + f" Context of {draft.model or 'the model'} unknown.")
    needed = count.tokens + (draft.max_tokens or 0)
    share = needed / context
    tooltip += f" Prompt + max_tokens = {needed:,} of the {context:,}-token context of {draft.model}."
    if needed > context:
        reserve = f" + {draft.max_tokens:,}" if draft.max_tokens else ""
        return Gauge(
            f"⚠ {tokens}{reserve} > {context:,} context",
            f"⚠ {approx}{needed:,}>{context:,}",
            True,
            tooltip + " Shorten the prompt or lower max_tokens.",
        )
    return Gauge(f"{tokens} · ctx {share:.0%}", tokens, False, tooltip)
