"""Re-opening a long session reads a cached parse of what did not change, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult, Usage
from workbench.sessions import codec
from workbench.sessions.codec import APPEND_BEGIN, TORN_NOTE, decode
from workbench.sessions.doccache import MIN_CACHED_BYTES
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore


def exchange(number: int) -> Exchange:
    text = "\n".join(f"line {number}.{i} of a long output, with some words in it" for i in range(200))
    result = CompletionResult(
        choices=[Choice(index=0, text=text, finish_reason="length")],
        usage=Usage.from_json({"prompt_tokens": 3, "completion_tokens": 2000, "odd": [1.5, float("inf")], "\x00dt": "not a date"}),
    )
    return Exchange.from_outcome(CompletionRequest(model="m", prompt=f"prompt {number}", seed=number), result)


def big_session(folder: Path, count: int = 60) -> tuple[SessionStore, Session, Path]:
    store = SessionStore(folder)
    session = Session.new(title="long")
    session.exchanges = [exchange(i) for i in range(count)]
    path = store.save(session).path
    assert path.stat().st_size > MIN_CACHED_BYTES
    return store, session, path


def cache_file(folder: Path, path: Path) -> Path:
    return folder / ".index" / "docs" / (path.name + ".json")


class CountingParser:
    """Counts how many bytes of TOML are parsed (the point of the cache is to parse fewer)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed = 0
        original = codec.tomllib.loads

        def loads(text: str, **kwargs):
            self.parsed += len(text)
            return original(text, **kwargs)

        monkeypatch.setattr(codec.tomllib, "loads", loads)


def test_a_reopened_session_parses_only_what_was_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, session, path = big_session(tmp_path)
    first = SessionStore(tmp_path).load(path)  # parses all, then caches
    assert first == session and cache_file(tmp_path, path).exists()

    session.exchanges.append(exchange(999))
    assert store.save(session).mode == "appended"
    counter = CountingParser(monkeypatch)
    again = SessionStore(tmp_path).load(path)
    parsed = counter.parsed
    assert again == session == decode(path.read_bytes())
    assert 0 < parsed < 20_000 < path.stat().st_size  # the appended chunk, not all before it


def test_an_edit_before_the_appended_part_is_not_hidden_by_the_cache(tmp_path: Path) -> None:
    _, _, path = big_session(tmp_path)
    SessionStore(tmp_path).load(path)
    data = path.read_bytes().replace(b"line 3.7 of", b"LINE 3.7 OF")  # same size, in the prefix
    path.write_bytes(data)
    assert SessionStore(tmp_path).load(path) == decode(data)


def test_a_forged_cache_cannot_make_a_good_file_unreadable(tmp_path: Path) -> None:
    _, session, path = big_session(tmp_path)
    SessionStore(tmp_path).load(path)
    cached = cache_file(tmp_path, path)
    header, _, body = cached.read_bytes().partition(b"\n")
    doc = json.loads(body)
    doc["exchanges"][0]["request"]["prompt"] = 5
    cached.write_bytes(header + b"\n" + json.dumps(doc).encode())
    assert SessionStore(tmp_path).load(path) == session


def test_a_torn_append_after_the_cached_part_is_still_recognised(tmp_path: Path) -> None:
    store, session, path = big_session(tmp_path)
    store.load(path)
    session.exchanges.append(exchange(1000))
    store.save(session)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(APPEND_BEGIN.encode()) + 200])
    loaded = SessionStore(tmp_path).load(path)
    assert loaded.recovered == TORN_NOTE and len(loaded.exchanges) == 60


def test_the_cache_of_a_session_deleted_outside_the_app_goes_at_the_next_listing(tmp_path: Path) -> None:
    _, _, path = big_session(tmp_path)
    SessionStore(tmp_path).load(path)
    assert cache_file(tmp_path, path).exists()
    path.unlink()
    SessionStore(tmp_path).list()
    assert not cache_file(tmp_path, path).exists()
