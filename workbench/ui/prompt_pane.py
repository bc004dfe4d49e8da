"""The prompt pane: a multi-line editor whose border title says which prompt form is active.

The three forms (text, batch, token ids) are parsed by :mod:`workbench.ui.prompt_forms`; a
prompt that cannot be sent (bad JSON token ids, an empty batch block) is flagged on the line
under the editor and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static, TextArea

from workbench.api.request import Prompt
from workbench.ui.key_hints import hint
from workbench.ui.prompt_forms import (
    FORM_TITLES,
    PROMPT_FORMS,
    ParsedPrompt,
    PromptForm,
    parse_prompt,
    prompt_to_text,
)


class PromptPane(Vertical):
    """The prompt editor plus its inline problem line."""

    DEFAULT_CSS = """
    PromptPane {
        height: auto;
        max-height: 50%;
    }
    PromptPane > TextArea {
        height: auto;
        min-height: 5;
        max-height: 14;
        border: round $primary 60%;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
    }
    PromptPane > TextArea:focus { border: round $primary; }
    PromptPane > .prompt-error { color: $text-error; display: none; padding: 0 1; }
    PromptPane > .prompt-error.-shown { display: block; }
    """

    HELP = """\
## Prompt

Write the prompt here; **{keys:send}** sends it (the later keys only where your terminal
delivers them). **{key:prompt_form}** switches the prompt form:

- *text*: the whole text is one prompt;
- *batch*: one prompt per block, blocks separated by a line holding only `---`;
- *token ids*: a JSON array `[1, 2, 3]`, or an array of arrays for a batch.

**{key:edit}** opens the prompt in `$EDITOR`.
"""

    @dataclass
    class FormChanged(Message):
        """The prompt form was switched (the status of the border title changed)."""

        pane: PromptPane
        form: PromptForm

    form: reactive[PromptForm] = reactive("text")
    """How the pane's text is read: one text, a ``---``-separated batch, or JSON token ids."""

    error: reactive[str | None] = reactive(None)
    """Why the current prompt cannot be sent (shown under the editor), or None."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.editor = TextArea(
            "", soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id="prompt-editor"
        )

    def compose(self) -> ComposeResult:
        yield self.editor
        yield Static("", classes="prompt-error")

    def on_mount(self) -> None:
        self._update_titles()

    @property
    def text(self) -> str:
        return self.editor.text

    @text.setter
    def text(self, value: str) -> None:
        self.editor.load_text(value)
        self.editor.move_cursor(self.editor.document.end)

    def parse(self) -> ParsedPrompt:
        """The prompt to send, flagging the pane when it cannot be sent."""
        parsed = parse_prompt(self.editor.text, self.form)
        self.error = parsed.error
        return parsed

    def show_error(self, message: str | None) -> None:
        self.error = message

    def load_prompt(self, prompt: Prompt) -> None:
        """Put a prompt (from a session, or *continue*) in the pane, in its own form."""
        text, form = prompt_to_text(prompt)
        self.form = form
        self.text = text

    def cycle_form(self) -> None:
        position = PROMPT_FORMS.index(self.form)
        self.form = PROMPT_FORMS[(position + 1) % len(PROMPT_FORMS)]

    def watch_form(self, form: PromptForm) -> None:
        self.error = None
        self._update_titles()
        self.post_message(self.FormChanged(self, form))

    def watch_error(self, error: str | None) -> None:
        line = self.query_one(".prompt-error", Static)
        line.update(Text("⚠ " + error) if error else "")
        line.set_class(bool(error), "-shown")

    def _update_titles(self) -> None:
        self.editor.border_title = FORM_TITLES[self.form]
        self.editor.border_subtitle = hint(
            self, "{key:send} send · {key:prompt_form} form · {key:edit} $EDITOR"
        )

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Editing clears a stale complaint; it is re-checked on the next send.
        if self.error:
            self.error = None
