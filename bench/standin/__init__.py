"""Minimal stand-ins used to develop and sanity-check the display benchmark harness.

``standin.app`` is a ~60-line Textual app that streams the way docs/design.md recommends
(buffer, flush once per frame, append-only widget). Benchmarked with the same harness it gives
a floor: what Textual itself costs on this machine, to compare the real app against.
``standin.sim`` is a tiny paced SSE server, used only when ``workbench.sim`` is unavailable.
"""
