"""Shared fixtures: the project's own simulator on a real loopback socket."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from workbench.sim import SimServer

SimFactory = Callable[..., Awaitable[SimServer]]


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A started, unpaced simulator (``sim.base_url``), stopped after the test."""
    async with SimServer(rate=None) as server:
        yield server


@pytest_asyncio.fixture
async def sim_factory() -> AsyncIterator[SimFactory]:
    """``await sim_factory(rate=..., fault=..., api_key=...)`` starts a custom simulator;
    every one started is stopped after the test. ``rate`` defaults to unpaced."""
    started: list[SimServer] = []

    async def make(**kwargs: Any) -> SimServer:
        kwargs.setdefault("rate", None)
        server = await SimServer(**kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        await server.stop()


def require_program(name: str) -> str:
    """The path of a program a test drives. Missing outside CI: the test is skipped; in CI
    (``CI`` set, where ``.ci/run`` installs it) a missing program fails the test instead."""
    import os
    import shutil

    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(autouse=True)
def _workbench_fields_mounted(monkeypatch: pytest.MonkeyPatch) -> None:
    """``WorkbenchApp.run_test`` hands over the pilot once the sidebar's field widgets exist.

    The sidebar mounts them just after the app's first frame (a faster start, see
    docs/benchmarks.md); a person cannot reach them sooner, and tests that set a field through
    its widget would otherwise race it. How the sidebar answers before then is tested in
    tests/test_ui_sidebar.py with the sidebar on its own."""
    from workbench.ui.app import WorkbenchApp

    original = WorkbenchApp.run_test

    @asynccontextmanager
    async def run_test(self: WorkbenchApp, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with original(self, *args, **kwargs) as pilot:
            await self.sidebar.editors_mounted()
            yield pilot

    monkeypatch.setattr(WorkbenchApp, "run_test", run_test)


@pytest.fixture(autouse=True)
def _own_folders(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test writes its sessions, caches and config in its own temporary folders, never
    in the person's real ones (an app under test autosaves every exchange it sends: the whole
    suite used to leave ~300 sessions in the developer's session browser). A test may still
    point these variables elsewhere; ``workbench_home`` also clears the API settings."""
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / ".workbench-config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / ".workbench-data"))


@pytest.fixture
def workbench_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Besides the test's own folders (``_own_folders``, every test): no API settings from the
    environment, and colour on (NO_COLOR unset) whatever the shell running the tests has."""
    for name in ("CEREBRAS_API_KEY", "CEREBRAS_BASE_URL", "CEREBRAS_CUSTOM_HEADERS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
