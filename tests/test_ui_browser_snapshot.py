"""SVG snapshots of the session browser at 80x24 and 120x40 (fixed content and times)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from ui_sessions_fixtures import BASE_TIME, BrowserHost, fill_store
from workbench.ui.session_browser import SessionBrowser


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BrowserHost:
    # A relative folder name keeps the random tmp path out of the picture.
    monkeypatch.chdir(tmp_path)
    store = fill_store(Path("sessions"))
    broken = Path("sessions") / "20200101-000000-000-badbad--broken.toml"
    broken.write_text("title = [\n")
    # An unreadable file is dated by its mtime: pin it.
    stamp = (BASE_TIME - timedelta(days=3)).timestamp()
    os.utime(broken, (stamp, stamp))
    return BrowserHost(lambda: SessionBrowser(store), store=store)


async def _loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_browser_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc, size) -> None:
    app = make_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=_loaded)


def test_browser_snapshot_while_searching(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc) -> None:
    app = make_app(tmp_path, monkeypatch)

    async def search(pilot) -> None:
        await _loaded(pilot)
        await pilot.press(*"rust")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=search)
