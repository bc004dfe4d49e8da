"""Hostile session files: the decoder returns a session or says why not, and never anything else;
an unreadable file is listed with its reason and never opened, moved or rewritten."""

from __future__ import annotations

import copy
import tempfile
import tomllib
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_harness import clean_env, workbench
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, CompletionResult, Usage
from workbench.sessions.codec import SessionFormatError, decode, encode
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionConflictError, SessionStore, SessionStoreError


def _base_session() -> Session:
    session = Session.new(title="base", profile="p", base_url="https://api.cerebras.ai")
    result = CompletionResult(
        choices=[
            Choice(
                index=0,
                text="a completion\nover two lines, long enough to be a literal string",
                finish_reason="stop",
                logprobs={"tokens": ["a"], "token_logprobs": [-0.5], "top_logprobs": [{"a": -0.5}]},
            ),
            Choice(index=1, text="", tokens=[1, 2, 3], finish_reason="length"),
        ],
        usage=Usage(prompt_tokens=3, completion_tokens=5, total_tokens=8, raw={"prompt_tokens": 3}),
    )
    first = Exchange.from_outcome(
        CompletionRequest(model="m", prompt=["one", "two"], stop=["\n"], temperature=0.5, seed=1),
        result,
    )
    first.metrics = ClientMetrics(time_to_first_token_s=0.1, completion_tokens=5)
    lane = Exchange.from_outcome(
        CompletionRequest(model="m2", prompt="p"), None, status="error", error="Bad request (400): no"
    )
    lane.group, lane.lane, lane.variant, lane.label = "g", 0, {"model": "m2"}, "lane"
    lane.http_status, lane.server_message = 400, "no"
    session.exchanges += [first, lane]
    return session


BASE = tomllib.loads(encode(_base_session()).decode())


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path and list position in the document."""
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, prefix + (index,))
    return paths


PATHS = _paths(BASE)

odd_text = st.sampled_from(
    ["", "\x00", "\u202e", "\ud7ff", "x" * 10_000, "'''", '"""', "\\", "\r\n", "😀", "\x1b[2J"]
) | st.text(max_size=30)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**64, -(2**80), 10**30, 10**400, -(10**4000)]),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
    st.datetimes(timezones=st.none() | st.just(timezone.utc) | st.just(timezone(timedelta(hours=-11)))),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["index", "text", "prompt", "x", "group", "lane"]) | st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def hostile_documents(draw: st.DrawFn) -> dict[str, Any]:
    """The base document with a few keys replaced by anything, deleted, or nested deep."""
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "replace", "delete", "deep"]))
            if action == "delete":
                del parent[path[-1]]
            elif action == "deep":
                parent[path[-1]] = _nested(draw(st.integers(40, 120)))
            else:
                parent[path[-1]] = draw(toml_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or retyped this path
    return doc


def _assert_decodes_or_says_why(data: bytes) -> Session | None:
    try:
        return decode(data)
    except SessionFormatError as error:
        assert str(error)  # a reason, shown as "unreadable: <reason>"
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents())
def test_any_document_decodes_or_is_unreadable_with_a_reason(doc: dict[str, Any]) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return  # not expressible as TOML (e.g. a time with an offset)
    session = _assert_decodes_or_says_why(text.encode())
    if session is not None:
        # What decodes can be shown, listed and saved again without surprises.
        assert isinstance(session.display_title, str)
        for exchange in session.exchanges:
            assert isinstance(exchange.prompt_text, str) and isinstance(exchange.output_text, str)
        assert decode(encode(session)) == session


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents())
def test_the_store_never_rewrites_or_moves_an_unreadable_file(doc: dict[str, Any]) -> None:
    try:
        data = tomli_w.dumps(doc).encode()
    except (TypeError, ValueError):
        return
    if _assert_decodes_or_says_why(data) is not None:
        return
    with tempfile.TemporaryDirectory() as folder:
        store = SessionStore(folder)
        session = _base_session()
        path = store.save(session).path
        path.write_bytes(data)  # replaced on disk by something unreadable
        [row] = store.list()
        assert not row.readable and row.error
        session.exchanges.append(Exchange.from_outcome(CompletionRequest(model="m", prompt="x"), None))
        with pytest.raises(SessionConflictError):
            store.save(session)
        with pytest.raises(SessionStoreError):
            store.delete(path)
        with pytest.raises(SessionStoreError):
            store.load(path)
        assert path.read_bytes() == data
        assert sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith(".")) == [path.name]


def _with(path: tuple, value: Any) -> bytes:
    """The base file with the value at ``path`` replaced (``...`` deletes it)."""
    doc = copy.deepcopy(BASE)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return tomli_w.dumps(doc).encode()


def _text_with(old: str, new: str) -> bytes:
    """The base file with text replaced (for what tomli_w cannot write)."""
    text = encode(_base_session()).decode()
    assert old in text, old
    return text.replace(old, new, 1).encode()


FIRST, LANE = ("exchanges", 0), ("exchanges", 1)
CASES = {
    "prompt is a number": (_with(LANE + ("request", "prompt"), 5), "exchanges[1].request.prompt"),
    "prompt mixes kinds": (_with(LANE + ("request", "prompt"), ["a", 1]), "exchanges[1].request.prompt"),
    "error is a table": (_with(LANE + ("error",), {"a": 1}), "exchanges[1].error"),
    "finish_reason is an array": (_with(FIRST + ("choices", 0, "finish_reason"), [1]), "choices[0].finish_reason"),
    "metrics is a string": (_with(FIRST + ("metrics",), "fast"), "exchanges[0].metrics"),
    "metric is a string": (_with(FIRST + ("metrics", "time_to_first_token_s"), "soon"), "metrics.time_to_first_token_s"),
    "logprobs is a number": (_with(FIRST + ("choices", 0, "logprobs"), 3), "choices[0].logprobs"),
    "huge choice index": (_with(FIRST + ("choices", 1, "index"), 10**18), "choices[1].index"),
    "negative choice index": (_with(FIRST + ("choices", 1, "index"), -1), "choices[1].index"),
    "two choices with one index": (_with(FIRST + ("choices", 1, "index"), 0), "same index"),
    "choices is a table": (_with(FIRST + ("choices",), {"0": "x"}), "exchanges[0].choices"),
    "exchanges is a string": (_with(("exchanges",), "none"), "exchanges"),
    "exchange is a number": (_with(("exchanges",), [1]), "exchanges[0]"),
    "status unknown": (_with(LANE + ("status",), "exploded"), "status"),
    "status is a number": (_with(LANE + ("status",), 3), "status"),
    "started_at a date": (_with(FIRST + ("started_at",), date(2026, 1, 1)), "started_at"),
    "started_at a time": (_with(FIRST + ("started_at",), time(1, 2)), "started_at"),
    "started_at missing": (_with(FIRST + ("started_at",), ...), "started_at: missing"),
    "year 1": (_with(("created",), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-11)))), "created"),
    "lane without group": (_with(LANE + ("group",), ...), "lane needs a group"),
    "lane out of range": (_with(LANE + ("lane",), 100000), "lane"),
    "variant is a list": (_with(LANE + ("variant",), ["model"]), "variant"),
    "variant value of the wrong type": (_with(LANE + ("variant", "model"), 7), "variant"),
    "token id is text": (_with(FIRST + ("choices", 1, "tokens"), ["one"]), "tokens[0]"),
    "stop is a number": (_with(FIRST + ("request", "stop"), 4), "request.stop"),
    "temperature is text": (_with(FIRST + ("request", "temperature"), "hot"), "request.temperature"),
    "request is a string": (_with(FIRST + ("request",), "GET /"), "exchanges[0].request"),
    "usage is a list": (_with(FIRST + ("usage",), [1]), "exchanges[0].usage"),
    "http_status absurd": (_with(LANE + ("http_status",), 99999), "http_status"),
    "http_status is a boolean": (_with(LANE + ("http_status",), True), "http_status"),
    "title is a number": (_with(("title",), 3), "title"),
    "newer schema": (_with(("schema_version",), 3), "newer"),
    "schema_version is text": (_with(("schema_version",), "2"), "schema_version"),
    "logprobs_json not JSON": (_with(FIRST + ("choices", 0, "logprobs_json"), "{nope"), "logprobs_json"),
    "logprobs_json deeply nested": (_with(FIRST + ("choices", 0, "logprobs_json"), "[" * 100_000), "logprobs_json"),
    "moderately deep nesting": (_with(("x",), _nested(60)), "nested more than"),
    "huge integer": (_text_with("seed = 1", "seed = " + "9" * 5000), "cannot be read"),
    "deep nesting": (_text_with('title = "base"', "title = " + "[" * 3000 + "]" * 3000), "nested too deeply"),
    "not UTF-8": (b"schema_version = 2\ntitle = \"\xff\"", "not UTF-8"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_malformed_file_is_listed_unreadable_with_the_key_named(tmp_path: Path, case: str) -> None:
    data, reason = CASES[case]
    with pytest.raises(SessionFormatError) as raised:
        decode(data)
    assert reason in str(raised.value)
    path = tmp_path / "20260101-000000-000-abcdef--hostile.toml"
    path.write_bytes(data)
    [row] = SessionStore(tmp_path).list()
    assert not row.readable and reason in row.error
    assert path.read_bytes() == data


def test_a_time_beyond_a_float_is_read_as_absent() -> None:
    """A number no float can hold is dropped like any other unusable server figure (the API
    layer reads time_info that way too); the rest of the exchange is kept."""
    session = decode(_with(FIRST + ("time_info",), {"total_time": 10**400, "queue_time": 0.5}))
    time_info = session.exchanges[0].time_info
    assert time_info is not None
    assert time_info.total_time is None and time_info.queue_time == 0.5


def test_cli_lists_unreadable_files_and_show_says_why_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    store = SessionStore(folder)
    good = store.save(_base_session()).path
    bad = folder / "20260101-000000-000-abcdef--hostile.toml"
    data = _with(LANE + ("request", "prompt"), 5)
    bad.write_bytes(data)
    env = clean_env(tmp_path)

    listed = workbench("sessions", "--sessions-dir", str(folder), "list", env=env)
    assert listed.returncode == 0 and b"Traceback" not in listed.stderr
    lines = listed.stdout.decode().splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "EXCH", "MODEL", "TITLE"]
    assert any(f"{bad.name}: unreadable: exchanges[1].request.prompt" in line for line in lines)
    assert any(line.startswith(good.name.split("--")[0]) for line in lines)

    shown = workbench("sessions", "show", str(bad), "--sessions-dir", str(folder), env=env)
    assert shown.returncode == 2 and shown.stdout == b""
    assert shown.stderr.decode().count("\n") == 1 and "prompt" in shown.stderr.decode()
    for command in (("export", str(bad)), ("replay", str(bad), "--offline"), ("sessions", "delete", str(bad))):
        result = workbench(*command, "--sessions-dir", str(folder), env=env)
        assert result.returncode == 2 and b"Traceback" not in result.stderr, command
    assert bad.read_bytes() == data
