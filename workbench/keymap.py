"""The app's remappable actions, their default keys, and the checks on ``[keymap]`` (no Textual).

The config file may give any action other keys. Each entry is checked at start, and a bad one
is reported like every other config problem while the action keeps its default key:

* every key must be a name the terminal can send: optional modifiers (``ctrl+``, ``alt+``,
  ``shift+`` …) and one base key (``a``, ``5``, ``f7``, ``pageup``, ``minus`` or ``-`` …);
* a key that types text or edits it (``-``, ``x``, ``shift+a``, ``space``, ``backspace``,
  arrows …) is refused: the app's bindings take priority over the prompt, so the key could no
  longer be typed (``send = "-"`` would send on every dash);
* two actions may not share a key, nor take one the app itself keeps (``ctrl+q`` quits,
  ``ctrl+c`` copies/quits, ``ctrl+p`` opens the command palette). Swapping two actions' keys
  is fine: collisions are judged on the final map.

The UI builds its bindings from :data:`DEFAULT_KEYS` (``workbench/ui/bindings.py``), and a test
checks the names accepted here are the ones Textual matches.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Mapping

# Action id -> default keys (comma-separated), in the order the help lists them.
DEFAULT_KEYS: dict[str, str] = {
    "send": "ctrl+j,ctrl+enter,alt+enter",
    "cancel": "escape",
    "continue": "ctrl+n",
    "regenerate": "ctrl+r",
    "clear": "ctrl+l",
    "copy": "ctrl+y",
    "edit": "ctrl+e",
    "toggle_sidebar": "ctrl+b",
    "focus_next_pane": "f6",
    "focus_previous_pane": "shift+f6",
    "save": "ctrl+s",
    "sessions": "ctrl+o",
    "help": "f1",
    "prompt_form": "ctrl+t",
    "logprobs": "ctrl+g",
    "reset_parameters": "f7",
    "export": "f8",
    "compare": "f5",
    "probabilities": "f4",
    "search": "ctrl+f",
}
BINDING_IDS: tuple[str, ...] = tuple(DEFAULT_KEYS)

# Keys Textual's App binds itself (App.BINDINGS) plus the command palette's.
RESERVED_KEYS: dict[str, str] = {
    "ctrl+q": "quit",
    "ctrl+c": "copy / quit",
    "ctrl+p": "the command palette",
}

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
# Modifiers that make a printable key a command rather than text.
_COMMAND_MODIFIERS = frozenset(("ctrl", "alt", "meta", "super", "hyper"))

_EDITING_KEYS = frozenset(
    ("space", "backspace", "delete", "left", "right", "up", "down", "home", "end")
)
_COMMAND_KEYS = frozenset(
    ("escape", "enter", "tab", "insert", "pageup", "pagedown", *(f"f{n}" for n in range(1, 25)))
)
# Names Textual gives punctuation keys (unicodedata names, with its own replacements).
_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
# Textual treats these as the same key (textual.keys.KEY_ALIASES).
_ALIASES = {"ctrl+i": "tab", "ctrl+m": "enter", "ctrl+space": "ctrl+at", "newline": "ctrl+j"}


def _punctuation_name(char: str) -> str:
    name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    return _NAME_REPLACEMENTS.get(name, name)


_PUNCTUATION: dict[str, str] = {
    c: _punctuation_name(c) for c in map(chr, range(0x21, 0x7F)) if not c.isalnum()
}
_PUNCTUATION_NAMES = frozenset(_PUNCTUATION.values())


class InvalidKeyError(ValueError):
    """A key the app cannot bind (the message says why)."""


def normalise_key(key: str) -> str:
    """One key as Textual names it (``ctrl+-`` -> ``ctrl+minus``; modifiers in canonical order),
    or :class:`InvalidKeyError` saying what is wrong with it."""
    text = key.strip().lower()
    if not text:
        raise InvalidKeyError("an empty key")
    # "ctrl++" and "+" name the plus key: a trailing "+" is the key, not a separator.
    if text.endswith("+"):
        head = text[:-1].rstrip("+")
        modifiers, base = (head.split("+") if head else []), "+"
    else:
        *modifiers, base = text.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise InvalidKeyError(
                f'"{_shown(key)}": unknown modifier "{_shown(modifier)}" (use {", ".join(MODIFIERS)})'
            )
    if len(set(modifiers)) != len(modifiers):
        raise InvalidKeyError(f'"{_shown(key)}": a modifier is repeated')
    if len(base) == 1:
        base = _PUNCTUATION.get(base, base)
    if not _is_base_key(base):
        raise InvalidKeyError(
            f'"{_shown(key)}": "{_shown(base)}" is not a key name (e.g. a, 5, f7, pageup, minus)'
        )
    # The user's modifier order is kept (Textual matches the string); collisions are judged
    # on a canonical order (see _canonical).
    return "+".join([*modifiers, base])


def _is_base_key(base: str) -> bool:
    return (
        (len(base) == 1 and base.isascii() and base.isalnum())
        or base in _EDITING_KEYS
        or base in _COMMAND_KEYS
        or base in _PUNCTUATION_NAMES
    )


def types_text(key: str) -> bool:
    """True for a normalised key that types or edits text in the prompt (no command modifier,
    and a printable or editing base key)."""
    *modifiers, base = key.split("+")
    if _COMMAND_MODIFIERS & set(modifiers):
        return False
    return base not in _COMMAND_KEYS


def _canonical(key: str) -> str:
    *modifiers, base = key.split("+")
    ordered = "+".join([*(m for m in MODIFIERS if m in modifiers), base])
    return _ALIASES.get(ordered, ordered)


def check_keymap(
    remaps: Mapping[str, Any],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The usable part of a ``[keymap]`` table and the problems with the rest.

    Returns ``(keymap, problems)``: ``keymap`` maps action ids to normalised, comma-separated
    keys; ``problems`` are ``(action, message)`` pairs. An action with a problem keeps its
    default key.
    """
    problems: list[tuple[str, str]] = []
    wanted: dict[str, list[str]] = {}
    for action, value in remaps.items():
        if action not in DEFAULT_KEYS:
            problems.append((action, "no such action" + _suggest(action)))
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append((action, 'must be keys like "ctrl+j" (several: "ctrl+j,f12")'))
            continue
        try:
            keys = _parse_list(value)
        except InvalidKeyError as error:
            problems.append((action, f"{error}; keeping {DEFAULT_KEYS[action]}"))
            continue
        typing = [k for k in keys if types_text(k)]
        if typing:
            problems.append(
                (
                    action,
                    (
                        f'"{typing[0]}" types or edits text, so it could no longer be typed in '
                        "the prompt; use a modifier (ctrl+, alt+) or a function key; keeping "
                        f"{DEFAULT_KEYS[action]}"
                    ),
                )
            )
            continue
        wanted[action] = keys
    # Collisions on the final map: drop the remap that collides (its default comes back) until
    # nothing collides. Remaps are dropped in reverse file order, so the first one written wins.
    while True:
        final = {a: wanted.get(a) or _parse_list(DEFAULT_KEYS[a]) for a in DEFAULT_KEYS}
        clash = _first_clash(final, wanted)
        if clash is None:
            break
        action, key, other = clash
        del wanted[action]
        problems.append(
            (action, f'"{key}" is already the key of {other}; keeping {DEFAULT_KEYS[action]}')
        )
    return {action: ",".join(keys) for action, keys in wanted.items()}, problems


def _parse_list(value: str) -> list[str]:
    # A comma between two keys separates them; "ctrl+," is the comma key.
    parts: list[str] = []
    for piece in value.replace(" ", "").split(","):
        if piece == "" and parts and parts[-1].endswith("+"):
            parts[-1] += ","
        else:
            parts.append(piece)
    if any(p == "" for p in parts):
        raise InvalidKeyError(f'"{_shown(value)}": an empty key between commas')
    return list(dict.fromkeys(normalise_key(p) for p in parts))


def _first_clash(
    final: dict[str, list[str]], remapped: Mapping[str, list[str]]
) -> tuple[str, str, str] | None:
    """(remapped action, key, what else has it) for the last remap that collides, else None."""
    owners: dict[str, list[str]] = {}
    for action, keys in final.items():
        for key in keys:
            owners.setdefault(_canonical(key), []).append(action)
    for action in reversed(list(remapped)):
        for key in remapped[action]:
            canonical = _canonical(key)
            if canonical in RESERVED_KEYS:
                return action, key, RESERVED_KEYS[canonical] + " (kept by the app)"
            others = [a for a in owners[canonical] if a != action]
            if others:
                return action, key, others[0]
    return None


def _suggest(word: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(DEFAULT_KEYS), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _shown(text: str, limit: int = 40) -> str:
    """Config text quoted in a message: never longer than a line, however long the value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
