"""`workbench --version`: the version, and for a build from a clone the commit (issue 15, 5)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cli_harness import clean_env, workbench

import workbench as package

ROOT = Path(__file__).resolve().parent.parent


def test_version_names_the_release_and_the_commit_of_this_checkout(tmp_path: Path) -> None:
    result = workbench("--version", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode().strip()
    assert text.startswith(f"workbench {package.__version__}")
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        head = subprocess.run(
            [git, "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        assert f"(commit {head}" in text


def test_a_baked_commit_is_used_when_there_is_no_git(tmp_path: Path, monkeypatch) -> None:
    """A wheel has no .git next to it: the commit written at build time is shown."""
    fake_root = tmp_path / "site-packages" / "workbench"
    fake_root.mkdir(parents=True)
    (fake_root / "_build_commit.txt").write_text("0123456789ab\n", encoding="ascii")
    monkeypatch.setattr(package, "__file__", str(fake_root / "__init__.py"))
    assert package.build_commit() == "0123456789ab"
    (fake_root / "_build_commit.txt").write_text("$(rm -rf ~)\n", encoding="ascii")
    assert package.build_commit() is None  # only a plain commit id is ever shown
