"""The private Textual API the workbench relies on still exists (workbench/ui/textual_compat.py).

When this fails after a Textual upgrade, the named attribute moved: fix its wrapper in
textual_compat.py, nowhere else.
"""

from __future__ import annotations

import importlib

import pytest

from workbench.ui.textual_compat import PRIVATE_ATTRIBUTES, TEXTUAL_VERSION


def _resolve(owner: str) -> object:
    module_name, _, attribute_path = owner.partition(":")
    target: object = importlib.import_module(module_name)
    for part in filter(None, attribute_path.split(".")):
        target = getattr(target, part)
    return target


@pytest.mark.parametrize(("owner", "attribute"), PRIVATE_ATTRIBUTES)
def test_every_private_textual_attribute_still_exists(owner: str, attribute: str) -> None:
    target = _resolve(owner)
    assert hasattr(target, attribute), (
        f"Textual {TEXTUAL_VERSION} has no {owner}.{attribute}: update workbench/ui/textual_compat.py"
    )
