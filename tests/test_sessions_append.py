"""Append-only autosave, torn appends, compare groups and the version-1 → 2 migration."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult
from workbench.sessions.codec import APPEND_BEGIN, APPEND_END, TORN_NOTE, decode, encode
from workbench.sessions.model import Exchange, Session, exchange_groups
from workbench.sessions.store import (
    SessionConflictError,
    SessionFileError,
    SessionStore,
    UnreadableSessionError,
)

V1_FIXTURE = Path(__file__).parent / "fixtures" / "session-v1.toml"


def exchange(prompt: str, output: str = "out\nsecond line of a longer output, long enough") -> Exchange:
    result = CompletionResult(choices=[Choice(index=0, text=output, finish_reason="stop")])
    return Exchange.from_outcome(CompletionRequest(model="llama3.1-8b", prompt=prompt), result)


def compare_group(group: str = "g1") -> list[Exchange]:
    lanes = []
    for lane, variant in enumerate([{"model": "llama3.1-8b"}, {"model": "qwen-3-32b", "temperature": 0.2}]):
        lane_exchange = exchange("the same prompt", output=f"lane {lane} says\nsomething")
        lane_exchange.group, lane_exchange.lane, lane_exchange.variant = group, lane, variant
        lane_exchange.label = f"lane {lane}" if lane else None
        lanes.append(lane_exchange)
    return lanes


def test_new_exchanges_are_appended_and_the_old_bytes_never_move(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="growing")
    session.exchanges.append(exchange("first"))
    path = store.save(session).path
    before = path.read_bytes()

    session.exchanges.append(exchange("second"))
    result = store.save(session)
    after = path.read_bytes()
    assert result.mode == "appended"
    assert after.startswith(before)
    assert after[len(before):].startswith(APPEND_BEGIN.encode()) and after.endswith(APPEND_END.encode())

    other = SessionStore(tmp_path)
    reread = other.load(path)
    assert reread == session  # `updated` included: read from the appended table's saved_at
    assert reread.recovered is None

    # An instance that opened the grown file appends to it too.
    reread.exchanges.append(exchange("third"))
    assert other.save(reread).mode == "appended"
    assert [e.request.prompt for e in SessionStore(tmp_path).load(path).exchanges] == [
        "first", "second", "third"
    ]


def test_a_save_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="still")
    session.exchanges.append(exchange("only"))
    path = store.save(session).path
    stat = os.stat(path)
    assert store.save(session).mode == "unchanged"
    assert os.stat(path).st_mtime_ns == stat.st_mtime_ns and os.stat(path).st_ino == stat.st_ino


def test_a_title_change_rewrites_the_whole_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="before")
    session.exchanges += [exchange("a")]
    path = store.save(session).path
    session.exchanges.append(exchange("b"))
    store.save(session)
    session.title = "after"
    assert store.save(session).mode == "rewritten"
    text = path.read_text()
    assert APPEND_BEGIN not in text and 'title = "after"' in text
    assert SessionStore(tmp_path).load(path) == session


def test_an_edit_in_place_with_the_same_size_and_mtime_is_still_noticed(tmp_path: Path) -> None:
    """The cheap "still ours?" check compares the tail, not only size, inode and mtime."""
    store = SessionStore(tmp_path)
    session = Session.new(title="edited")
    session.exchanges.append(exchange("mine"))
    path = store.save(session).path
    stat = os.stat(path)
    data = path.read_bytes().replace(b"second line", b"SECOND LINE")
    with open(path, "r+b") as handle:  # same inode, same size
        handle.write(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime

    session.exchanges.append(exchange("more"))
    result = store.save(session)
    assert result.mode == "rewritten"  # merged with the edit, not appended blindly
    outputs = [e.choices[0].text for e in SessionStore(tmp_path).load(path).exchanges]
    assert outputs[0].startswith("out\nSECOND LINE")


@pytest.mark.parametrize("cut", ["mid-string", "after-a-line", "before-end-marker"])
def test_a_torn_append_is_recognised_kept_aside_and_repaired(tmp_path: Path, cut: str) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="torn")
    session.exchanges.append(exchange("kept"))
    path = store.save(session).path
    session.exchanges.append(exchange("cut off"))
    store.save(session)
    whole = path.read_bytes()
    begin = whole.rindex(APPEND_BEGIN.encode())
    chunk = whole[begin:]
    offset = {
        "mid-string": chunk.index(b"second line") + 3,
        # every line complete: the file parses, only the framing shows the cut
        "after-a-line": chunk.index(b"[exchanges.request]"),
        "before-end-marker": len(chunk) - len(APPEND_END),
    }[cut]
    torn = whole[: begin + offset]
    path.write_bytes(torn)  # what a power cut in the middle of the append leaves

    listing = SessionStore(tmp_path).list()
    assert listing[0].readable and listing[0].exchanges == 1
    reopened = SessionStore(tmp_path)
    loaded = reopened.load(path)
    assert loaded.recovered == TORN_NOTE
    assert [e.request.prompt for e in loaded.exchanges] == ["kept"]

    loaded.exchanges.append(exchange("after the crash"))
    assert reopened.save(loaded).mode == "rewritten"
    assert (tmp_path / ".trash" / f"{path.name}.torn").read_bytes() == torn
    repaired = decode(path.read_bytes())
    assert repaired.recovered is None
    assert [e.request.prompt for e in repaired.exchanges] == ["kept", "after the crash"]


def test_compare_groups_round_trip_and_group_together(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="compare")
    session.exchanges += [exchange("before"), *compare_group(), exchange("after")]
    path = store.save(session).path
    text = path.read_text()
    assert 'group = "g1"' in text and "lane = 1" in text and "[exchanges.variant]" in text
    loaded = SessionStore(tmp_path).load(path)
    assert loaded == session
    assert [len(group) for group in exchange_groups(loaded.exchanges)] == [1, 2, 1]
    assert loaded.exchanges[2].lane_name == "lane 1"
    assert loaded.exchanges[1].lane_name == "model=llama3.1-8b"


def test_a_variant_with_an_unknown_field_makes_the_file_unreadable(tmp_path: Path) -> None:
    session = Session.new(title="bad lane")
    session.exchanges += compare_group()
    text = encode(session).decode().replace("temperature = 0.2", "temprature = 0.2")
    (tmp_path / "20260101-000000-000-aaaaaa--bad.toml").write_text(text)
    [row] = SessionStore(tmp_path).list()
    assert "variant" in row.error and "did you mean 'temperature'" in row.error


def test_a_version_1_file_opens_unchanged_and_becomes_version_2_only_when_added_to(
    tmp_path: Path,
) -> None:
    path = tmp_path / V1_FIXTURE.name
    shutil.copy(V1_FIXTURE, path)
    original = path.read_bytes()
    store = SessionStore(tmp_path)

    [row] = store.list()
    assert row.readable and row.exchanges == 4
    session = store.load(path)
    assert [e.status for e in session.exchanges] == ["complete", "complete", "cancelled", "error"]
    assert all(e.group is None and e.http_status is None for e in session.exchanges)
    assert store.save(session).mode == "unchanged"
    assert path.read_bytes() == original  # opening and saving with nothing new: untouched

    session.exchanges.append(exchange("a new one"))
    assert store.save(session).mode == "rewritten"  # not appended to a version-1 file
    text = path.read_text()
    assert text.startswith("schema_version = 2\n") and APPEND_BEGIN not in text
    migrated = SessionStore(tmp_path).load(path)
    assert migrated.exchanges[:4] == decode(original).exchanges
    assert migrated.exchanges[4].request.prompt == "a new one"
    # …and from now on it grows by appending.
    migrated.exchanges.append(exchange("and another"))
    assert SessionStore(tmp_path).save(migrated).mode == "appended"


def test_an_append_refused_by_a_full_disk_leaves_the_file_whole(tmp_path: Path) -> None:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
        capture_output=True,
    ).returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs")
    try:
        store = SessionStore(mount_point / "sessions")
        session = Session.new(title="full")
        session.exchanges.append(exchange("fits"))
        path = store.save(session).path
        session.exchanges.append(exchange("fits too"))
        store.save(session)
        before = path.read_bytes()
        session.exchanges.append(exchange("too big", output="x\n" * 200_000))
        with pytest.raises(SessionFileError, match="No space left on device|no space left on device"):
            store.save(session)
        assert path.read_bytes() == before  # truncated back: no partial table
        assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []
        assert len(SessionStore(path.parent).load(path).exchanges) == 2
        session.exchanges.pop()
        session.exchanges.append(exchange("small again"))
        store.save(session)  # space is there again: the session goes on
        assert len(SessionStore(path.parent).load(path).exchanges) == 3
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_an_unreadable_replacement_is_never_overwritten_by_an_append(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="replaced")
    session.exchanges.append(exchange("mine"))
    path = store.save(session).path
    path.write_bytes(b"schema_version = 2\nprompt = 5\n")
    session.exchanges.append(exchange("more"))
    with pytest.raises(SessionConflictError, match="not overwritten"):
        store.save(session)
    assert path.read_bytes() == b"schema_version = 2\nprompt = 5\n"
    with pytest.raises(UnreadableSessionError):
        store.load(path)


def test_text_that_quotes_the_framing_lines_is_not_mistaken_for_a_torn_save(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="quoting the format")
    sneaky = f"see how it works:\n{APPEND_BEGIN}[[exchanges]]\nid = 'fake'\n"
    session.exchanges.append(exchange(sneaky, output=sneaky))
    path = store.save(session).path
    loaded = SessionStore(tmp_path).load(path)
    assert loaded.recovered is None and loaded == session
    loaded.exchanges.append(exchange(sneaky))
    SessionStore(tmp_path).save(loaded)
    again = decode(path.read_bytes())
    assert again.recovered is None and len(again.exchanges) == 2


def _grown_file(tmp_path: Path) -> tuple[bytes, int, int]:
    """A file grown by one append: its bytes, where the appended chunk starts, exchanges before."""
    store = SessionStore(tmp_path)
    session = Session.new(title="cut anywhere")
    session.exchanges += [exchange("one"), exchange("two")]
    path = store.save(session).path
    session.exchanges.append(exchange('three "quoted"\n', output="ünïcode\n" * 30))
    store.save(session)
    data = path.read_bytes()
    return data, data.rindex(APPEND_BEGIN.encode()), 2


def test_a_cut_at_any_byte_of_an_append_reads_back_as_the_file_before_it(tmp_path: Path) -> None:
    """Whatever prefix of the chunk reached the disk, the reader sees the two saved exchanges
    and says the last save was cut off (the third was never reported saved)."""
    data, start, before = _grown_file(tmp_path)
    for cut in range(start, len(data)):
        torn = data[:cut]
        try:
            text_ok = torn.decode("utf-8") is not None
        except UnicodeDecodeError:
            text_ok = False  # cut inside a multi-byte character: still must not crash
        try:
            session = decode(torn)
        except Exception as error:  # noqa: BLE001 - the assertion is that this never happens
            raise AssertionError(f"cut at {cut - start} of {len(data) - start}: {error!r}") from None
        if cut == start:
            assert session.recovered is None  # nothing of the chunk arrived
        else:
            assert session.recovered == TORN_NOTE, (cut - start, text_ok)
        assert len(session.exchanges) == before
    assert len(decode(data).exchanges) == before + 1


def test_an_id_quoting_the_framing_lines_cannot_fake_a_torn_save(tmp_path: Path) -> None:
    session = Session.new(title="odd ids")
    odd = exchange("p")
    odd.id = "x" * 50 + "\n" + APPEND_BEGIN + "y" * 50
    session.exchanges.append(odd)
    assert decode(encode(session)) == session and decode(encode(session)).recovered is None
