"""The private Textual API the workbench relies on still exists (workbench/ui/textual_compat.py).

When this fails after a Textual upgrade, the named attribute moved: fix its wrapper in
textual_compat.py, nowhere else.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from workbench.ui.textual_compat import PRIVATE_ATTRIBUTES, TEXTUAL_VERSION


def _resolve(owner: str) -> object:
    module_name, _, attribute_path = owner.partition(":")
    target: object = importlib.import_module(module_name)
    for part in filter(None, attribute_path.split(".")):
        target = getattr(target, part)
    return target


def test_every_private_textual_attribute_still_exists() -> None:
    missing = [f"{owner}.{attribute}" for owner, attribute in PRIVATE_ATTRIBUTES if not hasattr(_resolve(owner), attribute)]
    assert not missing, (
        f"Textual {TEXTUAL_VERSION} has no {', '.join(missing)}: update workbench/ui/textual_compat.py"
    )


# Private Textual names the UI once relied on (scroll anchoring, the command palette's escape,
# notifications, filters, the keymap): none may come back outside the adapter unlisted.
ONCE_USED = (
    "._anchored",
    "._anchor_released",
    "._action_escape",
    "._notifications",
    "._filters",
    "._keymap",
    "._modal_binding_chain",
    "._compositor",
    "theme.__dict__",
)


def test_no_private_textual_name_outside_the_adapter() -> None:
    ui = Path(__file__).resolve().parent.parent / "workbench" / "ui"
    found = [
        f"{path.name}: {name}"
        for path in sorted(ui.glob("*.py"))
        if path.name != "textual_compat.py"
        for name in ONCE_USED
        if name in path.read_text(encoding="utf-8")
    ]
    assert not found, "use public API, or wrap it in textual_compat.py: " + ", ".join(found)
