"""The parameter sidebar: every request field, checked as you type, with the rule shown inline.

The widgets are generated from the field registry (:data:`workbench.api.fields.FIELDS`): one
:class:`FieldEditor` per field, its widgets chosen by the field's kind (toggle → switch,
int/float/text → input, choice → select, list → one input per item). A new request parameter
therefore needs nothing here. The sidebar only turns widget values into a
:class:`CompletionRequest`; the rules live in ``CompletionRequest.validate()`` so the sidebar,
the config file and the CLI agree.

The app talks to the sidebar through its methods (``fill``, ``reset``, ``build_request``,
``reveal_field``, ``show_server_error``, ``set_models`` …) and its :class:`ParameterSidebar.Changed`
message, never through the ids of the widgets inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from workbench.api.fields import (
    BUILTIN_DEFAULTS,
    FIELDS,
    FieldSpec,
    FieldValueError,
    decode_escapes,
    encode_escapes,
    parse_text,
)
from workbench.api.request import SEED_MODELS, CompletionRequest, FieldError, Prompt

NOT_SENT = "(not sent)"


def _tipped(widget: Widget, tooltip: str) -> Widget:
    """``widget`` with a tooltip (Label takes none in its constructor)."""
    widget.tooltip = tooltip
    return widget


def _rule_text(spec: FieldSpec, error: FieldValueError) -> str:
    """A parse error as shown under its field (the field's name is already above it)."""
    return str(error).removeprefix(f"{spec.name}: ")


class FieldEditor(Vertical):
    """One request field: its name, the widget(s) its kind calls for, and its error line.

    Subclasses per kind implement :meth:`read` and :meth:`fill`; the sidebar only calls those.
    """

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(classes="field", id=f"field-{spec.name}")
        self.spec = spec
        self._shown_error = ""

    def compose_label(self, text: str | None = None) -> ComposeResult:
        yield _tipped(Label(text or self.spec.name, classes="field-name"), self.spec.help)

    def compose_error(self) -> ComposeResult:
        yield Static("", classes="field-error", id=f"error-{self.spec.name}")

    def read(self) -> tuple[Any, str | None]:
        """The field's value (None: not sent) and why the typed text cannot be used, if so."""
        raise NotImplementedError

    def fill(self, value: Any) -> None:
        """Show ``value`` (a request value; None = empty)."""
        raise NotImplementedError

    @property
    def first_control(self) -> Widget:
        """The widget focus goes to when this field is revealed."""
        raise NotImplementedError

    def show_errors(self, messages: list[str]) -> bool:
        """Show the broken rules under the field (none: hide the line); True when they changed."""
        text = "⚠ " + "; ".join(messages) if messages else ""
        if text == self._shown_error:
            return False
        self._shown_error = text
        line = self.query_one(".field-error", Static)
        line.update(Text(text))
        line.set_class(bool(messages), "-shown")
        return True

    @property
    def error_text(self) -> str:
        """The rule shown under the field ('' when none)."""
        return self._shown_error


class ToggleEditor(FieldEditor):
    """A switch. A field with a default (``stream``) is always sent, true or false, so it can be
    switched off; the others are sent only when on (off means "the server's default")."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="switch-row"):
            yield Switch(id=self.spec.name, tooltip=self.spec.help)
            yield _tipped(Label(self.spec.name), self.spec.help)
        yield from self.compose_error()

    @property
    def switch(self) -> Switch:
        return self.query_one(Switch)

    def read(self) -> tuple[Any, str | None]:
        on_ = self.switch.value
        if self.spec.default is not None:
            return on_, None
        return (True if on_ else None), None

    def fill(self, value: Any) -> None:
        self.switch.value = bool(value)

    @property
    def first_control(self) -> Widget:
        return self.switch


class TextEditor(FieldEditor):
    """One input for an int, float or text field, parsed by the registry's ``parse_text``."""

    placeholder = NOT_SENT

    def compose(self) -> ComposeResult:
        yield from self.compose_label()
        yield Input(
            id=self.spec.name, compact=True, placeholder=self.placeholder, tooltip=self.spec.help
        )
        yield from self.compose_error()

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def read(self) -> tuple[Any, str | None]:
        try:
            return parse_text(self.spec, self.input.value), None
        except FieldValueError as error:
            return None, _rule_text(self.spec, error)

    def fill(self, value: Any) -> None:
        show_start(self.input, "" if value is None else str(value))

    @property
    def first_control(self) -> Widget:
        return self.input


class ChoiceEditor(FieldEditor):
    """A select of the field's choices; the blank entry means "not sent"."""

    def compose(self) -> ComposeResult:
        yield from self.compose_label()
        yield Select(
            [(choice, choice) for choice in self.spec.choices],
            id=self.spec.name,
            compact=True,
            prompt="(none)",
            tooltip=self.spec.help,
        )
        yield from self.compose_error()

    @property
    def select(self) -> Select[str]:
        return self.query_one(Select)

    def read(self) -> tuple[Any, str | None]:
        value = self.select.value
        return (value if isinstance(value, str) else None), None

    def fill(self, value: Any) -> None:
        if isinstance(value, str) and value in self.spec.choices:
            self.select.value = value
        else:
            self.select.clear()

    @property
    def first_control(self) -> Widget:
        return self.select


class ListEditor(FieldEditor):
    """One input per item (``max_items`` of them), escapes such as ``\\n`` decoded.

    Each input is one item as typed, not ``parse_text``'s "one item or a JSON array": ``[INST]``
    is a common stop sequence, not an array.
    """

    def compose(self) -> ComposeResult:
        count = self.spec.max_items or 1
        yield from self.compose_label(f"{self.spec.name} (≤ {count})")
        for number in range(count):
            hint = "  (\\n = newline)" if number == 0 else ""
            yield Input(
                id=f"{self.spec.name}-{number}",
                compact=True,
                placeholder=f"{self.spec.name} {number + 1}{hint}",
                tooltip=self.spec.help,
            )
        yield from self.compose_error()

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        # Items beyond the boxes (a hand-edited session): still read, so validation names the
        # excess instead of the sidebar dropping them; gone once the user edits a box.
        self._overflow: list[str] = []

    @property
    def inputs(self) -> list[Input]:
        return list(self.query(Input))

    def read(self) -> tuple[Any, str | None]:
        items = [decode_escapes(box.value) for box in self.inputs if box.value]
        items += self._overflow
        return (items or None), None

    def fill(self, value: Any) -> None:
        items = [value] if isinstance(value, str) else list(value or [])
        boxes = self.inputs
        for number, box in enumerate(boxes):
            show_start(box, encode_escapes(items[number]) if number < len(items) else "")
        self._overflow = items[len(boxes) :]

    def on_input_changed(self, event: Input.Changed) -> None:
        # Not stopped: the sidebar re-checks on every change.
        if self._overflow and event.input.has_focus:
            self._overflow = []

    @property
    def first_control(self) -> Widget:
        return self.inputs[0]


class ModelEditor(TextEditor):
    """The model id: free text with completion from the model list, a picker, and a note
    saying where the list came from."""

    placeholder = "model id"

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.models: tuple[str, ...] = SEED_MODELS
        self.models_live = False
        self.models_problem: str | None = None
        self._syncing = False

    def compose(self) -> ComposeResult:
        yield from self.compose_label()
        yield Input(
            id=self.spec.name,
            compact=True,
            placeholder=self.placeholder,
            tooltip=self.spec.help,
            suggester=SuggestFromList(self.models, case_sensitive=False),
            # Focus leaves the cursor at the start: a model id is read from its start (with the
            # whole id selected, the cursor cell after it scrolled the first letter away), and
            # a stray key after f6 does not wipe it.
            select_on_focus=False,
        )
        yield Select(
            [(m, m) for m in self.models], id="model-list", compact=True, prompt="pick a model…"
        )
        yield Static(self._note(), classes="models-note")
        yield from self.compose_error()

    def read(self) -> tuple[Any, str | None]:
        # A model id never has meaningful spaces around it; a pasted one often does.
        return self.input.value.strip(), None

    @property
    def picker(self) -> Select[str]:
        return self.query_one("#model-list", Select)

    def set_models(self, models: tuple[str, ...], *, live: bool) -> None:
        self.models = models
        self.models_live = live
        self.models_problem = None
        self.input.suggester = SuggestFromList(models, case_sensitive=False)
        with self.prevent(Select.Changed):
            self.picker.set_options([(m, m) for m in models])
        self._update_note()

    def set_models_problem(self, reason: str) -> None:
        self.models_problem = reason
        self._update_note()

    def _note(self) -> str:
        if self.models_live:
            return f"{len(self.models)} models from /v1/models"
        if self.models_problem:
            reason = self.models_problem
            if len(reason) > 80:
                reason = reason[:79].rstrip() + "…"
            return f"offline list ({reason})"
        return "offline list"

    def _update_note(self) -> None:
        self.query_one(".models-note", Static).update(Text(self._note()))

    @on(Select.Changed, "#model-list")
    def _picked(self, event: Select.Changed) -> None:
        """A pick goes into the model field and the picker goes back to "pick a model…": the
        field above is the one place the model is shown, so the picker can never show a stale
        one (a model picked before a session was opened)."""
        event.stop()
        if isinstance(event.value, str):
            if event.value != self.input.value:
                show_start(self.input, event.value)
            with self.prevent(Select.Changed):
                self.picker.clear()


def show_start(box: Input, value: str) -> None:
    """Set an input's text with the cursor at its start, so a value wider than the box shows
    its beginning (a long model id otherwise loses its first letter to the cursor cell)."""
    box.value = value
    box.cursor_position = 0


def editor_for(spec: FieldSpec) -> FieldEditor:
    """The editor for one registry field, chosen by its kind."""
    if spec.name == "model":
        return ModelEditor(spec)
    if spec.kind == "toggle":
        return ToggleEditor(spec)
    if spec.kind == "choice":
        return ChoiceEditor(spec)
    if spec.kind == "list":
        return ListEditor(spec)
    return TextEditor(spec)


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
    ParameterSidebar .field-error {
        color: $text-error;
        display: none;
        width: 1fr;
        height: auto;
        text-wrap: wrap;
    }
    ParameterSidebar .field-error.-shown { display: block; }
    ParameterSidebar .sidebar-title { text-style: bold; color: $text-primary; }
    ParameterSidebar .models-note { color: $text-muted; }
    """

    HELP = """\
## Parameters

Every field of the completion request. Empty means "not sent" (the server's default).
A broken rule is shown under the field in red and sending is refused until it is fixed.
**ctrl+r** resets every field to the defaults from the config file.
"""

    @dataclass
    class Changed(Message):
        """A value changed; ``errors`` are the sidebar's current field errors."""

        sidebar: ParameterSidebar
        errors: list[FieldError]

        @property
        def control(self) -> ParameterSidebar:
            """The sidebar that changed (alias of ``sidebar``, as in Textual's own messages)."""
            return self.sidebar

    def __init__(self, defaults: dict[str, Any] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.defaults: dict[str, Any] = {**BUILTIN_DEFAULTS, **(defaults or {})}
        """What "reset" goes back to: config ``[defaults]`` over the registry's defaults."""
        self.editors: dict[str, FieldEditor] = {spec.name: editor_for(spec) for spec in FIELDS}
        """One editor per registry field, by field name, in the registry's order."""

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Parameters", classes="sidebar-title")
        yield from self.editors.values()

    def on_mount(self) -> None:
        self.reset()
        for select in self.query(Select):
            self.watch(select, "expanded", partial(self._fit_open_list, select), init=False)

    def _fit_open_list(self, select: Select[str], expanded: bool) -> None:
        """An open list stays inside the sidebar: the select is scrolled up as far as it goes,
        and the list is no taller than the room left under it (it used to draw over the status
        bar and the footer)."""
        if not expanded:
            return
        self.scroll_to_widget(select, top=True, animate=False)

        def fit() -> None:
            room = self.region.bottom - select.region.bottom
            for overlay in select.query("SelectOverlay"):
                overlay.styles.max_height = max(3, min(12, room))

        self.call_after_refresh(fit)

    @property
    def _model_editor(self) -> ModelEditor:
        editor = self.editors["model"]
        assert isinstance(editor, ModelEditor)
        return editor

    # -- values -------------------------------------------------------------------------------

    @property
    def default_model(self) -> str:
        """The model reset goes back to: the configured one, else the first model listed."""
        configured = self.defaults.get("model")
        if configured:
            return str(configured)
        models = self._model_editor.models
        return models[0] if models else self.model

    def reset(self) -> None:
        """Every field back to the defaults (config ``[defaults]`` over the built-in ones); the
        model too, so the request can be sent at once."""
        self.fill({**self.defaults, "model": self.default_model})

    def fill(self, values: dict[str, Any]) -> None:
        """Set every field from request values (missing = empty); used by reset and loading."""
        for name, editor in self.editors.items():
            editor.fill(values.get(name))
        self.check()

    def show_request(self, request: CompletionRequest) -> None:
        """Show ``request``'s parameters (loading a session): what the next send will use."""
        self.fill({name: getattr(request, name) for name in self.editors})

    @property
    def model(self) -> str:
        return self._model_editor.read()[0]

    def read_fields(self) -> tuple[dict[str, Any], list[FieldError]]:
        """The request fields the widgets hold, plus errors for text that cannot be parsed."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name, editor in self.editors.items():
            value, problem = editor.read()
            if problem is not None:
                errors.append(FieldError(name, problem))
            else:
                values[name] = value
        return values, errors

    def build_request(self, prompt: Prompt) -> tuple[CompletionRequest, list[FieldError]]:
        """The request for ``prompt`` and every broken rule (shown inline as a side effect)."""
        values, errors = self.read_fields()
        request = CompletionRequest(prompt=prompt, **values)
        unparsable = {error.field for error in errors}
        errors += [e for e in request.validate() if e.field not in unparsable]
        self.show_errors(errors)
        return request, errors

    def check(self) -> list[FieldError]:
        """Validate the fields alone (the prompt is the prompt pane's business)."""
        _, errors = self.build_request("")
        errors = [e for e in errors if e.field != "prompt"]
        self.post_message(self.Changed(self, errors))
        return errors

    def show_errors(self, errors: Iterable[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        for error in errors:
            by_field.setdefault(error.field, []).append(error.message)
            if error.field == "echo" and "return_raw_tokens" in error.message:
                # A conflict belongs to both switches: say so on each.
                by_field.setdefault("return_raw_tokens", []).append(
                    "conflicts with echo: switch one off"
                )
        for name, editor in self.editors.items():
            if editor.show_errors(by_field.get(name, [])) and editor.has_focus_within:
                # The rule just appeared (or grew) under the field being edited: keep all of it
                # in sight, not cut off at the sidebar's bottom edge.
                self.call_after_refresh(self.scroll_to_widget, editor, animate=False)

    def show_server_error(self, field: str | None, message: str) -> bool:
        """Mark ``field`` with a rule the server gave (a 400 naming it); False when the name
        is not a field shown here."""
        if field not in self.editors:
            return False
        self.show_errors([FieldError(field, f"server: {message}")])
        return True

    def error_text(self, field: str) -> str:
        """The rule shown under ``field`` ('' when none)."""
        return self.editors[field].error_text

    # -- focus --------------------------------------------------------------------------------

    @property
    def first_control(self) -> Widget:
        """Where focus lands when the sidebar is entered (the model field)."""
        return next(iter(self.editors.values())).first_control

    def focus_first_field(self) -> None:
        self.first_control.focus()

    def reveal_field(self, field: str) -> None:
        """Show the sidebar and put focus on ``field``, scrolled so the field and its rule show."""
        editor = self.editors.get(field)
        if editor is None:
            return
        self.display = True
        editor.first_control.focus(scroll_visible=False)
        # After the error lines have their height, so the field and its rule both show.
        self.call_after_refresh(self.scroll_to_widget, editor, animate=False)

    # -- models -------------------------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        """Model ids offered for completion (live from /v1/models; the seed list until then)."""
        return self._model_editor.models

    @property
    def models_live(self) -> bool:
        """True once the list came from the server rather than the offline fallback."""
        return self._model_editor.models_live

    def set_models(self, models: tuple[str, ...], *, live: bool) -> None:
        """Offer these models (fills an empty model field with the first)."""
        editor = self._model_editor
        editor.set_models(models, live=live)
        if not editor.input.value.strip() and models:
            show_start(editor.input, models[0])

    def models_unavailable(self, reason: str) -> None:
        """The live list could not be fetched: the note under the model says why."""
        self._model_editor.set_models_problem(reason)

    # -- events -------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def _value_changed(self, event: Message) -> None:
        event.stop()
        self.check()
