"""Sanity checks of the display benchmark's moving parts (parsing and bookkeeping, not timing)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from hypothesis import given, strategies as st

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from _marking_proxy import DEFAULT_MARKER, SseMarker  # noqa: E402
from _pty_harness import ProcessSample, PtyProcess, child_environment  # noqa: E402


def _event(text: str, finish: str | None = None) -> bytes:
    body = {"id": "x", "object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": finish}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


STREAM = _event("") + _event(" once") + _event(" upon") + _event("", "length") + b"data: [DONE]\n\n"


def _texts(body: bytes) -> list[str]:
    texts = []
    for block in body.split(b"\n\n"):
        if block.startswith(b"data: {"):
            texts.append(json.loads(block[6:])["choices"][0]["text"])
    return texts


def _run_marker(parts: list[bytes]) -> tuple[bytes, int]:
    marker = SseMarker(DEFAULT_MARKER)
    out = b""
    marker_writes = 0
    for part in parts:
        before, marker_bytes, after = marker.feed(part)
        out += before + marker_bytes + after
        marker_writes += bool(marker_bytes)
    return out + marker.flush(), marker_writes


def test_marker_is_the_last_text_before_the_finish_event() -> None:
    out, writes = _run_marker([STREAM])
    assert writes == 1
    assert _texts(out) == ["", " once", " upon", "\n" + DEFAULT_MARKER, ""]  # a line of its own
    assert out.endswith(b"data: [DONE]\n\n")


def test_marker_is_appended_when_the_final_event_carries_text() -> None:
    stream = _event(" once") + _event(" upon", "stop") + b"data: [DONE]\n\n"
    out, writes = _run_marker([stream])
    assert writes == 1
    assert _texts(out) == [" once", " upon\n" + DEFAULT_MARKER]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=8))
def test_marker_does_not_depend_on_how_the_stream_is_split(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    parts = [STREAM[a:b] for a, b in zip(bounds, bounds[1:])]
    assert _run_marker(parts) == _run_marker([STREAM])


def test_process_sample_reads_this_process() -> None:
    sample = ProcessSample.read(os.getpid())
    assert sample.cpu_seconds > 0
    assert sample.peak_rss_bytes > 1_000_000


def test_pty_process_records_output_and_sees_the_window_size() -> None:
    code = "import os; print('size', os.get_terminal_size(1).columns, os.get_terminal_size(1).lines)"
    proc = PtyProcess([sys.executable, "-c", code], env=child_environment(os.environ, 100, 30), columns=100, rows=30)
    try:
        assert proc.wait_for_bytes(b"size 100 30", timeout=20) is not None
    finally:
        assert proc.stop() == 0


def test_screen_replay_finds_when_text_first_shows() -> None:
    from _pty_harness import ScreenReplay  # needs pyte (dev extra)

    chunks = [(1.0, b"hello "), (2.0, b"wor"), (3.0, b"ld\r\n"), (4.0, b"\x1b[2J\x1b[Hgone")]
    replay = ScreenReplay(chunks, 40, 5)
    found = replay.first_times(
        {
            "world": ((lambda text: "hello world" in text), 0.0),
            "gone": ((lambda text: "gone" in text), 0.0),
            "never": ((lambda text: "absent" in text), 0.0),
        }
    )
    assert found == {"world": 3.0, "gone": 4.0, "never": None}


def test_docs_section_replaces_only_its_generated_part(tmp_path: Path) -> None:
    from stream_display import DOCS_HEADING, write_docs_section

    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Other\n\nkeep me\n")
    write_docs_section("first numbers", path)
    text = path.read_text()
    assert text.index("keep me") < text.index(DOCS_HEADING) < text.index("first numbers")

    # Hand-written findings in the section and a later section by someone else survive.
    path.write_text(text.rstrip() + "\n\n### What we found\n\nprose\n\n## Later\n\nkeep too\n")
    write_docs_section("new numbers", path)
    text = path.read_text()
    assert "first numbers" not in text
    assert "new numbers" in text
    assert "keep me" in text and "prose" in text and "keep too" in text
    assert text.index(DOCS_HEADING) < text.index("new numbers") < text.index("prose") < text.index("## Later")


def test_ratio_table_compares_medians_and_checks_each_target() -> None:
    from stream_display import SCENARIOS, RunResult, ratio_table

    scenario = SCENARIOS[0]
    ours = [RunResult(lag_ms=v, cpu_s=2.0, cpu_to_idle_s=2.2, startup_s=0.6, rss_mb=65.0, key_ms=4.0, term_mb=1.5) for v in (30.0, 40.0, 50.0)]
    theirs = [RunResult(lag_ms=v, cpu_s=1.0, cpu_to_idle_s=2.0, startup_s=0.5, rss_mb=48.0, key_ms=8.0, term_mb=1.0) for v in (40.0, 40.0, 45.0)]
    table = ratio_table("workbench", "standin-log", {"workbench": {scenario: ours}, "standin-log": {scenario: theirs}}, scenario)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()}
    assert "40.0 (30.0–50.0)" in rows["display lag (last token → on screen), ms"]
    assert "| 1.00× (0.67–1.25) | ≤ 1× | ok |" in rows["display lag (last token → on screen), ms"]
    assert "| 2.00× (2.00–2.00) | ≤ 1× | MISSED |" in rows["CPU, send → last token, s"]
    assert rows["CPU, send → idle (end-of-stream work included), s"].endswith("| 1.10× (1.10–1.10) | ≤ 1.15× | ok |")
    assert rows["peak RSS after the stream, MB"].endswith("| ≤ 70 MB | ok |")
    assert rows["terminal bytes, send → quiet, MB"].endswith("| ≤ 2 MB | ok |")


def test_ratio_interval_narrows_with_more_runs_and_is_reproducible() -> None:
    from stream_display import RunResult, ratio_interval

    def runs(values: list[float]) -> list[RunResult]:
        return [RunResult(lag_ms=value) for value in values]

    spread = [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    few = ratio_interval(runs(spread), runs(spread), "lag_ms")
    many = ratio_interval(runs(spread * 8), runs(spread * 8), "lag_ms")
    assert few is not None and many is not None
    assert few[0] < 1.0 < few[1]
    assert few[0] < many[0] <= 1.0 <= many[1] < few[1]
    assert ratio_interval(runs(spread), runs(spread), "lag_ms") == few  # fixed seed
    assert ratio_interval(runs([1.0, 2.0]), runs(spread), "lag_ms") is None  # too few runs


def test_pool_adds_the_runs_of_several_files_and_applies_issue_14s_lag_target(tmp_path: Path, capsys) -> None:
    from stream_display import LOGPROBS_APP, PROBABILITIES_APP, SCENARIOS, main

    scenario = SCENARIOS[1]

    def record(path: Path, ours: list[float], theirs: list[float]) -> Path:
        path.write_text(
            json.dumps(
                {
                    PROBABILITIES_APP: {scenario.name: [{"lag_ms": v, "problems": []} for v in ours]},
                    LOGPROBS_APP: {scenario.name: [{"lag_ms": v, "problems": []} for v in theirs]},
                }
            )
        )
        return path

    first = record(tmp_path / "a.json", [10.0, 11.0, 12.0], [10.0, 10.0, 10.0])
    second = record(tmp_path / "b.json", [10.5, 11.5, 12.5], [10.0, 10.0, 10.0])
    code = main(["--app", PROBABILITIES_APP, "--vs", LOGPROBS_APP, "--pool", str(first), str(second)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{scenario.name}: 6 + 6 runs" in out
    lag = next(line for line in out.splitlines() if line.startswith("| display lag"))
    assert "11.2 (10.0–12.5)" in lag  # the median of the six runs of both files
    assert "| 1.12× (" in lag and lag.endswith("| ≤ 1.1× | MISSED |")

    capsys.readouterr()
    hostile = {
        "not-json.json": "{",
        "a-list.json": "[1, 2]",
        "runs-not-a-list.json": json.dumps({PROBABILITIES_APP: {scenario.name: "x"}}),
        "a-word-for-a-number.json": json.dumps({PROBABILITIES_APP: {scenario.name: [{"lag_ms": "fast"}]}}),
        "deep.json": "[" * 100_000,
    }
    for name, text in hostile.items():
        path = tmp_path / name
        path.write_text(text)
        assert main(["--app", PROBABILITIES_APP, "--vs", LOGPROBS_APP, "--pool", str(path)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"{path}: not a --json file of this benchmark: ") and err.count("\n") == 1, err
    assert main(["--app", PROBABILITIES_APP, "--pool", str(first)]) == 2  # which two apps?
