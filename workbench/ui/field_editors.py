"""One editor widget per request field, chosen by the field's kind in the registry.

toggle → switch, int/float/text → input (parsed by :func:`workbench.api.fields.parse_text`),
choice → select, list → one input per item; the model gets its own editor with the model list.
Each editor reads and fills its value and shows its rules; :mod:`workbench.ui.sidebar` lays
them out and turns their values into a request.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widget import AwaitMount, Widget
from textual.widgets import Input, Label, Select, Static, Switch

from workbench.api.fields import (
    FieldSpec,
    FieldValueError,
    decode_escapes,
    encode_escapes,
    parse_text,
)
from workbench.api.request import SEED_MODELS

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

    Subclasses per kind implement :meth:`read_widgets`, :meth:`show_value` and
    :meth:`value_shown`; the sidebar only calls :meth:`read` and :meth:`fill`.

    An editor owns its value before its widgets exist: the sidebar mounts its editors after the
    app's first frame (docs/benchmarks.md, startup), and until then :meth:`fill` keeps the value
    and :meth:`read` answers from it, exactly as the widgets would once they show it.
    """

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(classes="field", id=f"field-{spec.name}")
        self.spec = spec
        self._shown_error = ""
        self._value: Any = None
        """The last value given to :meth:`fill`: what :meth:`read` answers while the widgets
        do not exist."""
        self._live = False
        """True once the widgets exist (mounted): from then on they hold the value."""
        self._line_mounted: AwaitMount | None = None

    def on_mount(self) -> None:
        self._live = True
        # The value is not new to the sidebar (it read it from here already): no Changed.
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            self.show_value(self._value)
        if self._shown_error:
            self._show_error_line(self._shown_error)

    def compose_label(self, text: str | None = None) -> ComposeResult:
        yield _tipped(Label(text or self.spec.name, classes="field-name"), self.spec.help)

    @property
    def is_live(self) -> bool:
        """True while the widgets exist and hold the value (not before the editor is mounted,
        nor once the app, closing, has taken its widgets away)."""
        return self._live and self.is_attached

    def read(self) -> tuple[Any, str | None]:
        """The field's value (None: not sent) and why the typed text cannot be used, if so."""
        return self.read_widgets() if self.is_live else self.value_shown(self._value)

    def fill(self, value: Any) -> None:
        """Show ``value`` (a request value; None = empty)."""
        self._value = value
        if self.is_live:
            self.show_value(value)

    def read_widgets(self) -> tuple[Any, str | None]:
        """:meth:`read` from the widgets."""
        raise NotImplementedError

    def show_value(self, value: Any) -> None:
        """Put ``value`` into the widgets."""
        raise NotImplementedError

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        """What :meth:`read_widgets` gives after :meth:`show_value` of ``value``."""
        raise NotImplementedError

    @property
    def first_control(self) -> Widget:
        """The widget focus goes to when this field is revealed (the editor itself until its
        widgets exist)."""
        return self.control_widget if self.is_live else self

    @property
    def control_widget(self) -> Widget:
        raise NotImplementedError

    def show_errors(self, messages: list[str]) -> bool:
        """Show the broken rules under the field (none: hide the line); True when they changed."""
        text = "⚠ " + "; ".join(messages) if messages else ""
        if text == self._shown_error:
            return False
        self._shown_error = text
        if self.is_live:
            self._show_error_line(text)
        return True

    async def error_line_mounted(self) -> None:
        """Return once the error line, if one is being made, is in place."""
        if self._line_mounted is not None:
            await self._line_mounted

    def _show_error_line(self, text: str) -> None:
        # The line is made the first time a rule is broken: most fields never need one, and
        # every widget costs memory and start-up time (docs/benchmarks.md).
        lines = self.query(".field-error").results(Static)
        line = next(lines, None)
        if line is None:
            if not text:
                return
            line = Static("", classes="field-error", id=f"error-{self.spec.name}")
            self._line_mounted = self.mount(line)
        line.update(Text(text))
        line.set_class(bool(text), "-shown")

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

    @property
    def switch(self) -> Switch:
        return self.query_one(Switch)

    def read_widgets(self) -> tuple[Any, str | None]:
        return self._sent(self.switch.value)

    def show_value(self, value: Any) -> None:
        self.switch.value = bool(value)

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        return self._sent(bool(value))

    def _sent(self, on_: bool) -> tuple[Any, str | None]:
        if self.spec.default is not None:
            return on_, None
        return (True if on_ else None), None

    @property
    def control_widget(self) -> Widget:
        return self.switch


class TextEditor(FieldEditor):
    """One input for an int, float or text field, parsed by the registry's ``parse_text``."""

    placeholder = NOT_SENT

    def compose(self) -> ComposeResult:
        yield from self.compose_label()
        yield Input(
            id=self.spec.name, compact=True, placeholder=self.placeholder, tooltip=self.spec.help
        )

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def read_widgets(self) -> tuple[Any, str | None]:
        return self._parsed(self.input.value)

    def show_value(self, value: Any) -> None:
        show_start(self.input, _as_text(value))

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        return self._parsed(_as_text(value))

    def _parsed(self, text: str) -> tuple[Any, str | None]:
        try:
            return parse_text(self.spec, text), None
        except FieldValueError as error:
            return None, _rule_text(self.spec, error)

    @property
    def control_widget(self) -> Widget:
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

    @property
    def select(self) -> Select[str]:
        return self.query_one(Select)

    def read_widgets(self) -> tuple[Any, str | None]:
        value = self.select.value
        return (value if isinstance(value, str) else None), None

    def show_value(self, value: Any) -> None:
        if self._offered(value):
            self.select.value = value
        else:
            self.select.clear()

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        return (value if self._offered(value) else None), None

    def _offered(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.spec.choices

    @property
    def control_widget(self) -> Widget:
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

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        # Items beyond the boxes (a hand-edited session): still read, so validation names the
        # excess instead of the sidebar dropping them; gone once the user edits a box.
        self._overflow: list[str] = []

    @property
    def inputs(self) -> list[Input]:
        return list(self.query(Input))

    def read_widgets(self) -> tuple[Any, str | None]:
        return self._items_read([box.value for box in self.inputs], self._overflow)

    def show_value(self, value: Any) -> None:
        texts, self._overflow = self._boxes_for(value)
        for box, text in zip(self.inputs, texts):
            show_start(box, text)

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        return self._items_read(*self._boxes_for(value))

    def _boxes_for(self, value: Any) -> tuple[list[str], list[str]]:
        """The boxes' texts for a request value, and the items beyond the boxes."""
        items = [value] if isinstance(value, str) else list(value or [])
        count = self.spec.max_items or 1
        texts = [encode_escapes(item) for item in items[:count]]
        return texts + [""] * (count - len(texts)), items[count:]

    @staticmethod
    def _items_read(texts: list[str], overflow: list[str]) -> tuple[Any, str | None]:
        items = [decode_escapes(text) for text in texts if text] + overflow
        return (items or None), None

    def on_input_changed(self, event: Input.Changed) -> None:
        # Not stopped: the sidebar re-checks on every change.
        if self._overflow and event.input.has_focus:
            self._overflow = []

    @property
    def control_widget(self) -> Widget:
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

    def read_widgets(self) -> tuple[Any, str | None]:
        # A model id never has meaningful spaces around it; a pasted one often does.
        return self.input.value.strip(), None

    def value_shown(self, value: Any) -> tuple[Any, str | None]:
        return _as_text(value).strip(), None

    @property
    def picker(self) -> Select[str]:
        return self.query_one("#model-list", Select)

    def set_models(self, models: tuple[str, ...], *, live: bool) -> None:
        self.models = models
        self.models_live = live
        self.models_problem = None
        if not self.is_live:  # compose() offers them
            return
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
        if not self.is_live:  # compose() writes it
            return
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


def _as_text(value: Any) -> str:
    """How an input shows a request value (None: empty)."""
    return "" if value is None else str(value)


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
