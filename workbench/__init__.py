"""Cerebras Workbench: a keyboard-driven terminal workbench for the text-completions API.

The distribution is ``cerebras-workbench`` (``workbench`` on PyPI is someone else's); the import
package and the command are ``workbench``.
"""

from __future__ import annotations

__version__ = "0.1.0"
DISTRIBUTION = "cerebras-workbench"


def build_commit() -> str | None:
    """The git commit this code comes from, or None when nobody can tell.

    From a git checkout (an editable install) the commit is asked of git, with ``-dirty`` when
    the tree has changes; a wheel built from a clone carries the commit it was built from in
    ``_build_commit.txt`` (written by ``setup.py`` at build time).
    """
    from pathlib import Path

    here = Path(__file__).resolve().parent
    if (here.parent / ".git").exists():
        commit = _ask_git(here.parent)
        if commit:
            return commit
    try:
        text = (here / "_build_commit.txt").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text and len(text) <= 64 and text.replace("-", "").isalnum() else None


def _ask_git(root: object) -> str | None:
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if status else commit


def version_text() -> str:
    """What ``workbench --version`` prints: the version, and the commit when known."""
    commit = build_commit()
    return f"workbench {__version__}" + (f" (commit {commit})" if commit else "")
