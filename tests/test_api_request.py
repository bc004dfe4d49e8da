"""Every validation rule of CompletionRequest, one case each, and the wire form of the body."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.client import encode_body
from workbench.api.request import (
    GRAMMAR_ROOTS,
    CompletionRequest,
    RequestValidationError,
)


def ok(**fields: object) -> CompletionRequest:
    return CompletionRequest(**{"model": "llama3.1-8b", "prompt": "Once", **fields})  # type: ignore[arg-type]


# (rule, fields that break it, field the error must name, words the message must contain)
BROKEN_RULES = [
    ("model required", {"model": ""}, "model", "required"),
    ("model not blank", {"model": "   "}, "model", "required"),
    ("prompt form", {"prompt": 42}, "prompt", "array of strings"),
    ("prompt no mixing", {"prompt": ["a", 1]}, "prompt", "no mixing"),
    ("prompt array not empty", {"prompt": []}, "prompt", "must not be empty"),
    ("prompt token ids non-negative", {"prompt": [1, -2]}, "prompt", "non-negative"),
    ("prompt token batch not empty", {"prompt": [[1], []]}, "prompt", "token array 2 is empty"),
    ("prompt token batch non-negative", {"prompt": [[1], [-1]]}, "prompt", "non-negative"),
    ("stream is a bool", {"stream": "yes"}, "stream", "true or false"),
    ("return_raw_tokens is a bool", {"return_raw_tokens": 1}, "return_raw_tokens", "true or false"),
    ("echo is a bool", {"echo": "no"}, "echo", "true or false"),
    ("max_tokens whole", {"max_tokens": 2.5}, "max_tokens", "whole number"),
    ("max_tokens not a bool", {"max_tokens": True}, "max_tokens", "whole number"),
    ("max_tokens at least 1", {"max_tokens": 0}, "max_tokens", "at least 1"),
    ("min_tokens whole", {"min_tokens": "3"}, "min_tokens", "whole number"),
    ("min_tokens at least -1", {"min_tokens": -2}, "min_tokens", "-1"),
    ("min_tokens <= max_tokens", {"min_tokens": 9, "max_tokens": 8}, "min_tokens", "max_tokens (8)"),
    ("grammar_root known", {"grammar_root": "json"}, "grammar_root", "one of root"),
    ("seed whole", {"seed": 1.5}, "seed", "whole number"),
    ("seed fits 64 bits", {"seed": 2**63}, "seed", "64-bit"),
    ("stop not empty", {"stop": ""}, "stop", "must not be empty"),
    ("stop strings only", {"stop": ["a", 3]}, "stop", "list of strings"),
    ("stop at most 4", {"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4"),
    ("stop items not empty", {"stop": ["a", ""]}, "stop", "must not be empty"),
    ("temperature a number", {"temperature": "hot"}, "temperature", "number"),
    ("temperature finite", {"temperature": math.nan}, "temperature", "number"),
    ("temperature in range", {"temperature": 1.51}, "temperature", "between 0 and 1.5"),
    ("top_p in range", {"top_p": -0.1}, "top_p", "between 0 and 1"),
    ("top_p a number", {"top_p": "x"}, "top_p", "number"),
    ("echo excludes raw tokens", {"echo": True, "return_raw_tokens": True}, "echo", "return_raw_tokens"),
    ("user a string", {"user": 7}, "user", "string"),
    ("logprobs in range", {"logprobs": 21}, "logprobs", "0 to 20"),
    ("logprobs whole", {"logprobs": 1.0}, "logprobs", "0 to 20"),
    ("n at least 1", {"n": 0}, "n", "from 1 to 16"),
    ("n at most 16", {"n": 17}, "n", "from 1 to 16"),
]


@pytest.mark.parametrize(
    "fields, field, words", [case[1:] for case in BROKEN_RULES], ids=[c[0] for c in BROKEN_RULES]
)
def test_each_broken_rule_names_its_field(fields: dict, field: str, words: str) -> None:
    request = ok(**fields)
    errors = request.validate()
    assert [error.field for error in errors] == [field]
    assert words in errors[0].message
    with pytest.raises(RequestValidationError) as raised:
        request.check()
    assert str(raised.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"prompt": ""},
        {"prompt": ["a", "b"]},
        {"prompt": [1, 2, 3]},
        {"prompt": [[1], [2, 3]]},
        {"temperature": 0, "top_p": 1},
        {"temperature": 1.5, "top_p": 0.0},
        {"min_tokens": -1, "max_tokens": 1},
        {"min_tokens": 5, "max_tokens": 5},
        {"stop": ["a", "b", "c", "d"]},
        {"seed": -(2**63)},
        {"seed": 2**63 - 1},
        {"grammar_root": GRAMMAR_ROOTS[-1]},
        {"echo": True, "return_raw_tokens": False},
        {"logprobs": 0, "n": 1, "user": "u"},
    ],
)
def test_boundary_values_are_accepted(fields: dict) -> None:
    assert ok(**fields).validate() == []


def test_several_broken_rules_are_all_reported_in_field_order() -> None:
    request = CompletionRequest(model="", prompt=[], temperature=3, n=0)
    assert [e.field for e in request.validate()] == ["model", "prompt", "temperature", "n"]


def test_body_leaves_unset_fields_out_and_is_compact_utf8() -> None:
    request = ok(prompt="Grüße → 世界", max_tokens=5, extra={"best_of": 2, "suffix": None})
    body = encode_body(request.to_body(stream=True))
    assert json.loads(body) == {
        "model": "llama3.1-8b",
        "prompt": "Grüße → 世界",
        "max_tokens": 5,
        "best_of": 2,
        "stream": True,
    }
    assert "Grüße → 世界".encode() in body  # not \u-escaped
    assert b" " not in body.replace("Grüße → 世界".encode(), b"")  # no separators' spaces


def test_unsendable_extra_value_is_a_validation_error() -> None:
    with pytest.raises(RequestValidationError, match="request"):
        encode_body(ok(extra={"logit_bias": math.inf}).to_body())


json_scalars = st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=5)


@settings(max_examples=100, deadline=None)
@given(
    st.builds(
        CompletionRequest,
        model=st.text(min_size=1, max_size=10),
        prompt=st.text(max_size=10) | st.lists(st.integers(0, 99), min_size=1, max_size=4),
        max_tokens=st.none() | st.integers(1, 100),
        temperature=st.none() | st.floats(0, 1.5),
        stop=st.none() | st.lists(st.text(min_size=1, max_size=3), max_size=4),
        echo=st.none() | st.booleans(),
        extra=st.dictionaries(st.sampled_from(["best_of", "suffix", "logit_bias"]), json_scalars),
    )
)
def test_body_round_trips_through_json(request: CompletionRequest) -> None:
    body = json.loads(encode_body(request.to_body()))
    again = CompletionRequest.from_body(body)
    assert again.to_body() == request.to_body()
