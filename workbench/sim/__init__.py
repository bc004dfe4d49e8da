"""A Cerebras-compatible completions server on loopback: tests, benchmarks, offline mode.

    async with SimServer(rate=None) as sim:   # sim.base_url == "http://127.0.0.1:<port>"
        ...
    with ThreadedSim() as sim:                # the same in its own thread, for sync code
        ...

It answers ``POST /v1/completions`` (streamed or not, with every documented field),
``GET /v1/models`` and ``GET /v1/tcp_warming`` as ``shared/cerebras-api.md`` describes (plus
llama.cpp's ``POST /tokenize``, ``{"content": …}`` -> ``{"tokens": [ids]}``, with its own
tokenizer, so a client can count prompt tokens exactly), from a
Markov chain over the opening of *Pride and Prejudice*, paced at ``rate`` tokens/s (None or 0:
as fast as possible). Per request, ``x-sim-rate: <tok/s>`` overrides the pace and
``x-sim-fault: <mode>`` injects one of :data:`FAULT_MODES`; ``fault=``/``fault_times=`` do so
server-wide. ``sim.requests`` records what arrived, ``sim.disconnects`` counts streams their
client left early (``await sim.wait_for_disconnect()``).
"""

from __future__ import annotations

from workbench.sim.faults import FAULT_MODES
from workbench.sim.server import RecordedRequest, SimServer
from workbench.sim.threaded import ThreadedSim

__all__ = ["FAULT_MODES", "RecordedRequest", "SimServer", "ThreadedSim"]
