"""docs/eval-format.md: its complete example is a working eval, its CI snippet valid YAML-ish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.cli import EXIT_OK, main
from workbench.eval.assertions import ASSERTION_TYPES
from workbench.eval.results import read_results
from workbench.eval.spec import load_eval

DOC = Path(__file__).resolve().parent.parent / "docs" / "eval-format.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_complete_example_runs_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "greetings.toml").write_text(blocks("toml")[0], encoding="utf-8")
    (tmp_path / "cases.csv").write_text(blocks("csv")[0], encoding="utf-8")
    spec = load_eval(tmp_path / "greetings.toml")
    assert [c.name for c in spec.cases] == ["hello", "thanks", "night", "morning"]
    assert [v.name for v in spec.variants] == ["8b", "32b"]
    assert main(["eval", str(tmp_path / "greetings.toml"), "--offline"]) == EXIT_OK
    results = read_results(tmp_path / "greetings.results.toml")
    assert results is not None and results.complete and len(results.records) == 8
    assert "case" in capsys.readouterr().out


def test_every_assertion_type_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ASSERTION_TYPES:
        assert f"| `{name}` |" in text


def test_the_ci_example_runs_shards_and_merges_junit() -> None:
    (workflow,) = blocks("yaml")
    assert "shard: [1, 2, 3, 4]" in workflow
    assert "--shard ${{ matrix.shard }}/4 --junit junit-${{ matrix.shard }}.xml" in workflow
    assert 'ET.ElementTree(merged).write("junit.xml"' in workflow
