"""The wheel a user gets from `pipx install .` / `uv tool install .` / PyPI: built from this
tree, installed into a fresh venv, and run from there (issue 15, item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cli_harness import clean_env

import workbench

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.packaging]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 240):
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_is_cerebras_workbench_with_its_data(wheel: Path) -> None:
    assert wheel.name.startswith(f"cerebras_workbench-{workbench.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(
            f"cerebras_workbench-{workbench.__version__}.dist-info/METADATA"
        ).decode()
        entry_points = archive.read(
            f"cerebras_workbench-{workbench.__version__}.dist-info/entry_points.txt"
        ).decode()
    assert "Name: cerebras-workbench\n" in metadata
    assert "Requires-Dist: textual" in metadata and "Requires-Python: >=3.11" in metadata
    assert "workbench = workbench.cli:main" in entry_points
    assert "cbwb = workbench.cli:main" in entry_points
    shipped_themes = {p.name for p in (ROOT / "themes").glob("*.toml")}
    assert shipped_themes and {f"workbench/themes/{n}" for n in shipped_themes} <= names
    sim_data = {p.name for p in (ROOT / "workbench" / "sim" / "data").glob("*.txt")}
    assert sim_data and {f"workbench/sim/data/{n}" for n in sim_data} <= names
    assert "workbench/ui/app.tcss" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_installed_in_a_fresh_venv_the_command_works(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    # Dependencies come from the configured index (or the pip cache): no other network.
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path, timeout=600)
    # Run from an empty folder with a clean environment: nothing from this tree can leak in.
    env = clean_env(tmp_path)
    env.pop("PYTHONPATH", None)
    work = tmp_path / "elsewhere"
    work.mkdir()

    version = run(venv / "bin" / "workbench", "--version", cwd=work, env=env).stdout.strip()
    assert version.startswith(f"workbench {workbench.__version__}")
    if (ROOT / ".git").exists():
        commit = run("git", "-C", ROOT, "rev-parse", "--short=12", "HEAD", cwd=work).stdout.strip()
        assert f"(commit {commit}" in version  # built from a clone: the commit is baked in
    assert run(venv / "bin" / "cbwb", "--version", cwd=work, env=env).stdout.strip() == version

    answered = run(
        venv / "bin" / "workbench", "run", "--offline", "hi", "--max-tokens", "5",
        cwd=work, env=env,
    )  # fmt: skip
    assert answered.stdout.strip()
    assert "tok/s" in answered.stderr

    where = run(
        venv / "bin" / "python", "-c",
        "import workbench, workbench.paths as p; "
        "print(workbench.__file__); print(len(list(p.shipped_themes_dir().glob('*.toml'))))",
        cwd=work, env=env,
    ).stdout.split()  # fmt: skip
    assert where[0].startswith(str(venv)) and not where[0].startswith(str(ROOT))
    assert int(where[1]) == len(list((ROOT / "themes").glob("*.toml")))
