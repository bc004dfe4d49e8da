"""What is on disk is hostile too: FIFOs, folders and dangling links named like sessions, a
sessions path that is a file, a read-only folder, a huge file. One line, exit 2, no hang."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_harness import clean_env, workbench
from workbench.api.request import CompletionRequest
from workbench.sessions.codec import MAX_SESSION_BYTES
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionFileError, SessionStore

NAME = "20260101-000000-000-abcdef--odd.toml"


def saved_session(folder: Path, title: str = "fine") -> Path:
    session = Session.new(title=title)
    session.exchanges.append(
        Exchange.from_outcome(CompletionRequest(model="llama3.1-8b", prompt="hello"), None)
    )
    return SessionStore(folder).save(session).path


def _make(kind: str, path: Path) -> str:
    if kind == "fifo":
        os.mkfifo(path)
        return "FIFO"
    if kind == "folder":
        path.mkdir()
        return "folder"
    os.symlink(path.parent / "nowhere.toml", path)
    return "does not exist"


@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling symlink"])
def test_things_named_like_sessions_are_listed_unreadable_and_never_hang(
    tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    saved_session(folder)
    odd = folder / NAME
    reason = _make(kind, odd)

    rows = {row.name: row for row in SessionStore(folder).list()}
    assert reason in (rows[NAME].error or "") and len(rows) == 2

    env = clean_env(tmp_path)
    started = time.monotonic()
    for command in (
        ("sessions", "show", NAME),
        ("sessions", "show", str(odd), "--toml"),
        ("sessions", "show", "20260101-000000-000-abc"),  # by id prefix
        ("export", NAME),
        ("replay", NAME, "--offline"),
        ("sessions", "delete", NAME),
    ):
        result = workbench(*command, "--sessions-dir", str(folder), env=env)
        err = result.stderr.decode()
        assert result.returncode == 2, (command, err)
        assert "Traceback" not in err and err.count("\n") == 1 and reason in err, (command, err)
    assert time.monotonic() - started < 50  # a FIFO opened for reading would block forever
    listed = workbench("sessions", "list", "--sessions-dir", str(folder), env=env)
    assert listed.returncode == 0 and f"{NAME}: unreadable:" in listed.stdout.decode()
    assert os.path.lexists(odd)  # left alone


def test_a_sessions_path_that_is_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "sessions"
    not_a_folder.write_text("I am a file")
    env = clean_env(tmp_path)
    for command in (
        ("sessions", "list"),
        ("sessions", "show", "2026"),
        ("sessions", "restore"),
        ("export", "2026"),
        ("replay", "2026", "--offline"),
    ):
        result = workbench(*command, "--sessions-dir", str(not_a_folder), env=env)
        err = result.stderr.decode()
        assert result.returncode == 2, (command, err)
        assert err.count("\n") == 1 and "not a folder" in err and "Traceback" not in err, command
    with pytest.raises(SessionFileError, match="is a file, not a folder"):
        SessionStore(not_a_folder).save(Session.new())
    assert not_a_folder.read_text() == "I am a file"


def test_the_sessions_folder_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "sessions"
    path = saved_session(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    SessionStore(folder).delete(path)
    assert stat.S_IMODE((folder / ".trash").stat().st_mode) == 0o700


@pytest.fixture
def read_only_folder(tmp_path: Path):
    """A session folder with one session that cannot be written: a read-only mount when
    running as root (root ignores permission bits), else a folder without write permission."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = saved_session(folder, "kept")
    if os.geteuid() == 0:
        if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode:
            pytest.skip("needs permission to bind-mount")
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        try:
            yield folder, path
        finally:
            subprocess.run(["umount", str(folder)], check=False)
    else:
        folder.chmod(0o500)
        try:
            yield folder, path
        finally:
            folder.chmod(0o700)


def test_a_read_only_folder_is_one_line_and_nothing_lost(
    read_only_folder: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, path = read_only_folder
    before = path.read_bytes()
    store = SessionStore(folder)
    session = store.load(path)
    session.exchanges.append(
        Exchange.from_outcome(CompletionRequest(model="llama3.1-8b", prompt="more"), None)
    )
    with pytest.raises(SessionFileError, match="cannot save .*(read-only|ermission)"):
        store.save(session)
    assert path.read_bytes() == before
    assert len(session.exchanges) == 2  # the work is still in memory, to save elsewhere

    env = clean_env(tmp_path)
    listed = workbench("sessions", "list", "--sessions-dir", str(folder), env=env)
    assert listed.returncode == 0 and "kept" in listed.stdout.decode()
    deleted = workbench("sessions", "delete", path.name, "--sessions-dir", str(folder), env=env)
    assert deleted.returncode == 2 and deleted.stderr.decode().count("\n") == 1
    assert b"Traceback" not in deleted.stderr
    replayed = workbench(
        "replay", path.name, "--offline", "--save", "--sessions-dir", str(folder), env=env
    )
    assert replayed.returncode == 2 and b"the replay was not saved: cannot save" in replayed.stderr
    assert b"Traceback" not in replayed.stderr


def test_a_file_over_the_size_cap_is_never_read_whole(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    huge = folder / NAME
    with open(huge, "wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2 * 1024**3)
    [row] = SessionStore(folder).list()
    assert f"read up to {MAX_SESSION_BYTES // 2**20} MB" in row.error
    result = workbench("sessions", "show", NAME, "--sessions-dir", str(folder), env=clean_env(tmp_path))
    assert result.returncode == 2 and b"read up to" in result.stderr


@pytest.mark.parametrize(
    "command", [["sessions", "list"], ["sessions", "show", "ID"], ["sessions", "show", "ID", "--toml"]]
)
def test_a_closed_pipe_is_not_reported_as_a_session_error(tmp_path: Path, command: list[str]) -> None:
    """`sessions list | head`: the BrokenPipeError must reach the CLI's pipe handling, not be
    swallowed as "workbench: [Errno 32] Broken pipe" with exit 2."""
    folder = tmp_path / "sessions"
    path = saved_session(folder)
    command = [path.name if c == "ID" else c for c in command]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "workbench", *command, "--sessions-dir", str(folder)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=clean_env(tmp_path),
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode != 2
    assert b"workbench: [Errno 32]" not in result.stderr and b"cannot" not in result.stderr


async def test_the_browser_says_when_the_sessions_path_is_a_file_and_stays_up(tmp_path: Path) -> None:
    from ui_sessions_fixtures import BrowserHost
    from workbench.ui.session_browser import SessionBrowser

    not_a_folder = tmp_path / "sessions"
    not_a_folder.write_text("I am a file")
    store = SessionStore(not_a_folder)
    app = BrowserHost(lambda: SessionBrowser(store), store=store)
    said: list[str] = []
    original = app.notify
    app.notify = lambda message, **kw: (said.append(str(message)), original(message, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, SessionBrowser)
    assert any("is a file, not a folder" in message for message in said)


def test_fifos_planted_in_the_index_do_not_hang_listing_search_or_open(tmp_path: Path) -> None:
    from workbench.sessions.doccache import MIN_CACHED_BYTES

    folder = tmp_path / "sessions"
    store = SessionStore(folder)
    session = Session.new(title="big enough to be cached")
    session.exchanges.append(
        Exchange.from_outcome(CompletionRequest(model="m", prompt="x" * MIN_CACHED_BYTES), None)
    )
    path = store.save(session).path
    index = folder / ".index"
    (index / "docs").mkdir(parents=True, exist_ok=True)
    for name in ("summaries.json", "search.dat", f"docs/{path.name}.json"):
        target = index / name
        if target.exists():
            target.unlink()
        os.mkfifo(target)
    fresh = SessionStore(folder)  # in-process: a hang here would hang the test run
    [row] = fresh.list()
    assert row.readable
    assert fresh.search("x") and fresh.load(path) == session


def test_the_index_folder_is_private_too(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    saved_session(folder)
    store = SessionStore(folder)
    store.list()
    store.search("hello")
    assert stat.S_IMODE((folder / ".index").stat().st_mode) == 0o700
