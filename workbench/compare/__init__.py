"""Compare: one prompt sent as several *variants* (lanes) at once, streamed side by side.

No Textual here: ``workbench compare`` (headless) and the TUI's compare view both drive the
same pieces:

- :mod:`~workbench.compare.variants`: a lane is the base request plus field overrides, parsed
  and checked with :mod:`workbench.api.fields` (the same rules as the sidebar and the CLI);
- :mod:`~workbench.compare.runner`: every lane streams concurrently; a lane told to wait (429,
  Retry-After) says so and waits while the others go on; one lane or all can be cancelled;
- :mod:`~workbench.compare.metrics`: per-lane figures and the summary ranking;
- :mod:`~workbench.compare.diff`: a word-level diff of two lanes (the replay diff's engine);
- :mod:`~workbench.compare.saving`: a run as one exchange group of a session;
- :mod:`~workbench.compare.export`: one snippet that sends every variant.
"""

from workbench.compare.variants import MAX_LANES, MIN_LANES, Variant

__all__ = ["MAX_LANES", "MIN_LANES", "Variant"]
