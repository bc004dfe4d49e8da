"""What the TUI imports before its first frame (docs/benchmarks.md, startup): the HTTP client
(httpx) and the highlighter (pygments) come later, so a change that pulls them back into
start-up shows here rather than only in a benchmark."""

from __future__ import annotations

import subprocess
import sys

LATER = ("httpx", "httpcore", "pygments", "workbench.api.client")


def test_the_tui_starts_without_the_http_client_or_the_highlighter() -> None:
    probe = (
        "import sys\n"
        "import workbench.cli, workbench.cli.tui, workbench.ui.app\n"
        "from workbench.api.endpoint import Endpoint\n"
        "Endpoint.from_env(base_url='http://127.0.0.1:8080/v1', environ={})\n"
        f"print(sorted(name for name in {LATER!r} if name in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_client_does_not_load_httpx_command_line_tool() -> None:
    """httpx imports click, rich.syntax and pygments for its own CLI when click is installed;
    the workbench never runs that tool (2.5 MB less, docs/benchmarks.md)."""
    probe = (
        "import sys\n"
        "import workbench.api.client\n"
        "loaded = [name for name in ('click', 'pygments', 'httpx._main') if sys.modules.get(name)]\n"
        "print(sorted(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
