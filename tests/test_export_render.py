"""Snippet rendering without running anything: for any prompt, the shell sees exactly the body
the workbench would send, the Python snippets carry exactly that body, and the base URL and key
rules hold."""

from __future__ import annotations

import ast
import json
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.fields import FIELD_NAMES, FIELDS, FieldSpec
from workbench.api.request import CompletionRequest
from workbench.export import EXPORT_FORMATS, python_literal, render_export

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
_prompts = st.one_of(
    _text,
    st.lists(_text, min_size=1, max_size=3),
    st.lists(st.integers(0, 50_000), min_size=1, max_size=5),
)


def _requests() -> st.SearchStrategy[CompletionRequest]:
    return st.builds(
        CompletionRequest,
        model=st.sampled_from(["llama3.1-8b", "qwen-3-32b"]),
        prompt=_prompts,
        max_tokens=st.one_of(st.none(), st.integers(1, 4096)),
        seed=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        temperature=st.one_of(st.none(), st.floats(0, 1.5)),
        stop=st.one_of(st.none(), _text.filter(bool), st.lists(_text.filter(bool), max_size=4)),
        stream=st.one_of(st.none(), st.booleans()),
        extra=st.dictionaries(
            st.sampled_from(["best_of", "suffix", "logit_bias"]),
            st.one_of(
                st.integers(1, 3), _text, st.dictionaries(_text, st.floats(-100, 100), max_size=2)
            ),
            max_size=2,
        ),
    )


def _curl_body(snippet: str) -> dict:
    words = shlex.split(snippet)  # what a POSIX shell hands to curl
    assert words[0] == "curl"
    return json.loads(words[words.index("--data-raw") + 1])


@settings(max_examples=200, deadline=None)
@given(_requests())
def test_the_shell_passes_curl_exactly_the_body(request: CompletionRequest) -> None:
    assert _curl_body(render_export(request, "curl")) == request.to_body()


@settings(max_examples=200, deadline=None)
@given(_requests())
def test_the_json_export_is_the_body(request: CompletionRequest) -> None:
    assert json.loads(render_export(request, "json")) == request.to_body()


def _call_arguments(snippet: str) -> dict:
    tree = ast.parse(snippet)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "create":
            arguments = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
            arguments.update(arguments.pop("extra_body", {}))
            return arguments
    raise AssertionError("no create() call")


def _assigned(snippet: str, name: str) -> object:
    for node in ast.parse(snippet).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} = ...")


@settings(max_examples=200, deadline=None)
@given(_requests())
def test_the_sdk_snippet_sends_exactly_the_body(request: CompletionRequest) -> None:
    assert _call_arguments(render_export(request, "python")) == request.to_body()


@settings(max_examples=200, deadline=None)
@given(_requests())
def test_the_httpx_snippet_sends_exactly_the_body(request: CompletionRequest) -> None:
    snippet = render_export(request, "httpx")
    compile(snippet, "snippet.py", "exec")
    assert _assigned(snippet, "body") == request.to_body()


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | _text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
        max_leaves=10,
    )
)
def test_python_literals_read_back(value: object) -> None:
    assert ast.literal_eval(python_literal(value)) == value


def test_snippets_show_no_terminal_control_characters() -> None:
    request = CompletionRequest(model="m", prompt="red \x1b[31m csi \x9b31m bell \x07 sep \u2028")
    for fmt in EXPORT_FORMATS:
        snippet = render_export(request, fmt)
        assert not any(
            ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F or c == "\u2028" for c in snippet
        ), fmt


@pytest.mark.parametrize(
    "base_url", [None, "https://api.cerebras.ai", "https://api.cerebras.ai/v1/"]
)
def test_cerebras_is_the_sdk_default_and_is_not_spelled_out(base_url: str | None) -> None:
    request = CompletionRequest(model="m", prompt="p")
    assert "base_url" not in render_export(request, "python", base_url)
    assert "https://api.cerebras.ai/v1/completions" in render_export(request, "curl", base_url)
    assert '"https://api.cerebras.ai/v1/completions"' in render_export(request, "httpx", base_url)


def test_another_server_is_spelled_out_without_a_doubled_v1() -> None:
    request = CompletionRequest(model="m", prompt="p")
    assert 'base_url="http://localhost:8080"' in render_export(
        request, "python", "http://localhost:8080/v1"
    )
    assert "http://localhost:8080/v1/completions " in render_export(
        request, "curl", "http://localhost:8080/v1/"
    )
    assert "/v1/v1" not in render_export(request, "httpx", "http://localhost:8080/v1")


def test_the_key_is_referenced_never_written() -> None:
    request = CompletionRequest(model="m", prompt="p")
    assert '-H "Authorization: Bearer $CEREBRAS_API_KEY"' in render_export(request, "curl")
    assert 'api_key=os.environ.get("CEREBRAS_API_KEY")' in render_export(request, "python")
    assert "os.environ['CEREBRAS_API_KEY']" in render_export(request, "httpx")
    assert "CEREBRAS_API_KEY" not in render_export(request, "json")


def test_the_sdk_snippet_follows_the_reference_example() -> None:
    snippet = render_export(
        CompletionRequest(
            model="llama3.1-8b", prompt="It was a dark and stormy night", max_tokens=100
        ),
        "python",
    )
    assert snippet.startswith(
        "import os\n\nfrom cerebras.cloud.sdk import Cerebras\n\nclient = Cerebras(\n"
    )
    assert "completion = client.completions.create(\n" in snippet
    assert '    prompt="It was a dark and stormy night",\n' in snippet


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="curl, python, httpx, json"):
        render_export(CompletionRequest(model="m"), "perl")


def test_the_sdk_keyword_list_matches_the_installed_sdk() -> None:
    # Fields outside this list go through extra_body=; a drift here would make the SDK
    # snippet raise TypeError for a field the SDK renamed, or hide one it added.
    import inspect

    from cerebras.cloud.sdk.resources.completions import CompletionsResource

    from workbench.export import SDK_CREATE_KWARGS

    parameters = set(inspect.signature(CompletionsResource.create).parameters)
    transport_only = {
        "self",
        "extra_headers",
        "extra_query",
        "extra_body",
        "timeout",
        "cf_ray",
        "x_amz_cf_id",
        "x_delay_time",
    }
    assert parameters - transport_only == SDK_CREATE_KWARGS


def _sample_value(spec: FieldSpec) -> object:
    return {
        "toggle": True,
        "int": 2,
        "float": 0.5,
        "text": "x",
        "choice": spec.choices[0] if spec.choices else "x",
        "list": ["END"],
    }[spec.kind]


def test_every_registry_field_is_an_sdk_keyword_in_the_snippet() -> None:
    # The keyword list derives from the field registry: a new request field reaches the SDK
    # snippet as a keyword argument with no change to the exporter (and this fails if the
    # installed SDK does not take it, before a user's snippet raises TypeError).
    import inspect

    from cerebras.cloud.sdk.resources.completions import CompletionsResource

    parameters = set(inspect.signature(CompletionsResource.create).parameters)
    assert set(FIELD_NAMES) <= parameters
    values = {spec.name: _sample_value(spec) for spec in FIELDS}
    request = CompletionRequest(prompt="p", **values)  # type: ignore[arg-type]
    tree = ast.parse(render_export(request, "python"))
    [create] = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "create"
    ]
    keywords = {keyword.arg for keyword in create.keywords}
    assert set(FIELD_NAMES) <= keywords and "extra_body" not in keywords

