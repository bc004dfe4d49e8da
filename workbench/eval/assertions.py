"""The assertion types of an eval file, compiled once at load and checked against each result.

An assertion is a small table: ``{ type = "contains", value = "Bonjour", ignore_case = true }``.
String values are templates filled with the case's variables (so a CSV column ``expected`` can
feed ``value = "{{expected}}"``); inside a ``regex`` a variable's value is matched literally.
Every type accepts ``ignore_case``; it changes nothing for the numeric ones and ``json_valid``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from workbench.eval.template import Template, TemplateError, parse

ASSERTION_TYPES: tuple[str, ...] = (
    "contains",
    "not_contains",
    "equals",
    "starts_with",
    "regex",
    "max_chars",
    "max_tokens",
    "json_valid",
    "finish_reason",
)
_TEXT_TYPES = frozenset({"contains", "not_contains", "equals", "starts_with", "regex", "finish_reason"})
_COUNT_TYPES = frozenset({"max_chars", "max_tokens"})
ASSERTION_KEYS: tuple[str, ...] = ("type", "value", "ignore_case")

# Python's re has no time limit, and a pattern such as (a+)+$ takes exponential time on some
# inputs. Bounding the text a regex sees bounds the damage; outputs longer than this are
# checked on their first REGEX_MAX_INPUT characters (the failure message says so).
REGEX_MAX_INPUT = 20_000
# What a failure message quotes of the output.
QUOTE_CHARS = 80


class AssertionSpecError(ValueError):
    """An assertion table that cannot be used; ``key`` names the offending key (or None)."""

    def __init__(self, message: str, key: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.offset = offset


@dataclass(frozen=True, slots=True)
class AssertionSpec:
    """An assertion as written, before a case's variables are filled in."""

    type: str
    value: Any = None
    ignore_case: bool = False
    template: Template | None = None  # for string values

    @property
    def variables(self) -> tuple[str, ...]:
        return self.template.variables if self.template else ()

    def describe(self) -> str:
        """``contains "Bonjour"`` — how the assertion is named in messages and JUnit."""
        if self.type == "json_valid":
            text = "json_valid"
        elif isinstance(self.value, str):
            text = f"{self.type} {json.dumps(self.value, ensure_ascii=False)}"
        else:
            text = f"{self.type} {self.value}"
        return text + (" (ignore case)" if self.ignore_case and self.type in _TEXT_TYPES else "")


@dataclass(frozen=True, slots=True)
class Outcome:
    passed: bool
    assertion: str  # AssertionSpec.describe() with the case's values
    message: str = ""  # why it failed


@dataclass(frozen=True, slots=True)
class Observed:
    """What a cell produced, as far as assertions care."""

    outputs: tuple[str, ...]  # one text per choice (usually one)
    finish_reasons: tuple[str | None, ...]
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class Assertion:
    """An assertion with a case's variables filled in, ready to check."""

    spec: AssertionSpec
    value: Any
    check: Callable[[Observed], str | None]  # None: passed; else why not

    @property
    def name(self) -> str:
        return AssertionSpec(self.spec.type, self.value, self.spec.ignore_case).describe()

    def evaluate(self, observed: Observed) -> Outcome:
        problem = self.check(observed)
        return Outcome(problem is None, self.name, problem or "")


def suggest_type(name: str) -> str | None:
    close = difflib.get_close_matches(name, ASSERTION_TYPES, n=1, cutoff=0.5)
    return close[0] if close else None


def parse_spec(table: Any) -> AssertionSpec:
    """Check one assertion table's shape (names, types); regexes are compiled per case."""
    if not isinstance(table, Mapping):
        raise AssertionSpecError("an assertion must be a table such as { type = \"contains\", value = \"…\" }")
    for key in table:
        if key not in ASSERTION_KEYS:
            close = difflib.get_close_matches(str(key), ASSERTION_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; keys: {', '.join(ASSERTION_KEYS)}"
            raise AssertionSpecError(f"unknown assertion key {key!r}{hint}", str(key))
    kind = table.get("type")
    if not isinstance(kind, str):
        raise AssertionSpecError(
            f"an assertion needs a type: one of {', '.join(ASSERTION_TYPES)}", "type"
        )
    if kind not in ASSERTION_TYPES:
        hint = suggest_type(kind)
        extra = f" (did you mean {hint!r}?)" if hint else f"; types: {', '.join(ASSERTION_TYPES)}"
        raise AssertionSpecError(f"unknown assertion type {kind!r}{extra}", "type")
    ignore_case = table.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise AssertionSpecError("ignore_case must be true or false", "ignore_case")
    value = table.get("value")
    template: Template | None = None
    if kind == "json_valid":
        if value is not None:
            raise AssertionSpecError("json_valid takes no value", "value")
    elif kind in _COUNT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AssertionSpecError(f"{kind} needs a value: a whole number, 0 or more", "value")
    else:
        if not isinstance(value, str):
            raise AssertionSpecError(f"{kind} needs a value: a string", "value")
        if kind in ("contains", "not_contains", "starts_with", "finish_reason", "regex") and not value:
            raise AssertionSpecError(f"{kind} needs a non-empty value", "value")
        try:
            template = parse(value)
        except TemplateError as error:
            raise AssertionSpecError(str(error), "value", error.offset) from None
    spec = AssertionSpec(kind, value, ignore_case, template)
    if kind == "regex" and not spec.variables:
        compile_regex(value, ignore_case)  # a bad pattern fails at load, not per cell
    return spec


def compile_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError) as error:
        raise AssertionSpecError(f"bad regex {pattern!r}: {error}", "value") from None


def bind(spec: AssertionSpec, variables: Mapping[str, str]) -> Assertion:
    """``spec`` with ``variables`` filled in (KeyError: a variable the case lacks)."""
    value = spec.value
    if spec.template is not None:
        if spec.type == "regex":
            value = spec.template.render({k: re.escape(v) for k, v in variables.items() if k in spec.variables})
        else:
            value = spec.template.render(variables)
    return Assertion(spec, value, _checker(spec.type, value, spec.ignore_case))


def _quote(text: str) -> str:
    shown = text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
    return json.dumps(shown, ensure_ascii=False)


def _each(outputs: tuple[str, ...], test: Callable[[str], str | None]) -> str | None:
    """Every choice must pass; the message names the choice when there are several."""
    for index, text in enumerate(outputs):
        problem = test(text)
        if problem is not None:
            return problem if len(outputs) == 1 else f"choice {index}: {problem}"
    return None


def _checker(kind: str, value: Any, ignore_case: bool) -> Callable[[Observed], str | None]:
    fold: Callable[[str], str] = str.casefold if ignore_case else (lambda s: s)

    if kind == "contains":
        needle = fold(value)
        return lambda o: _each(o.outputs, lambda t: None if needle in fold(t) else f"not found in {_quote(t)}")
    if kind == "not_contains":
        needle = fold(value)
        return lambda o: _each(o.outputs, lambda t: f"found in {_quote(t)}" if needle in fold(t) else None)
    if kind == "equals":
        expected = fold(value)
        return lambda o: _each(o.outputs, lambda t: None if fold(t) == expected else f"got {_quote(t)}")
    if kind == "starts_with":
        prefix = fold(value)
        return lambda o: _each(
            o.outputs, lambda t: None if fold(t).startswith(prefix) else f"got {_quote(t)}"
        )
    if kind == "regex":
        pattern = compile_regex(value, ignore_case)

        def regex(text: str) -> str | None:
            bounded = text[:REGEX_MAX_INPUT]
            if pattern.search(bounded):
                return None
            note = f" (first {REGEX_MAX_INPUT:,} of {len(text):,} characters searched)" if len(text) > REGEX_MAX_INPUT else ""
            return f"no match in {_quote(text)}{note}"

        return lambda o: _each(o.outputs, regex)
    if kind == "max_chars":
        return lambda o: _each(
            o.outputs, lambda t: None if len(t) <= value else f"{len(t):,} characters"
        )
    if kind == "max_tokens":

        def tokens(observed: Observed) -> str | None:
            if observed.completion_tokens is None:
                return "the response reported no token count"
            if observed.completion_tokens <= value:
                return None
            return f"{observed.completion_tokens:,} tokens"

        return tokens
    if kind == "json_valid":
        return lambda o: _each(o.outputs, _json_problem)
    if kind == "finish_reason":
        expected = fold(value)

        def finish(observed: Observed) -> str | None:
            for index, reason in enumerate(observed.finish_reasons or (None,)):
                if reason is None or fold(reason) != expected:
                    where = f"choice {index}: " if len(observed.finish_reasons) > 1 else ""
                    return f"{where}finish_reason was {reason or 'not reported'}"
            return None

        return finish
    raise AssertionError(f"no checker for {kind}")  # parse_spec refuses unknown types


def _json_problem(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return "the output is empty"
    try:
        json.loads(stripped)
    except RecursionError:
        return "nested too deeply to check"
    except ValueError as error:
        return f"not JSON ({error}): {_quote(text)}"
    return None


def regex_risk(pattern: str) -> str | None:
    """A warning when ``pattern`` nests unbounded repetition — ``(a+)+``, ``(\\w+\\s*)*`` —
    the shape that can backtrack exponentially on a short non-matching output (bounding the
    input does not help there). A heuristic: it may also flag harmless patterns, so it warns
    and never refuses. Uses the standard library's private regex parser; when that is not
    available (another Python) nothing is reported."""
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        tree = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - a best-effort hint only
        return None
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)

    def parts(op: Any, av: Any) -> list[Any]:
        if op in repeats:
            return [av[2]]
        if op is c.SUBPATTERN:
            return [av[3]]
        if op is c.BRANCH:
            return list(av[1])
        if op in (c.ASSERT, c.ASSERT_NOT):
            return [av[1]]
        return []  # atomic groups and possessive repeats never backtrack into themselves

    def has_unbounded(items: Any) -> bool:
        for op, av in items:
            if op in repeats and av[1] == c.MAXREPEAT:
                return True
            if any(has_unbounded(part) for part in parts(op, av)):
                return True
        return False

    def nested(items: Any) -> bool:
        for op, av in items:
            if op in repeats and av[1] == c.MAXREPEAT and has_unbounded(av[2]):
                return True
            if any(nested(part) for part in parts(op, av)):
                return True
        return False

    if nested(tree):
        return (
            "nested unbounded repetition (like (a+)+) can take exponential time on some "
            "outputs; consider a simpler pattern"
        )
    return None
