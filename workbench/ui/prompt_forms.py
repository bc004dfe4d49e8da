"""The three ways to write a prompt in the prompt pane, and turning pane text into a prompt.

No Textual here, so the parser is tested on its own (with hypothesis for the round trip).

- ``text``: the pane's text is the prompt, as it is.
- ``batch``: one prompt per block; blocks are separated by a line holding only ``---``
  (surrounding spaces allowed). The separator is shown in the pane's border title.
- ``tokens``: a JSON array of token ids, or an array of token-id arrays (a batch).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from workbench.api.request import Prompt, prompt_kind

PromptForm = Literal["text", "batch", "tokens"]
PROMPT_FORMS: tuple[PromptForm, ...] = ("text", "batch", "tokens")
BATCH_SEPARATOR = "---"
_SEPARATOR_LINE = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)

FORM_TITLES: dict[PromptForm, str] = {
    "text": "Prompt · text",
    # Short enough to stay whole in the border at 80 columns.
    "batch": f"Prompt · batch · a '{BATCH_SEPARATOR}' line separates prompts",
    "tokens": "Prompt · token ids · [1, 2] or [[1, 2], [3]]",
}


@dataclass(frozen=True, slots=True)
class ParsedPrompt:
    """The prompt to send, or the reason nothing can be sent (shown inline under the pane)."""

    prompt: Prompt | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def split_batch(text: str) -> list[str]:
    """Blocks between separator lines, each without the newline that touched the separator."""
    blocks = _SEPARATOR_LINE.split(text)
    cleaned = []
    last = len(blocks) - 1
    for position, block in enumerate(blocks):
        if position > 0 and block.startswith("\n"):
            block = block[1:]
        if position < last and block.endswith("\n"):
            block = block[:-1]
        cleaned.append(block)
    return cleaned


def join_batch(prompts: list[str]) -> str:
    """The pane text for a batch (inverse of :func:`split_batch` for separator-free prompts)."""
    return f"\n{BATCH_SEPARATOR}\n".join(prompts)


def parse_prompt(text: str, form: PromptForm) -> ParsedPrompt:
    if form == "text":
        return ParsedPrompt(text)
    if form == "batch":
        blocks = split_batch(text)
        if len(blocks) == 1:
            # A batch of one is still a batch: the response carries one labelled choice.
            return ParsedPrompt(blocks)
        empty = [str(number) for number, block in enumerate(blocks, start=1) if not block.strip()]
        if empty:
            return ParsedPrompt(
                None, f"batch prompt {', '.join(empty)} is empty (remove the extra '---' line)"
            )
        return ParsedPrompt(blocks)
    return parse_token_ids(text)


def parse_token_ids(text: str) -> ParsedPrompt:
    """A JSON array of non-negative ints, or an array of such arrays; anything else is flagged."""
    stripped = text.strip()
    if not stripped:
        return ParsedPrompt(None, "token ids: write a JSON array such as [1, 2, 3]")
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as error:
        return ParsedPrompt(
            None,
            f"token ids: not valid JSON at line {error.lineno} column {error.colno} ({error.msg})",
        )
    kind = prompt_kind(value)
    if kind not in ("tokens", "token_batches"):
        return ParsedPrompt(
            None,
            "token ids: must be an array of whole numbers, or an array of such arrays "
            "(no strings, floats or mixing)",
        )
    flat = value if kind == "tokens" else [t for row in value for t in row]
    if any(t < 0 for t in flat):
        return ParsedPrompt(None, "token ids: must be 0 or more")
    if kind == "token_batches" and any(not row for row in value):
        return ParsedPrompt(None, "token ids: an inner array is empty")
    return ParsedPrompt(value)


def prompt_to_text(prompt: Prompt) -> tuple[str, PromptForm]:
    """Pane text and form for a prompt (loading a session, or *continue*)."""
    kind = prompt_kind(prompt)
    if kind == "text":
        return str(prompt), "text"
    if kind == "texts":
        return join_batch(list(prompt)), "batch"  # type: ignore[arg-type]
    return json.dumps(prompt), "tokens"


def prompt_labels(prompt: Prompt) -> list[str]:
    """One short display string per prompt of the request (for the transcript)."""
    kind = prompt_kind(prompt)
    if kind == "texts":
        return list(prompt)  # type: ignore[arg-type]
    if kind == "token_batches":
        return [json.dumps(row) for row in prompt]  # type: ignore[union-attr]
    if kind == "tokens":
        return [json.dumps(prompt)]
    return [str(prompt)]


def text_for_editor(text: str) -> str:
    """The pane text as written to the ``$EDITOR`` file: ending with a newline, as a text file
    should, so a line the user adds at the end does not join the last line."""
    return text if not text or text.endswith("\n") else text + "\n"


def text_from_editor(original: str, edited: str) -> str:
    """The edited file as pane text. The file's final newline is the one
    :func:`text_for_editor` wrote (or the one editors such as vi always add), not part of the
    prompt, unless the prompt itself ended with one."""
    if original.endswith("\n"):
        return edited
    if edited.endswith("\r\n") and not original.endswith("\r"):
        return edited[:-2]  # an editor that writes CRLF line ends
    return edited.removesuffix("\n")
