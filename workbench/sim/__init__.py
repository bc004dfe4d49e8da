"""A Cerebras-compatible completions server on loopback: tests, benchmarks, offline mode.

>>> async with SimServer(rate=None) as sim: ...   # sim.base_url == "http://127.0.0.1:<port>"
>>> with ThreadedSim() as sim: ...                # the same, for synchronous code
"""

from __future__ import annotations

from workbench.sim.faults import FAULT_MODES
from workbench.sim.server import RecordedRequest, SimServer
from workbench.sim.threaded import ThreadedSim

__all__ = ["FAULT_MODES", "RecordedRequest", "SimServer", "ThreadedSim"]
