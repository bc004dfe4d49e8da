"""The parameter sidebar: generated from the field registry, talked to through its API.

Pilot against the loopback simulator where a request is sent; a bare host app where only the
sidebar matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Select, Switch
from ui_helpers import SIZE, completion_posts, make_app, send, wait_finished, wait_for

from workbench.api.fields import FIELDS, FieldSpec
from workbench.api.request import SEED_MODELS
from workbench.ui.sidebar import ParameterSidebar


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


class SidebarHost(App[None]):
    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.defaults = defaults
        self.changes: list[ParameterSidebar.Changed] = []

    def compose(self) -> ComposeResult:
        yield ParameterSidebar(self.defaults)

    def on_parameter_sidebar_changed(self, event: ParameterSidebar.Changed) -> None:
        self.changes.append(event)


def sample_value(spec: FieldSpec) -> Any:
    """A valid, non-default value for every kind of field."""
    return {
        "toggle": True if spec.default is None else not spec.default,
        "int": int(spec.high or 0) or 7,
        "float": float(spec.high or 0.5),
        "text": "some-model" if spec.name == "model" else "user 7",
        "choice": spec.choices[-1] if spec.choices else "x",
        "list": ["\n\n", "END", "[INST]"][: spec.max_items or 1],
    }[spec.kind]


async def test_every_registry_field_has_a_widget_that_round_trips() -> None:
    app = SidebarHost()
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        assert list(sidebar.editors) == [spec.name for spec in FIELDS]
        values = {spec.name: sample_value(spec) for spec in FIELDS}
        if values.get("echo") and values.get("return_raw_tokens"):
            values["return_raw_tokens"] = None  # the two conflict; each is covered on its own
        sidebar.fill(values)
        await pilot.pause()
        read, errors = sidebar.read_fields()
        assert errors == []
        for spec in FIELDS:
            assert read[spec.name] == values[spec.name], spec.name
        # ... and back to empty: every field can be "not sent" (stream, with a default, is off).
        sidebar.fill({})
        read, _ = sidebar.read_fields()
        assert {name: value for name, value in read.items() if value not in (None, "", False)} == {}


async def test_each_field_kind_gets_its_widget_and_the_registry_help() -> None:
    app = SidebarHost()
    async with app.run_test(size=SIZE):
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        expected = {"toggle": Switch, "int": Input, "float": Input, "text": Input, "choice": Select}
        for spec in FIELDS:
            editor = sidebar.editors[spec.name]
            if spec.kind == "list":
                assert len(editor.query(Input)) == spec.max_items
            else:
                assert isinstance(editor.first_control, expected[spec.kind]), spec.name
            assert editor.first_control.tooltip == spec.help


async def test_a_value_that_does_not_parse_is_shown_under_its_field() -> None:
    app = SidebarHost()
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        for spec in FIELDS:
            if spec.kind not in ("int", "float"):
                continue
            sidebar.editors[spec.name].first_control.value = "12abc"  # type: ignore[attr-defined]
            await pilot.pause()
            assert "must be a" in sidebar.error_text(spec.name), spec.name
        assert app.changes and app.changes[-1].control is sidebar
        assert {e.field for e in app.changes[-1].errors} >= {
            s.name for s in FIELDS if s.kind in ("int", "float")
        }


async def test_n_is_editable_in_the_sidebar_and_sent(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#n", Input).value = "2"
        await send(pilot, "Two ways")
        view = await wait_finished(pilot)
        assert completion_posts(sim)[0].body["n"] == 2
        assert sorted(view.choices) == [0, 1]
        app.sidebar.query_one("#n", Input).value = "99"
        await send(pilot, "Too many")
        await pilot.pause()
        assert len(completion_posts(sim)) == 1
        assert "1 to 16" in app.sidebar.error_text("n")


def test_the_app_reaches_no_widget_inside_another_by_id() -> None:
    # Widgets own their state: the app talks to the sidebar, prompt pane and status bar
    # through their methods and messages, never by the ids of the widgets inside them.
    source = (Path(__file__).parent.parent / "workbench" / "ui" / "app.py").read_text("utf-8")
    assert 'query_one("#' not in source and 'query_one(f"#' not in source
    assert 'query("#' not in source and 'query(f"#' not in source


# -- issue 9: reset, model field, lists, rules ---------------------------------------------


async def test_reset_restores_the_configured_model(sim: Any) -> None:
    app = make_app(sim.base_url)  # model configured: llama3.1-8b
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#model", Input).value = "something-else"
        app.sidebar.query_one("#max_tokens", Input).value = "9"
        await pilot.press("f7")
        assert app.sidebar.model == "llama3.1-8b"
        assert app.sidebar.query_one("#max_tokens", Input).value == "256"


async def test_reset_without_a_configured_model_keeps_one_listed(sim: Any) -> None:
    app = make_app(sim.base_url, model=None, fetch_models=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        assert app.sidebar.model == SEED_MODELS[0]
        app.sidebar.set_models(("llama3.1-8b", "qwen-3-32b"), live=True)
        app.sidebar.query_one("#model", Input).value = ""
        await pilot.press("f7")
        assert app.sidebar.model == "llama3.1-8b"
        # ... so a send right after the reset goes out.
        await send(pilot, "After reset")
        await wait_finished(pilot)
        assert completion_posts(sim)[0].body["model"] == "llama3.1-8b"


async def test_a_long_model_id_shows_its_first_letter_when_focused(sim: Any) -> None:
    long_id = "llama-4-scout-17b-16e-instruct-extra-long"
    app = make_app(sim.base_url, model=long_id, fetch_models=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("shift+f6")  # into the sidebar: the model field
        model = app.sidebar.query_one("#model", Input)
        assert app.focused is model
        await pilot.pause()
        assert model.scroll_offset.x == 0
        assert model.value == long_id


async def test_the_model_picker_never_shows_a_stale_model(sim: Any) -> None:
    from workbench.api.request import CompletionRequest

    app = make_app(sim.base_url, fetch_models=False)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.sidebar.query_one("#model-list", Select)
        picker.value = "qwen-3-32b"
        await pilot.pause()
        assert app.sidebar.model == "qwen-3-32b"
        # The picked model is in the field; the picker offers the list again, not the pick.
        assert picker.is_blank()
        app.sidebar.show_request(CompletionRequest(model="llama-3.3-70b", prompt="x"))
        await pilot.pause()
        assert app.sidebar.model == "llama-3.3-70b" and picker.is_blank()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_an_open_choice_list_does_not_cover_the_status_bar_or_footer(
    sim: Any, size: tuple[int, int]
) -> None:
    app = make_app(sim.base_url, fetch_models=False)
    async with app.run_test(size=size) as pilot:
        select = app.sidebar.query_one("#grammar_root", Select)
        select.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: select.expanded)
        await pilot.pause()
        overlay = select.query_one("SelectOverlay")
        await wait_for(pilot, lambda: overlay.region.height > 0)
        assert overlay.region.bottom <= app.status_bar.region.y
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: not select.expanded)
        assert isinstance(select.value, str)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_rule_typed_into_being_is_shown_whole(sim: Any, size: tuple[int, int]) -> None:
    app = make_app(sim.base_url, fetch_models=False)
    async with app.run_test(size=size) as pilot:
        box = app.sidebar.query_one("#logprobs", Input)
        box.focus()
        await pilot.pause()
        await pilot.press("9", "9")
        line = app.sidebar.query_one("#error-logprobs")
        await wait_for(pilot, lambda: line.region.height > 0)
        await pilot.pause()
        assert "0 to 20" in str(line.render())
        # Wrapped inside the sidebar and scrolled into sight, not cut at an edge.
        assert line.region.height >= 2
        visible = app.sidebar.region
        assert visible.contains_region(line.region), (line.region, visible)


async def test_the_models_note_says_where_the_list_came_from(sim_factory: Any) -> None:
    sim = await sim_factory(api_key="right-key")
    refused = make_app(sim.base_url, api_key="wrong-key")
    async with refused.run_test(size=SIZE) as pilot:
        note = refused.sidebar.query_one(".models-note")
        await wait_for(pilot, lambda: "offline list (" in str(note.render()))
        assert "401" in str(note.render()) and not refused.sidebar.models_live
    listed = make_app(sim.base_url, api_key="right-key")
    async with listed.run_test(size=SIZE) as pilot:
        note = listed.sidebar.query_one(".models-note")
        await wait_for(pilot, lambda: listed.sidebar.models_live)
        assert str(note.render()) == f"{len(sim.models)} models from /v1/models"
        assert set(listed.sidebar.models) == set(sim.models)


async def test_more_list_items_than_boxes_are_not_dropped_silently() -> None:
    # A hand-edited session with five stop sequences: the sidebar has four boxes. The fifth is
    # still part of what would be sent, so the rule under the field says why nothing is sent.
    app = SidebarHost()
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        sidebar.fill({"model": "m", "stop": ["a", "b", "c", "d", "e"]})
        await pilot.pause()
        values, _ = sidebar.read_fields()
        assert values["stop"] == ["a", "b", "c", "d", "e"]
        assert "4" in sidebar.error_text("stop")
        # Editing a box is the user taking charge: the extra item goes, the rule with it.
        box = sidebar.query_one("#stop-3", Input)
        box.focus()
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        values, _ = sidebar.read_fields()
        assert values["stop"] == ["a", "b", "c"] and sidebar.error_text("stop") == ""


ODD_VALUES = [
    {},
    {"temperature": 0.1, "top_p": 1, "seed": 0, "stop": ["\n\n", "a\\b", "", "END", "x", "y"]},
    {"stream": False, "echo": True, "logprobs": 20, "n": 3, "user": "  spaced  "},
    {"model": "  qwen-3-32b ", "max_tokens": "12abc", "grammar_root": "not-a-choice"},
    {"stop": "one stop", "min_tokens": -4, "return_raw_tokens": True},
]


@pytest.mark.parametrize("values", ODD_VALUES)
async def test_the_sidebar_reads_the_same_before_its_widgets_exist(values: dict[str, Any]) -> None:
    """The editors are mounted after the app's first frame; a request built before then (a
    send typed at once, the compare view) must be the one the widgets show afterwards."""
    early = ParameterSidebar({"model": "llama3.1-8b"})
    early.fill(values)
    before = early.read_fields()
    assert not any(editor.is_live for editor in early.editors.values())

    app = SidebarHost({"model": "llama3.1-8b"})
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        sidebar.fill(values)
        await pilot.pause()
        assert sidebar.read_fields() == before

    # ... and a value filled in before mounting is the one the widgets show.
    app = SidebarHost({"model": "llama3.1-8b"})
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        sidebar.fill(values)  # possibly before the editors exist
        await sidebar.editors_mounted()
        await pilot.pause()
        assert all(editor.is_live for editor in sidebar.editors.values())
        assert sidebar.read_fields() == before


class RevealAtMount(SidebarHost):
    def on_mount(self) -> None:
        sidebar = self.query_one(ParameterSidebar)
        assert not sidebar.editors["temperature"].is_live  # the editors come after a frame
        sidebar.reveal_field("temperature")


async def test_a_field_revealed_before_its_widgets_exist_gets_focus_once_they_do() -> None:
    app = RevealAtMount()
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.query_one(ParameterSidebar)
        await sidebar.editors_mounted()
        await wait_for(pilot, lambda: app.focused is sidebar.editors["temperature"].first_control)
