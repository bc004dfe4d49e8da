"""Build hook: record the git commit a wheel is built from (shown by ``workbench --version``).

Everything else about the package is declared in pyproject.toml. From a clone,
``pip install .``, ``pipx install .`` and ``uv tool install .`` run this; from an sdist or a
tree without git there is no commit, and the version is shown alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def _git_commit() -> str | None:
    """The commit, asked of git the way ``workbench --version`` asks it from a checkout (the
    package's own ``_ask_git``, loaded from its file: nothing it imports is needed here)."""
    root = Path(__file__).resolve().parent
    if not (root / ".git").exists():
        return None
    spec = importlib.util.spec_from_file_location("_workbench_version", root / "workbench" / "__init__.py")
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._ask_git(root)


class BuildPyWithCommit(build_py):
    def run(self) -> None:
        super().run()
        commit = _git_commit()
        if commit and not self.editable_mode:
            target = Path(self.build_lib) / "workbench" / "_build_commit.txt"
            target.write_text(commit + "\n", encoding="ascii")


setup(cmdclass={"build_py": BuildPyWithCommit})
