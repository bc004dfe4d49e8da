"""Every use of Textual's private API in the workbench, in one place.

Textual is pinned below the next minor release because of what is listed here. Everything else
in ``workbench/ui`` uses public API only; when something truly cannot be done publicly it is
wrapped here, named in :data:`PRIVATE_ATTRIBUTES`, and checked by ``tests/test_textual_compat.py``,
which fails loudly (naming the attribute) when a Textual release renames or removes it. Lifting
the pin is then one change in one module.
"""

from __future__ import annotations

from importlib.metadata import version

TEXTUAL_VERSION = version("textual")
"""The Textual version installed (the tests print it when a private attribute is missing)."""

# ("module:Class", attribute) for every private Textual name this module relies on (an instance
# attribute set in __init__ is checked on a fresh instance by the wrapper's own test). The test
# checks each one exists on the installed Textual; add a line here with every new wrapper.
PRIVATE_ATTRIBUTES: tuple[tuple[str, str], ...] = ()
