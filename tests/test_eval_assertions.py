"""Each assertion type, passing and failing, with and without ignore_case."""

from __future__ import annotations

import pytest

from workbench.eval.assertions import (
    REGEX_MAX_INPUT,
    AssertionSpecError,
    Observed,
    bind,
    parse_spec,
)


def check(table: dict, output: str = "", *, finish: str | None = "stop", tokens: int | None = 5, variables: dict | None = None):
    assertion = bind(parse_spec(table), variables or {})
    return assertion.evaluate(Observed((output,), (finish,) if finish else (), tokens))


@pytest.mark.parametrize(
    ("table", "output", "passes"),
    [
        ({"type": "contains", "value": "Bonjour"}, "Oui, Bonjour !", True),
        ({"type": "contains", "value": "Bonjour"}, "oui, bonjour !", False),
        ({"type": "contains", "value": "Bonjour", "ignore_case": True}, "oui, BONJOUR !", True),
        ({"type": "not_contains", "value": "Hello"}, "Bonjour", True),
        ({"type": "not_contains", "value": "hello", "ignore_case": True}, "HELLO there", False),
        ({"type": "equals", "value": "Bonjour"}, "Bonjour", True),
        ({"type": "equals", "value": "Bonjour"}, "Bonjour ", False),
        ({"type": "equals", "value": "straße", "ignore_case": True}, "STRASSE", True),  # casefold
        ({"type": "starts_with", "value": " Bon"}, " Bonjour", True),
        ({"type": "starts_with", "value": "bon", "ignore_case": True}, "Bonjour", True),
        ({"type": "starts_with", "value": "jour"}, "Bonjour", False),
        ({"type": "regex", "value": r"^\s*\d{3}-\d{4}$"}, " 555-1234", True),
        ({"type": "regex", "value": r"bonjour"}, "BONJOUR", False),
        ({"type": "regex", "value": r"bonjour", "ignore_case": True}, "BONJOUR", True),
        ({"type": "max_chars", "value": 5}, "12345", True),
        ({"type": "max_chars", "value": 5}, "123456", False),
        ({"type": "max_chars", "value": 0}, "", True),
        ({"type": "json_valid"}, ' {"a": [1, 2]}\n', True),
        ({"type": "json_valid"}, '{"a": [1, 2}', False),
        ({"type": "json_valid"}, "   ", False),
        ({"type": "json_valid"}, "[" * 100_000 + "]" * 100_000, False),  # too deep: no crash
    ],
)
def test_text_assertions(table: dict, output: str, passes: bool) -> None:
    outcome = check(table, output)
    assert outcome.passed is passes, outcome
    assert bool(outcome.message) is not passes


def test_failure_messages_quote_the_output_briefly() -> None:
    outcome = check({"type": "contains", "value": "Bonjour"}, "x" * 500)
    assert outcome.assertion == 'contains "Bonjour"'
    assert outcome.message.startswith('not found in "xxx') and outcome.message.endswith('…"')
    assert len(outcome.message) < 120


def test_max_tokens_reads_the_usage() -> None:
    assert check({"type": "max_tokens", "value": 20}, tokens=20).passed
    over = check({"type": "max_tokens", "value": 20}, tokens=21)
    assert not over.passed and over.message == "21 tokens"
    unknown = check({"type": "max_tokens", "value": 20}, tokens=None)
    assert not unknown.passed and "no token count" in unknown.message


def test_finish_reason() -> None:
    assert check({"type": "finish_reason", "value": "stop"}, finish="stop").passed
    assert check({"type": "finish_reason", "value": "STOP", "ignore_case": True}, finish="stop").passed
    length = check({"type": "finish_reason", "value": "stop"}, finish="length")
    assert not length.passed and length.message == "finish_reason was length"
    assert not check({"type": "finish_reason", "value": "stop"}, finish=None).passed


def test_values_are_templates_and_regex_variables_match_literally() -> None:
    variables = {"expected": "3.5 (approx)"}
    assert check({"type": "contains", "value": "{{expected}}"}, "about 3.5 (approx)", variables=variables).passed
    # In a regex the variable's "." and "(" are literal characters, the pattern's are not.
    assert check({"type": "regex", "value": r"^about {{expected}}\.?$"}, "about 3.5 (approx).", variables=variables).passed
    assert not check({"type": "regex", "value": "{{expected}}"}, "3x5 approx", variables=variables).passed


def test_every_choice_must_pass() -> None:
    assertion = bind(parse_spec({"type": "contains", "value": "a"}), {})
    outcome = assertion.evaluate(Observed(("abc", "xyz"), ("stop", "stop"), 6))
    assert not outcome.passed and outcome.message.startswith("choice 1: not found")


def test_a_regex_only_sees_a_bounded_input_and_says_so() -> None:
    # Backtracking costs grow with the input; the bound caps them for polynomial patterns.
    outcome = check({"type": "regex", "value": "needle"}, "x" * (REGEX_MAX_INPUT + 10) + "needle")
    assert not outcome.passed and f"first {REGEX_MAX_INPUT:,} of" in outcome.message
    assert check({"type": "regex", "value": "needle"}, "x" * (REGEX_MAX_INPUT - 10) + "needle").passed


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"type": "contain", "value": "x"}, "did you mean 'contains'?"),
        ({"type": "jsonvalid"}, "did you mean 'json_valid'?"),
        ({"type": "sentiment"}, "types: contains, not_contains"),
        ({"value": "x"}, "needs a type"),
        ({"type": "regex", "value": "a(b"}, "bad regex"),
        ({"type": "regex", "value": "{{x}"}, "does not start a variable"),
        ({"type": "contains"}, "needs a value: a string"),
        ({"type": "contains", "value": ""}, "non-empty"),
        ({"type": "max_chars", "value": -1}, "0 or more"),
        ({"type": "max_chars", "value": True}, "whole number"),
        ({"type": "json_valid", "value": "x"}, "takes no value"),
        ({"type": "contains", "value": "x", "ignore_case": "yes"}, "true or false"),
        ({"type": "contains", "value": "x", "vlaue": 1}, "did you mean 'value'?"),
        ("contains", "must be a table"),
    ],
)
def test_bad_assertions_are_refused_at_load(table: object, message: str) -> None:
    with pytest.raises(AssertionSpecError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_spec(table)
