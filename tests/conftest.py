"""Shared fixtures: the project's own simulator on a real loopback socket."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable

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

    import pytest

    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path
