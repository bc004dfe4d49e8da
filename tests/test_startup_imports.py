"""What the TUI imports before its first frame (docs/benchmarks.md, startup): the HTTP client
(httpx) and the highlighter (pygments) come later, so a change that pulls them back into
start-up shows here rather than only in a benchmark."""

from __future__ import annotations

import json
import subprocess
import sys

LATER = ("httpx", "httpcore", "pygments", "workbench.api.client")


def loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` a fresh interpreter has imported after running ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps([n for n in {names!r} if sys.modules.get(n)]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_tui_starts_without_the_http_client_or_the_highlighter() -> None:
    code = (
        "import workbench.cli, workbench.cli.tui, workbench.ui.app\n"
        "from workbench.api.endpoint import Endpoint\n"
        "Endpoint.from_env(base_url='http://127.0.0.1:8080/v1', environ={})"
    )
    assert loaded_after(code, LATER) == []


def test_plain_base_urls_are_checked_without_httpx() -> None:
    code = (
        "from workbench.api.endpoint import normalise_base_url\n"
        "for url in ('http://127.0.0.1:8080/v1', 'https://api.cerebras.ai', 'http://[::1]:9/'):\n"
        "    normalise_base_url(url)"
    )
    assert loaded_after(code, ("httpx",)) == []


def test_the_client_does_not_load_httpx_command_line_tool() -> None:
    """httpx imports click, rich.syntax and pygments for its own CLI when click is installed;
    the workbench never runs that tool (2.5 MB less, docs/benchmarks.md)."""
    names = ("click", "pygments", "httpx._main")
    assert loaded_after("import workbench.api.client", names) == []
