"""*Continue*: the prompt that asks the model to carry on where the last completion stopped.

No Textual here; the app passes in the prompt it sent and the text (or token ids) each
choice produced. The echo of the prompt is never part of ``outputs`` (the view keeps it apart),
so it is not appended twice.
"""

from __future__ import annotations

from workbench.api.request import Prompt, prompt_kind


def continued_prompt(
    prompt: Prompt,
    outputs: list[str],
    tokens: list[list[int] | None] | None = None,
) -> Prompt | None:
    """Each prompt with its first choice's output appended; None when that cannot be done
    (token-id prompts whose output came back as text: we have no tokenizer to re-encode it)."""
    kind = prompt_kind(prompt)
    if not outputs:
        return None
    if kind == "text":
        return str(prompt) + outputs[0]
    if kind == "texts":
        texts = list(prompt)  # type: ignore[arg-type]
        per_prompt = max(1, len(outputs) // len(texts))
        return [text + outputs[n * per_prompt] for n, text in enumerate(texts)]
    if tokens is None or any(t is None for t in tokens):
        return None
    if kind == "tokens":
        return list(prompt) + list(tokens[0] or [])  # type: ignore[arg-type]
    if kind == "token_batches":
        rows = list(prompt)  # type: ignore[arg-type]
        per_prompt = max(1, len(tokens) // len(rows))
        return [list(row) + list(tokens[n * per_prompt] or []) for n, row in enumerate(rows)]
    return None
