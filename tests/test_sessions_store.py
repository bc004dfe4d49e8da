"""The session folder: atomic saves, unreadable files left alone, no clobbering, trash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult
from workbench.sessions.codec import encode
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import (
    SessionConflictError,
    SessionStore,
    UnreadableSessionError,
)


def exchange(prompt: str, output: str = "out", model: str = "llama3.1-8b") -> Exchange:
    result = CompletionResult(choices=[Choice(index=0, text=output, finish_reason="stop")])
    return Exchange.from_outcome(CompletionRequest(model=model, prompt=prompt), result)


def session_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix == ".toml")


def test_saved_session_loads_back_and_is_listed_newest_first(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    older = Session.new(title="older")
    older.exchanges.append(exchange("first prompt"))
    store.save(older)
    newer = Session.new(title="newer")
    newer.exchanges += [exchange("a", model="qwen-3-32b"), exchange("b", model="qwen-3-32b")]
    store.save(newer)

    listing = store.list()
    assert [(s.title, s.model, s.exchanges) for s in listing] == [
        ("newer", "qwen-3-32b", 2),
        ("older", "llama3.1-8b", 1),
    ]
    assert store.load(newer.id) == newer
    assert store.load(listing[1].path) == older


def test_file_name_is_id_plus_slug_and_sorts_by_time(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="Héllo, Wörld! Ünïcode")
    result = store.save(session)
    assert result.path.name == f"{session.id}--hello-world-unicode.toml"


@settings(max_examples=60, deadline=None)
@given(st.text() | st.sampled_from(["../../etc/passwd", "/abs/path", "..", "C:\\x", "a/../../b", "\x00", "~root"]))
def test_no_title_can_write_outside_the_folder(tmp_path_factory: pytest.TempPathFactory, title: str) -> None:
    directory = tmp_path_factory.mktemp("store")
    store = SessionStore(directory)
    path = store.save(Session.new(title=title)).path
    assert path.parent == directory
    assert [p.name for p in directory.iterdir() if not p.name.startswith(".")] == [path.name]


def test_unreadable_files_are_listed_with_the_reason_and_never_touched(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    broken = tmp_path / "20260101-000000-000-abcdef--broken.toml"
    broken.write_bytes(b"title = [oops\n")
    newer = tmp_path / "20260101-000000-000-fedcba--future.toml"
    newer_text = encode(Session.new(title="from the future")).replace(
        b"schema_version = 2", b"schema_version = 99"
    )
    newer.write_bytes(newer_text)

    listing = {s.name: s for s in store.list()}
    assert "TOML syntax error" in listing[broken.name].error
    assert "schema_version 99 is newer" in listing[newer.name].error
    with pytest.raises(UnreadableSessionError, match="newer"):
        store.load(newer)
    with pytest.raises(SessionConflictError, match="leaves it alone"):
        store.delete(broken.name)
    assert broken.read_bytes() == b"title = [oops\n"
    assert newer.read_bytes() == newer_text


def test_a_file_rewritten_by_a_newer_schema_is_not_overwritten(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="mine")
    path = store.save(session).path
    future = path.read_bytes().replace(b"schema_version = 2", b"schema_version = 3")
    path.write_bytes(future)
    session.exchanges.append(exchange("more"))
    with pytest.raises(SessionConflictError, match="not overwritten"):
        store.save(session)
    assert path.read_bytes() == future
    # The work is not lost: it can go to a new file.
    copy_path = store.save_as_new(session).path
    assert copy_path != path and len(store.load(copy_path).exchanges) == 1


def test_two_instances_merge_instead_of_clobbering(tmp_path: Path) -> None:
    first, second = SessionStore(tmp_path), SessionStore(tmp_path)
    mine = Session.new(title="shared")
    first.save(mine)
    theirs = second.load(mine.id)

    mine.exchanges.append(exchange("from first"))
    first.save(mine)
    theirs.exchanges.append(exchange("from second"))
    outcome = second.save(theirs)
    assert outcome.merged_from_disk == 1
    assert [e.request.prompt for e in theirs.exchanges] == ["from first", "from second"]

    mine.exchanges.append(exchange("first again"))
    first.save(mine)
    on_disk = SessionStore(tmp_path).load(mine.id)
    assert [e.request.prompt for e in on_disk.exchanges] == [
        "from first",
        "from second",
        "first again",
    ]
    assert len(session_files(tmp_path)) == 1


def test_hand_edited_title_is_kept_when_the_app_saves(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="before")
    path = store.save(session).path
    path.write_text(path.read_text().replace('title = "before"', 'title = "edited by hand"'))
    session.exchanges.append(exchange("next"))
    store.save(session)
    assert session.title == "edited by hand"
    assert store.load(path).title == "edited by hand"


def test_new_sessions_with_the_same_id_get_separate_files(tmp_path: Path) -> None:
    a, b = Session.new(title="same"), Session.new(title="same")
    b.id = a.id
    path_a = SessionStore(tmp_path).save(a).path
    path_b = SessionStore(tmp_path).save(b).path
    assert path_a != path_b and a.id != b.id
    assert len(session_files(tmp_path)) == 2


def test_delete_moves_to_trash_and_restore_brings_it_back(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="keep me")
    session.exchanges.append(exchange("hello"))
    path = store.save(session).path
    content = path.read_bytes()

    trashed = store.delete(session.id)
    assert not path.exists() and trashed.parent == tmp_path / ".trash"
    assert [s.title for s in store.list()] == []
    assert store.trash() == [trashed]

    restored = store.restore(trashed.name)
    assert restored == path and path.read_bytes() == content
    assert [s.title for s in store.list()] == ["keep me"]


def test_rename_and_duplicate(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="original")
    session.exchanges.append(exchange("p"))
    store.save(session)
    store.rename(session.id, "renamed")
    copy = store.duplicate(session.id)
    titles = sorted(s.title for s in store.list())
    assert titles == ["renamed", "renamed (copy)"]
    assert copy.exchanges == store.load(session.id).exchanges


def test_listing_uses_the_index_and_notices_changed_files(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="indexed")
    path = store.save(session).path
    assert [s.title for s in SessionStore(tmp_path).list()] == ["indexed"]
    assert (tmp_path / ".index" / "summaries.json").exists()
    path.write_bytes(path.read_bytes().replace(b'"indexed"', b'"changed outside"'))
    assert [s.title for s in SessionStore(tmp_path).list()] == ["changed outside"]


def test_search_finds_titles_prompts_and_outputs(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    for title, prompt, output in [
        ("Poems", "write a haiku", "old pond"),
        ("Code", "fizzbuzz in rust", "fn main"),
        ("Misc", "hello", "FROG jumps"),
    ]:
        session = Session.new(title=title)
        session.exchanges.append(exchange(prompt, output))
        store.save(session)
    index = SessionStore(tmp_path).search_index(SessionStore(tmp_path).list())
    assert [s.title for s in index.filter("poems")] == ["Poems"]
    assert [s.title for s in index.filter("RUST")] == ["Code"]
    assert [s.title for s in index.filter("frog jump")] == ["Misc"]
    assert [s.title for s in index.filter("frog")] == ["Misc"]
    assert index.filter("nothing like this") == []
    assert len(index.filter("")) == 3
    # The search text was saved for the next start, whichever store instance listed the rows.
    assert b"write a haiku" in (tmp_path / ".index" / "search.dat").read_bytes()


def test_api_key_in_base_url_never_reaches_the_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="t", base_url="https://user:sk-SECRET@example.test/v1?api_key=sk-SECRET")
    path = store.save(session).path
    assert b"sk-SECRET" not in path.read_bytes()
    assert store.load(path).base_url == "https://example.test/v1"


def test_default_folder_comes_from_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    store = SessionStore()
    assert store.directory == tmp_path / "data" / "sessions"
    assert os.path.isdir(store.save(Session.new()).path.parent)


def test_config_sessions_dir_and_flag_override_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.sessions.location import resolve_sessions_dir

    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    (config_dir / "config.toml").write_text(f'sessions_dir = "{(tmp_path / "from-config").as_posix()}"\n')
    assert SessionStore().directory == tmp_path / "from-config"
    assert resolve_sessions_dir(tmp_path / "flag") == tmp_path / "flag"


def test_a_session_saved_through_another_spelling_of_the_folder_keeps_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    session = Session.new(title="one file")
    SessionStore(tmp_path / "s").save(session)
    session.exchanges.append(exchange("more"))
    SessionStore("s").save(session)
    assert len(session_files(tmp_path / "s")) == 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="abc \n", max_size=12), min_size=1, max_size=8),
    st.lists(st.text(alphabet="abcABC ", max_size=5), min_size=1, max_size=6),
)
def test_search_narrowing_while_typing_matches_a_full_scan(texts: list[str], queries: list[str]) -> None:
    from pathlib import Path as P

    from workbench.sessions.index import SessionSummary
    from workbench.sessions.store import SearchIndex

    rows = [
        (SessionSummary(P("."), f"{i}.toml", str(i), f"t{i}", "m", 1, None, 0.0), text.lower())
        for i, text in enumerate(texts)
    ]
    index = SearchIndex(rows)
    for query in queries:  # each query may extend, shorten or replace the previous one
        words = query.lower().split()
        expected = [summary.name for summary, text in rows if all(w in text for w in words)]
        assert [s.name for s in index.filter(query)] == expected


def test_cached_listing_is_instant_and_the_checked_one_sees_changes(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="before")
    path = store.save(session).path
    store.list()
    path.write_bytes(path.read_bytes().replace(b'"before"', b'"after"'))
    fresh = SessionStore(tmp_path)
    assert [s.title for s in fresh.list_cached()] == ["before"]  # from the index, unchecked
    assert [s.title for s in fresh.list()] == ["after"]


def test_a_session_deleted_elsewhere_is_written_again_by_the_instance_still_using_it(tmp_path: Path) -> None:
    working, browsing = SessionStore(tmp_path), SessionStore(tmp_path)
    session = Session.new(title="still in use")
    path = working.save(session).path
    trashed = browsing.delete(session.id)
    session.exchanges.append(exchange("one more"))
    assert working.save(session).created  # nothing the user did in the open session is lost
    assert working.load(path).exchanges[-1].request.prompt == "one more"
    with pytest.raises(SessionConflictError, match="not overwritten"):
        browsing.restore(trashed)
    assert trashed.exists()
