"""The prompt pane: a multi-line editor whose border title says which prompt form is active.

The three forms (text, batch, token ids) are parsed by :mod:`workbench.ui.prompt_forms`; a
prompt that cannot be sent (bad JSON token ids, an empty batch block) is flagged on the line
under the editor and nothing is sent. alt+up / alt+down recall earlier prompts
(:mod:`workbench.ui.prompt_history`): those sent in this run and of the session opened first,
then those of recent session files, read off the UI thread the first time they are needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any, Callable, ClassVar, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static, TextArea
from textual.worker import Worker, WorkerState

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
from workbench.ui.prompt_history import PromptHistory

HISTORY_GROUP = "prompt-history"


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

**{key:edit}** opens the prompt in `$EDITOR`. **{key:prompt.history_previous}** /
**{key:prompt.history_next}** recall earlier prompts
(this session's, then those of recent sessions); past the newest, your draft comes back.
"""

    @dataclass
    class FormChanged(Message):
        """The prompt form was switched (the border title says which form is active)."""

        pane: PromptPane
        form: PromptForm

        @property
        def control(self) -> PromptPane:
            return self.pane

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "alt+up", "history_previous", "Earlier prompt", show=False, id="prompt.history_previous"
        ),
        Binding("alt+down", "history_next", "Later prompt", show=False, id="prompt.history_next"),
    ]

    form: reactive[PromptForm] = reactive("text")
    """How the pane's text is read: one text, a ``---``-separated batch, or JSON token ids."""

    error: reactive[str | None] = reactive(None)
    """Why the current prompt cannot be sent (shown under the editor), or None."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.editor = TextArea(
            "", soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id="prompt-editor"
        )
        self.history = PromptHistory()
        """Earlier prompts, recalled by the history_previous / history_next actions."""
        self.older_prompts: Callable[[], Iterable[Prompt]] | None = None
        """Reads prompts of earlier sessions, oldest first (blocking: run in a thread, once)."""
        self._older_requested = False
        self._step_back_when_loaded = False

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

    # -- history ------------------------------------------------------------------------------

    def remember(self, prompt: Prompt) -> None:
        """A prompt was sent (or belongs to the session just opened): it is the newest entry."""
        self.history.add(prompt)

    def action_history_previous(self) -> None:
        prompt = self.history.previous((self.text, self.form))
        if prompt is not None:
            self.load_prompt(prompt)
            return
        if self.older_prompts is not None and not self._older_requested:
            # Nothing older in memory: read earlier sessions once, off the UI thread, and take
            # the step when they arrive.
            self._older_requested = True
            self._step_back_when_loaded = True
            self.run_worker(
                self.older_prompts, thread=True, group=HISTORY_GROUP, exit_on_error=False
            )
            return
        self.app.bell()

    def action_history_next(self) -> None:
        browsing, entry = self.history.next()
        if not browsing:
            self.app.bell()
            return
        if isinstance(entry, tuple):  # the draft: (text, form) as it was
            text, form = entry
            self.form = form
            self.text = text
        else:
            self.load_prompt(entry)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker: Worker[Any] = event.worker
        if worker.group != HISTORY_GROUP:
            return
        event.stop()
        if event.state == WorkerState.SUCCESS:
            self.history.add_older(worker.result or ())
        elif event.state == WorkerState.ERROR:
            self.notify(
                f"Earlier prompts not read: {worker.error}", severity="warning", markup=False
            )
        else:
            return
        if self._step_back_when_loaded:
            self._step_back_when_loaded = False
            self.action_history_previous()

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
