"""One declaration per request field: the registry every other layer reads.

The sidebar, the config file's ``[defaults]``, the CLI's request flags, the exporters and the
"variant" parsers (compare lanes, eval variants, ``replay --set``) all take their list of fields,
their kinds and their help from :data:`FIELDS`; the rules themselves stay in
:meth:`CompletionRequest.validate`, so a value parsed here is still checked there before sending.

Adding a request parameter: a field on :class:`CompletionRequest`, its rule in ``validate()``,
and one :class:`FieldSpec` here (``tests/test_api_fields.py`` checks the two lists agree).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping

from workbench.api.request import (
    GRAMMAR_ROOTS,
    MAX_LOGPROBS,
    MAX_N,
    MAX_STOP_SEQUENCES,
    TEMPERATURE_RANGE,
    TOP_P_RANGE,
    CompletionRequest,
)

FieldKind = Literal["text", "toggle", "int", "float", "choice", "list"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one request field is typed, shown, edited and named on the command line."""

    name: str
    kind: FieldKind
    help: str
    # The TUI's starting value when the config sets none (None: not sent).
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    max_items: int | None = None  # kind "list": how many entries at most
    cli_flag: str = ""  # "--max-tokens"; derived from the name when empty
    cli_short: str | None = None
    # False for fields whose value only makes sense per request (none today).
    config_default: bool = True

    @property
    def flag(self) -> str:
        return self.cli_flag or "--" + self.name.replace("_", "-")

    def python_types(self) -> tuple[type, ...]:
        """The Python types a TOML/JSON value for this field may have."""
        return {
            "text": (str,),
            "choice": (str,),
            "toggle": (bool,),
            "int": (int,),
            "float": (int, float),
            "list": (str, list),
        }[self.kind]


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("model", "text", "model id; type freely or pick one listed by /v1/models", cli_short="-m"),
    FieldSpec("stream", "toggle", "stream tokens as they are generated (SSE)", default=True),
    FieldSpec("echo", "toggle", "prepend the prompt to the output (not with return_raw_tokens)"),
    FieldSpec(
        "return_raw_tokens",
        "toggle",
        "return token ids instead of text (not with echo)",
        cli_flag="--raw-tokens",
    ),
    FieldSpec("max_tokens", "int", "whole number ≥ 1; empty = server default", default=256, low=1),
    FieldSpec("min_tokens", "int", "-1 (fill to max length), 0 or more; ≤ max_tokens", low=-1),
    FieldSpec(
        "temperature",
        "float",
        f"{TEMPERATURE_RANGE[0]:g} – {TEMPERATURE_RANGE[1]:g}",
        low=TEMPERATURE_RANGE[0],
        high=TEMPERATURE_RANGE[1],
        cli_short="-t",
    ),
    FieldSpec("top_p", "float", f"{TOP_P_RANGE[0]:g} – {TOP_P_RANGE[1]:g}", low=TOP_P_RANGE[0], high=TOP_P_RANGE[1]),
    FieldSpec("seed", "int", "whole number (signed 64-bit); best-effort determinism"),
    FieldSpec(
        "stop",
        "list",
        f"up to {MAX_STOP_SEQUENCES} stop sequences, not included in the output; "
        "\\n is a newline, \\t a tab, \\\\ a backslash",
        max_items=MAX_STOP_SEQUENCES,
    ),
    FieldSpec("grammar_root", "choice", "structured-output root rule", choices=GRAMMAR_ROOTS),
    FieldSpec("user", "text", "end-user id"),
    FieldSpec(
        "logprobs",
        "int",
        f"whole number 0 – {MAX_LOGPROBS}: top alternatives per token",
        low=0,
        high=MAX_LOGPROBS,
    ),
    FieldSpec("n", "int", f"completions per prompt, 1 – {MAX_N}", low=1, high=MAX_N),
)
FIELD_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(FIELD_BY_NAME)
BUILTIN_DEFAULTS: dict[str, Any] = {s.name: s.default for s in FIELDS if s.default is not None}


class FieldValueError(ValueError):
    """A field name or value that cannot be used; ``field`` names it (None: the name itself)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_UNESCAPES = {value: "\\" + key for key, value in _ESCAPES.items()}


def decode_escapes(text: str) -> str:
    """``\\n``, ``\\t``, ``\\r`` and ``\\\\`` as the characters they name (a stop sequence is
    often a blank line, which one line of a flag or an input cannot hold)."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def encode_escapes(text: str) -> str:
    """Inverse of :func:`decode_escapes`, for showing a stop sequence on one line."""
    return "".join(_UNESCAPES.get(char, char) for char in text)


def suggest_field(name: str, candidates: Iterable[str] = FIELD_NAMES) -> str | None:
    """The nearest field name to a typo, or None when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def spec_for(name: str) -> FieldSpec:
    """The spec of ``name``; an unknown name raises with the nearest valid one suggested."""
    spec = FIELD_BY_NAME.get(name)
    if spec is None:
        hint = suggest_field(name)
        message = f"unknown request field {name!r}"
        message += f" (did you mean {hint!r}?)" if hint else f"; fields: {', '.join(FIELD_NAMES)}"
        raise FieldValueError(message)
    return spec


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_text(spec: FieldSpec, text: str) -> Any:
    """A value typed as text (a flag, an override, a sidebar input) as the field's type.

    An empty text (or ``none``/``null``) means "not set" and gives None. A list field takes
    either one sequence (escapes decoded) or a JSON array. Ranges are not checked here:
    :meth:`CompletionRequest.validate` does that, for every way a value can arrive.
    """
    stripped = text.strip()
    if stripped == "" or stripped.lower() in ("none", "null"):
        return None
    name = spec.name
    if spec.kind == "toggle":
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise FieldValueError(f"{name}: must be true or false, not {stripped!r}", name)
    if spec.kind == "int":
        try:
            return int(stripped)
        except ValueError:
            raise FieldValueError(f"{name}: must be a whole number, not {stripped!r}", name) from None
    if spec.kind == "float":
        try:
            value = float(stripped)
        except ValueError:
            raise FieldValueError(f"{name}: must be a number, not {stripped!r}", name) from None
        if not math.isfinite(value):
            raise FieldValueError(f"{name}: must be a finite number", name)
        return value
    if spec.kind == "choice":
        if spec.choices and stripped not in spec.choices:
            hint = suggest_field(stripped, spec.choices)
            extra = f" (did you mean {hint!r}?)" if hint else ""
            raise FieldValueError(
                f"{name}: must be one of {', '.join(spec.choices)}{extra}", name
            )
        return stripped
    if spec.kind == "list":
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except (ValueError, RecursionError):
                raise FieldValueError(f"{name}: not a valid JSON array", name) from None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FieldValueError(f"{name}: a JSON array of strings is expected", name)
            return value
        return [decode_escapes(text)]
    return text  # "text": kept as typed (a model id or user id may have meaningful spaces)


def check_value(spec: FieldSpec, value: Any) -> Any:
    """A value from TOML or JSON, type-checked for the field (ranges are validate()'s job)."""
    if value is None:
        return None
    allowed = spec.python_types()
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    else:
        ok = isinstance(value, allowed)
    if spec.kind == "list" and isinstance(value, list):
        ok = all(isinstance(v, str) for v in value)
    if spec.kind == "float" and ok and not math.isfinite(value):
        ok = False
    if not ok:
        expected = {
            "text": "a string",
            "choice": "a string",
            "toggle": "true or false",
            "int": "a whole number",
            "float": "a number",
            "list": "a string or a list of strings",
        }[spec.kind]
        raise FieldValueError(f"{spec.name}: must be {expected}", spec.name)
    if spec.kind == "float":
        return float(value)
    return value


# A comma starts a new override only when a field name and "=" follow it, so a JSON list
# value (stop=["a","b"]) keeps its commas.
_OVERRIDE_SPLIT = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*=)")


def parse_overrides(items: str | Iterable[str]) -> dict[str, Any]:
    """``"model=x,temperature=0.2"`` (or several such strings) as ``{field: value}``.

    Used by compare's ``--lane``, ``replay --set`` and anything else that takes variants as
    text. Unknown names and unparsable values raise :class:`FieldValueError` naming them.
    """
    if isinstance(items, str):
        items = [items]
    overrides: dict[str, Any] = {}
    for item in items:
        for part in _OVERRIDE_SPLIT.split(item):
            if not part.strip():
                continue
            name, sep, text = part.partition("=")
            name = name.strip()
            if not sep or not name:
                raise FieldValueError(f"{part.strip()!r}: expected FIELD=VALUE")
            overrides[name] = parse_text(spec_for(name), text)
    return overrides


def check_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides from TOML/JSON (an eval variant, a saved lane): names known, types right."""
    return {name: check_value(spec_for(name), value) for name, value in values.items()}


def apply_overrides(base: CompletionRequest, overrides: Mapping[str, Any]) -> CompletionRequest:
    """A new request: ``base`` with ``overrides`` set (None unsets). Call ``validate()`` on it:
    a variant is a request, checked by the same rules as any other."""
    unknown = [name for name in overrides if name not in FIELD_BY_NAME]
    if unknown:
        spec_for(unknown[0])  # raises with a suggestion
    return dataclasses.replace(base, extra=dict(base.extra), **dict(overrides))


def request_values(request: CompletionRequest) -> dict[str, Any]:
    """The registry fields of ``request`` that are set (for headers, exports, diffs)."""
    return {
        spec.name: getattr(request, spec.name)
        for spec in FIELDS
        if getattr(request, spec.name) not in (None, "")
    }
