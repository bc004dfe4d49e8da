"""The parameter sidebar: every request field, checked as you type, with the rule shown inline.

The widgets are generated from the field registry (:data:`workbench.api.fields.FIELDS`): one
editor per field (:mod:`workbench.ui.field_editors`), chosen by the field's kind. A new request
parameter therefore needs nothing here. The sidebar only turns the editors' values into a
:class:`CompletionRequest`; the rules live in ``CompletionRequest.validate()`` so the sidebar,
the config file and the CLI agree.

The app talks to the sidebar through its methods (``fill``, ``reset``, ``build_request``,
``reveal_field``, ``show_server_error``, ``set_models`` …) and its
:class:`ParameterSidebar.Changed` message, never through the ids of the widgets inside it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any, Iterable

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Static, Switch

from workbench.api.fields import BUILTIN_DEFAULTS, FIELDS
from workbench.api.request import CompletionRequest, FieldError, Prompt
from workbench.ui.field_editors import FieldEditor, ModelEditor, editor_for


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
**{key:reset_parameters}** resets every field to the defaults from the config file.
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
        self._editors_mounted = asyncio.Event()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Parameters", classes="sidebar-title")

    def on_mount(self) -> None:
        self.reset()
        # The editors are three quarters of the app's widgets: styled and laid out before the
        # first frame they made start-up 1.8x a plain Textual app's (docs/benchmarks.md). They
        # hold their values until then (FieldEditor), so nothing waits for them.
        self.call_after_refresh(self._mount_editors)

    async def _mount_editors(self) -> None:
        await self.mount_all(self.editors.values())
        for select in self.query(Select):
            self.watch(select, "expanded", partial(self._fit_open_list, select), init=False)
        self._editors_mounted.set()

    async def editors_mounted(self) -> None:
        """Return once every field's widgets exist (a moment after the first frame)."""
        await self._editors_mounted.wait()

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
                self.call_later(self._keep_in_sight, editor)

    async def _keep_in_sight(self, editor: FieldEditor) -> None:
        await editor.error_line_mounted()  # a field's first rule makes its error line
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
        if not editor.is_live:  # asked for in the first moments: once the widgets exist
            self.call_later(self._reveal_when_mounted, field)
            return
        self.display = True
        editor.first_control.focus(scroll_visible=False)
        # After the error lines have their height, so the field and its rule both show.
        self.call_later(self._keep_in_sight, editor)

    async def _reveal_when_mounted(self, field: str) -> None:
        await self.editors_mounted()
        self.reveal_field(field)

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
        if not editor.read()[0] and models:
            editor.fill(models[0])

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
