"""Build hook: record the git commit a wheel is built from (shown by ``workbench --version``).

Everything else about the package is declared in pyproject.toml. From a clone,
``pip install .``, ``pipx install .`` and ``uv tool install .`` run this; from an sdist or a
tree without git there is no commit, and the version is shown alone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent
    if not (root / ".git").exists():
        return None

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    return f"{commit}-dirty" if git("status", "--porcelain", "--untracked-files=no") else commit


class BuildPyWithCommit(build_py):
    def run(self) -> None:
        super().run()
        commit = _git_commit()
        if commit and not self.editable_mode:
            target = Path(self.build_lib) / "workbench" / "_build_commit.txt"
            target.write_text(commit + "\n", encoding="ascii")


setup(cmdclass={"build_py": BuildPyWithCommit})
