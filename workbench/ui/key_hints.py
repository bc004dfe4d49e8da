"""Key names in help, hints, border subtitles and notifications, taken from the keymap in force.

Text that names a key writes a placeholder with the binding's id instead of the key:
``{key:send}`` becomes the first key bound to ``send`` now ("ctrl+j"), ``{keys:send}`` all of
them ("ctrl+j / ctrl+enter / alt+enter"). :func:`fill_keys` does the replacing against the
bindings of a widget, its screen and the app after the user's ``[keymap]``, so the words stay
right when keys are remapped; an id that no binding has raises, so a typo fails the test that
renders every text (tests/test_ui_key_hints.py).

The keymap is remembered here by :func:`use_keymap` because Textual keeps the one it applies
private; the app sets its keymap through this function only.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

PLACEHOLDER = re.compile(r"\{(keys?):([A-Za-z0-9_.]+)\}")
# How some keys read best to a person (Textual's names are also what [keymap] takes).
_SHOWN_AS = {"escape": "esc"}

_keymaps: weakref.WeakKeyDictionary[App[object], dict[str, str]] = weakref.WeakKeyDictionary()

KeyTable = Mapping[str, tuple[str, ...]]
"""Binding id (or, for a binding without one, its action) -> keys, in binding order."""


def use_keymap(app: App[object], keymap: Mapping[str, str]) -> None:
    """Apply ``keymap`` (binding id -> "key,key") to ``app`` and remember it for the hints."""
    _keymaps[app] = dict(keymap)
    app.set_keymap(dict(keymap))


def keymap_of(app: App[object]) -> Mapping[str, str]:
    """The keymap last given to :func:`use_keymap` for ``app`` (empty: the default keys)."""
    return _keymaps.get(app, {})


def _as_binding(item: BindingType) -> Binding:
    return item if isinstance(item, Binding) else Binding(*item)


def _split(keys: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in keys.split(",") if key.strip())


def binding_keys(bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Keys per binding id after ``keymap``; a binding without an id is listed by its action
    (e.g. Textual's own ``quit``, or ``move(-1)``), unless an id of that name exists. The first binding of an
    id wins, as with Textual (a subclass's bindings come before its bases')."""
    table: dict[str, tuple[str, ...]] = {}
    unnamed: dict[str, tuple[str, ...]] = {}
    for item in bindings:
        binding = _as_binding(item)
        if binding.id is not None:
            table.setdefault(binding.id, _split(keymap.get(binding.id, binding.key)))
        else:
            unnamed.setdefault(binding.action, _split(binding.key))
    for action, keys in unnamed.items():
        table.setdefault(action, keys)
    return table


def class_bindings(node: DOMNode) -> list[BindingType]:
    """The bindings a node's class declares, its own first, then its bases' (``BINDINGS``)."""
    found: list[BindingType] = []
    for cls in type(node).__mro__:
        found.extend(cls.__dict__.get("BINDINGS", ()))
    return found


def keys_in_force(node: DOMNode) -> KeyTable:
    """Every key a user can press at ``node``: its bindings, its ancestors' (screen, app)."""
    app = node.app
    bindings: list[BindingType] = []
    for ancestor in node.ancestors_with_self:
        bindings.extend(class_bindings(ancestor))
    table = binding_keys(bindings, keymap_of(app))
    if app.ENABLE_COMMAND_PALETTE:
        table.setdefault("command_palette", _split(app.COMMAND_PALETTE_BINDING))
    return table


def key_label(keys: Iterable[str]) -> str:
    """Keys as shown to a person: "ctrl+j / ctrl+enter"; "(unbound)" when there are none."""
    shown = [_SHOWN_AS.get(key, key) for key in keys]
    return " / ".join(shown) if shown else "(unbound)"


def fill_keys(text: str, keys: KeyTable) -> str:
    """``text`` with every ``{key:ID}`` / ``{keys:ID}`` replaced by the keys bound now.

    Raises KeyError for an id nothing binds: a placeholder must never reach the screen.
    """

    def replace(match: re.Match[str]) -> str:
        kind, ident = match.groups()
        if ident not in keys:
            raise KeyError(f"no binding with id or action {ident!r} for {match.group(0)}")
        bound = keys[ident]
        return key_label(bound if kind == "keys" else bound[:1])

    return PLACEHOLDER.sub(replace, text)


def hint(node: DOMNode, text: str) -> str:
    """``text`` with its key placeholders filled for ``node`` (a widget or a screen)."""
    return fill_keys(text, keys_in_force(node))
