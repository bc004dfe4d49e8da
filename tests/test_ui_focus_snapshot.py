"""SVG snapshots of the focus marks and of a full status bar, at 80x24 and 120x40.

The same fixed exchange as tests/test_ui_snapshots.py; then a prompt (so the status bar shows
its token gauge), a quota, and focus on the transcript (80x24) or a sidebar field (120x40).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from test_ui_snapshots import isolated, recorded, snapshot_app  # noqa: F401 - isolated: fixture
from ui_helpers import wait_for
from workbench.ui.app import WorkbenchApp

QUOTA = "left 14,375 req/day · 1,234,567 tok/min"


def focused(pane: str) -> Any:
    show_exchange = recorded("complete")

    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        await show_exchange(pilot)
        app.status_bar.quota = QUOTA
        app.prompt_pane.text = "Now write one that multiplies them."
        await wait_for(pilot, lambda: app.status_bar.gauge is not None)
        if pane == "transcript":
            app.transcript.focus()
        else:
            app.sidebar.query_one("#temperature").focus()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("size", "pane"), [((80, 24), "transcript"), ((120, 40), "sidebar")], ids=["80x24", "120x40"]
)
def test_focus_and_full_status_bar(snap_compare: Any, size: tuple[int, int], pane: str) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=focused(pane))
