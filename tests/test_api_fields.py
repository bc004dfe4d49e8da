"""The field registry matches the request model, and its text parsers refuse what they should."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.api.fields import (
    FIELD_NAMES,
    FieldValueError,
    apply_overrides,
    check_overrides,
    decode_escapes,
    encode_escapes,
    parse_overrides,
)
from workbench.api.request import MAX_N, CompletionRequest


def test_registry_lists_every_request_field_but_prompt_and_extra() -> None:
    declared = {spec.name for spec in fields(CompletionRequest)} - {"prompt", "extra"}
    assert set(FIELD_NAMES) == declared


def test_overrides_parse_each_kind() -> None:
    parsed = parse_overrides(
        ["model=qwen-3-32b,temperature=0.2", "stream=false,max_tokens=9", 'stop=["a,b","c"]']
    )
    assert parsed == {
        "model": "qwen-3-32b",
        "temperature": 0.2,
        "stream": False,
        "max_tokens": 9,
        "stop": ["a,b", "c"],
    }
    assert parse_overrides("stop=\\n\\n,seed=") == {"stop": ["\n\n"], "seed": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("temprature=0.2", "did you mean 'temperature'"),
        ("temperature=warm", "temperature: must be a number"),
        ("temperature=nan", "finite"),
        ("stream=maybe", "true or false"),
        ("grammar_root=rot", "did you mean 'root'"),
        ("model", "expected FIELD=VALUE"),
    ],
)
def test_bad_overrides_name_the_field(text: str, expected: str) -> None:
    with pytest.raises(FieldValueError, match=expected):
        parse_overrides(text)


def test_toml_overrides_are_type_checked() -> None:
    assert check_overrides({"temperature": 0, "model": "m"}) == {"temperature": 0.0, "model": "m"}
    with pytest.raises(FieldValueError, match="max_tokens: must be a whole number"):
        check_overrides({"max_tokens": True})
    with pytest.raises(FieldValueError, match="did you mean"):
        check_overrides({"top_k": 3})


def test_a_variant_is_validated_like_any_request() -> None:
    base = CompletionRequest(model="a", prompt="p", max_tokens=5)
    variant = apply_overrides(base, {"model": "b", "n": MAX_N + 1})
    assert base.model == "a"
    assert [e.field for e in variant.validate()] == ["n"]


@given(st.text())
def test_escapes_round_trip(text: str) -> None:
    assert decode_escapes(encode_escapes(text)) == text
