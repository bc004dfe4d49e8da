"""The parameter sidebar: every request field, checked as you type, with the rule shown inline.

The sidebar only turns widget values into a :class:`CompletionRequest`; the rules themselves
live in ``CompletionRequest.validate()`` so the sidebar, the config file and the CLI agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static, Switch

from workbench.api.request import (
    GRAMMAR_ROOTS,
    MAX_LOGPROBS,
    MAX_STOP_SEQUENCES,
    SEED_MODELS,
    CompletionRequest,
    FieldError,
    Prompt,
)

# What "reset to defaults" goes back to when the config file sets nothing.
BUILTIN_DEFAULTS: dict[str, Any] = {"stream": True, "max_tokens": 256}

# Every request field the sidebar edits, in the order it shows them.
FIELD_NAMES = (
    "model",
    "stream",
    "echo",
    "return_raw_tokens",
    "max_tokens",
    "min_tokens",
    "temperature",
    "top_p",
    "seed",
    "stop",
    "grammar_root",
    "user",
    "logprobs",
)
SWITCH_FIELDS = ("stream", "echo", "return_raw_tokens")
INT_FIELDS = ("max_tokens", "min_tokens", "seed", "logprobs")
FLOAT_FIELDS = ("temperature", "top_p")
TEXT_FIELDS = ("user",)
# One-line rule shown as each field's tooltip (the inline error repeats the broken one).
FIELD_HELP: dict[str, str] = {
    "model": "model id; type freely or pick one listed by /v1/models",
    "stream": "stream tokens as they are generated (SSE)",
    "echo": "prepend the prompt to the output (not with return_raw_tokens)",
    "return_raw_tokens": "return token ids instead of text (not with echo)",
    "max_tokens": "whole number ≥ 1; empty = server default",
    "min_tokens": "-1 (fill to max length), 0 or more; ≤ max_tokens",
    "temperature": "0 – 1.5",
    "top_p": "0 – 1",
    "seed": "whole number (signed 64-bit); best-effort determinism",
    "stop": f"up to {MAX_STOP_SEQUENCES} stop sequences, not included in the output; "
    "\\n is a newline, \\t a tab, \\\\ a backslash",
    "grammar_root": "structured-output root rule",
    "user": "end-user id",
    "logprobs": f"whole number 0 – {MAX_LOGPROBS}: top alternatives per token",
}


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_UNESCAPES = {value: "\\" + key for key, value in _ESCAPES.items()}


def decode_escapes(text: str) -> str:
    """A one-line field's ``\\n``, ``\\t``, ``\\r`` and ``\\\\`` as the characters they name
    (a stop sequence is often a blank line, which a one-line input cannot hold)."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def encode_escapes(text: str) -> str:
    """Inverse of :func:`decode_escapes`, for showing a saved stop sequence in its field."""
    return "".join(_UNESCAPES.get(char, char) for char in text)


class ParameterSidebar(VerticalScroll):
    """All request fields; posts :class:`ParameterSidebar.Changed` whenever a value changes."""

    DEFAULT_CSS = """
    ParameterSidebar {
        width: 34;
        padding: 0 1;
        border-left: solid $primary 40%;
        scrollbar-size-vertical: 1;
    }
    ParameterSidebar .field { height: auto; margin: 0 0 1 0; }
    ParameterSidebar .field-name { color: $text-muted; }
    ParameterSidebar .switch-row { height: 1; margin: 0; }
    ParameterSidebar .switch-row Label { padding: 0 0 0 1; }
    ParameterSidebar Switch { border: none; height: 1; padding: 0; width: 6; }
    ParameterSidebar Switch:focus { border: none; background-tint: $foreground 10%; }
    ParameterSidebar Input { width: 1fr; }
    ParameterSidebar .field-error { color: $text-error; display: none; height: auto; }
    ParameterSidebar .field-error.-shown { display: block; }
    ParameterSidebar .sidebar-title { text-style: bold; color: $text-primary; }
    ParameterSidebar #models-note { color: $text-muted; }
    """

    HELP = """\
## Parameters

Every field of the completion request. Empty means "not sent" (the server's default).
A broken rule is shown under the field in red and sending is refused until it is fixed.
**{key:reset_parameters}** resets every field to the defaults from the config file.
"""

    @dataclass
    class Changed(Message):
        """A value changed; ``errors`` are the sidebar's current field errors."""

        sidebar: ParameterSidebar
        errors: list[FieldError]

    models: reactive[tuple[str, ...]] = reactive(SEED_MODELS, init=False)
    """Model ids offered for completion (live from /v1/models; the seed list until then)."""

    models_live: reactive[bool] = reactive(False, init=False)
    """True once the list came from the server rather than the offline fallback."""

    def __init__(self, defaults: dict[str, Any] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.defaults = {**BUILTIN_DEFAULTS, **(defaults or {})}
        self._suggester = SuggestFromList(SEED_MODELS, case_sensitive=False)
        self._filling = False

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Parameters", classes="sidebar-title")
        with Vertical(classes="field", id="field-model"):
            yield Label("model", classes="field-name")
            yield Input(id="model", compact=True, suggester=self._suggester, placeholder="model id")
            yield Select(
                [(m, m) for m in SEED_MODELS], id="model-list", compact=True, prompt="pick a model…"
            )
            yield Static("offline list", id="models-note")
            yield Static("", classes="field-error", id="error-model")
        for name in SWITCH_FIELDS:
            with Vertical(classes="field", id=f"field-{name}"):
                with Horizontal(classes="switch-row"):
                    yield Switch(id=name, tooltip=FIELD_HELP[name])
                    yield Label(name)
                yield Static("", classes="field-error", id=f"error-{name}")
        for name in (*INT_FIELDS[:2], *FLOAT_FIELDS, "seed"):
            yield from self._input_field(name)
        with Vertical(classes="field", id="field-stop"):
            yield Label(f"stop (≤ {MAX_STOP_SEQUENCES})", classes="field-name")
            for number in range(MAX_STOP_SEQUENCES):
                hint = "  (\\n = newline)" if number == 0 else ""
                yield Input(
                    id=f"stop-{number}", compact=True, placeholder=f"stop {number + 1}{hint}"
                )
            yield Static("", classes="field-error", id="error-stop")
        with Vertical(classes="field", id="field-grammar_root"):
            yield Label("grammar_root", classes="field-name")
            yield Select(
                [(root, root) for root in GRAMMAR_ROOTS],
                id="grammar_root",
                compact=True,
                prompt="(none)",
            )
            yield Static("", classes="field-error", id="error-grammar_root")
        for name in ("user", "logprobs"):
            yield from self._input_field(name)

    def _input_field(self, name: str) -> ComposeResult:
        with Vertical(classes="field", id=f"field-{name}"):
            yield Label(name, classes="field-name")
            yield Input(id=name, compact=True, placeholder="(not sent)", tooltip=FIELD_HELP[name])
            yield Static("", classes="field-error", id=f"error-{name}")

    def on_mount(self) -> None:
        for name, help_text in FIELD_HELP.items():
            for widget in self.query(f"#field-{name} .field-name"):
                widget.tooltip = help_text
        self.reset()

    # -- values -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Every field back to the defaults (config ``[defaults]`` over the built-in ones)."""
        self.fill(self.defaults)

    def fill(self, values: dict[str, Any]) -> None:
        """Set the fields from request values (None/missing = empty); used by reset and loading."""
        self._filling = True
        try:
            self.query_one("#model", Input).value = str(values.get("model") or "")
            for name in SWITCH_FIELDS:
                self.query_one(f"#{name}", Switch).value = bool(values.get(name))
            for name in (*INT_FIELDS, *FLOAT_FIELDS, *TEXT_FIELDS):
                value = values.get(name)
                self.query_one(f"#{name}", Input).value = "" if value is None else str(value)
            stop = values.get("stop")
            stops = [stop] if isinstance(stop, str) else list(stop or [])
            for number in range(MAX_STOP_SEQUENCES):
                text = stops[number] if number < len(stops) else ""
                self.query_one(f"#stop-{number}", Input).value = encode_escapes(text)
            root = values.get("grammar_root")
            select = self.query_one("#grammar_root", Select)
            if root in GRAMMAR_ROOTS:
                select.value = root
            else:
                select.clear()
        finally:
            self._filling = False
        self.check()

    @property
    def model(self) -> str:
        return self.query_one("#model", Input).value.strip()

    def read_fields(self) -> tuple[dict[str, Any], list[FieldError]]:
        """The request fields the widgets hold, plus errors for text that is not a number."""
        values: dict[str, Any] = {"model": self.model}
        errors: list[FieldError] = []
        for name in SWITCH_FIELDS:
            on_ = self.query_one(f"#{name}", Switch).value
            # stream is always sent (true or false); echo/raw only when switched on.
            values[name] = on_ if name == "stream" else (True if on_ else None)
        for name in INT_FIELDS:
            text = self.query_one(f"#{name}", Input).value.strip()
            if text:
                try:
                    values[name] = int(text)
                except ValueError:
                    errors.append(FieldError(name, "must be a whole number"))
        for name in FLOAT_FIELDS:
            text = self.query_one(f"#{name}", Input).value.strip()
            if text:
                try:
                    values[name] = float(text)
                except ValueError:
                    errors.append(FieldError(name, "must be a number"))
        user = self.query_one("#user", Input).value
        values["user"] = user or None
        stops = [self.query_one(f"#stop-{n}", Input).value for n in range(MAX_STOP_SEQUENCES)]
        stops = [decode_escapes(s) for s in stops if s]
        values["stop"] = stops or None
        root = self.query_one("#grammar_root", Select).value
        values["grammar_root"] = root if isinstance(root, str) else None
        return values, errors

    def build_request(self, prompt: Prompt) -> tuple[CompletionRequest, list[FieldError]]:
        """The request for ``prompt`` and every broken rule (shown inline as a side effect)."""
        values, errors = self.read_fields()
        request = CompletionRequest(prompt=prompt)
        for name, value in values.items():
            setattr(request, name, value)
        unparsable = {error.field for error in errors}
        errors += [e for e in request.validate() if e.field not in unparsable]
        self.show_errors(errors)
        return request, errors

    def check(self) -> list[FieldError]:
        """Validate the fields alone (the prompt is the prompt pane's business)."""
        if self._filling:
            return []
        _, errors = self.build_request("")
        errors = [e for e in errors if e.field != "prompt"]
        self.post_message(self.Changed(self, errors))
        return errors

    def show_errors(self, errors: list[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        for error in errors:
            by_field.setdefault(error.field, []).append(error.message)
            if error.field == "echo" and "return_raw_tokens" in error.message:
                # A conflict belongs to both switches: say so on each.
                by_field.setdefault("return_raw_tokens", []).append(
                    "conflicts with echo: switch one off"
                )
        for widget in self.query(".field-error"):
            name = (widget.id or "").removeprefix("error-")
            messages = by_field.get(name)
            widget.update(Text("⚠ " + "; ".join(messages)) if messages else "")
            widget.set_class(bool(messages), "-shown")

    # -- events -------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Switch.Changed)
    def _value_changed(self, event: Message) -> None:
        event.stop()
        self.check()

    @on(Select.Changed, "#grammar_root")
    def _root_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.check()

    @on(Select.Changed, "#model-list")
    def _model_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self.query_one("#model", Input).value = event.value

    def set_models(self, models: tuple[str, ...], *, live: bool) -> None:
        """Offer these models (fills an empty model field with the first)."""
        self.models = models
        self.models_live = live
        self.watch_models(models)
        self.watch_models_live(live)

    def watch_models(self, models: tuple[str, ...]) -> None:
        self._suggester = SuggestFromList(models, case_sensitive=False)
        model_input = self.query_one("#model", Input)
        model_input.suggester = self._suggester
        self.query_one("#model-list", Select).set_options([(m, m) for m in models])
        if not model_input.value and models:
            model_input.value = models[0]

    def watch_models_live(self, live: bool) -> None:
        note = f"{len(self.models)} models from /v1/models" if live else "offline list"
        self.query_one("#models-note", Static).update(note)
