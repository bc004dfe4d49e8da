"""`workbench sessions list` and `show` as a reader sees them: a header, aligned columns,
batch choices and compare lanes each under their own heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult
from workbench.cli import main
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore


def test_list_has_a_header_and_aligned_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SessionStore(tmp_path)
    for title, model, count in [("short", "m", 1), ("a title\nwith a newline", "qwen-3-235b-a22b", 12)]:
        session = Session.new(title=title)
        session.exchanges += [
            Exchange.from_outcome(CompletionRequest(model=model, prompt="p"), None) for _ in range(count)
        ]
        store.save(session)
    (tmp_path / "20260101-000000-000-abcdef--broken.toml").write_text("title = [")
    assert main(["sessions", "list", "--sessions-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    header = lines[0]
    columns = [header.index(name) for name in ("UPDATED", "EXCH", "MODEL", "TITLE")]
    rows = {line.split()[-1] if "unreadable" not in line else "broken": line for line in lines[1:]}
    assert rows["newline"][columns[3]:].startswith("a title with a newline")  # one line
    assert rows["newline"][columns[2]:].startswith("qwen-3-235b-a22b")
    assert rows["short"][columns[2]:].startswith("m ")
    assert rows["short"][: columns[2]].rstrip().endswith(" 1")  # counts right-aligned
    assert rows["newline"][: columns[2]].rstrip().endswith("12")
    assert "broken.toml: unreadable: TOML syntax error" in rows["broken"][columns[3]:]


def test_show_separates_batch_prompts_choices_and_lanes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SessionStore(tmp_path)
    session = Session.new(title="batch")
    result = CompletionResult(
        choices=[
            Choice(index=i, text=f"answer {i}", finish_reason="stop" if i % 2 else "length")
            for i in range(4)
        ]
    )
    request = CompletionRequest(model="m", prompt=["first prompt", "second prompt"], n=2)
    session.exchanges.append(Exchange.from_outcome(request, result))
    lane = Exchange.from_outcome(CompletionRequest(model="qwen-3-32b", prompt="x"), None)
    lane.group, lane.lane, lane.variant = "cmp", 1, {"model": "qwen-3-32b"}
    session.exchanges.append(lane)
    path = store.save(session).path
    assert main(["sessions", "show", str(path), "--sessions-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "--- prompt 1 of 2 ---\nfirst prompt\n--- prompt 2 of 2 ---\nsecond prompt\n" in out
    assert "--- output: choice 0 (prompt 1) · finish: length ---\nanswer 0\n" in out
    assert "--- output: choice 1 (prompt 1) · finish: stop ---\nanswer 1\n" in out
    assert "--- output: choice 3 (prompt 2) · finish: stop ---\nanswer 3\n" in out
    assert "## exchange 2 — compare cmp, lane 2: model=qwen-3-32b — complete" in out
    assert 'variant: {"model": "qwen-3-32b"}' in out
