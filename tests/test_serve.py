"""`workbench serve`: the token guards every route, and a real headless Chromium drives the TUI.

The browser test needs Debian's chromium (``.ci/run`` installs it). Outside CI it is skipped when
chromium is missing; in CI (``CI`` set) a missing browser fails the test instead of hiding it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest

from cli_harness import clean_env

try:
    import textual_serve  # noqa: F401
except ImportError:
    if os.environ.get("CI"):
        raise  # CI installs the dev extra, which includes serve: never skip silently there
    pytest.skip("the 'serve' extra is not installed", allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
URL_PATTERN = re.compile(r"^http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{20,}/$")


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """`workbench serve --offline` on a free loopback port: (url, sessions dir, process)."""
    sessions = tmp_path / "sessions"
    env = clean_env(tmp_path, {"CEREBRAS_API_KEY": "csk-serve-test-secret"})
    process = subprocess.Popen(
        [
            sys.executable, "-m", "workbench", "serve", "--port", "0",
            "--offline", "--sessions-dir", str(sessions), "--model", "llama3.1-8b",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert URL_PATTERN.match(url), (url, process.stderr.read() if process.poll() else "")
        yield url, sessions, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_every_request_without_the_token_is_refused(served: tuple[str, Path, Any]) -> None:
    url, _, _ = served
    root = url.rsplit("/", 2)[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    for path in ("/", "/ws", "/static/js/textual.js", f"/{token[:-1]}/", f"/{token}x/ws", "/x/" + token):
        assert httpx.get(root + path).status_code == 403, path
    page = httpx.get(url)
    assert page.status_code == 200
    assert f"/{token}/ws" in page.text
    assert "googleapis" not in page.text, "the page must not reach out to other hosts"
    assert "csk-serve-test-secret" not in page.text
    assert httpx.get(f"{url}static/js/textual.js").status_code == 200


def test_a_public_address_needs_public(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "serve", "--host", "0.0.0.0", "--offline"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--public" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_app_command_carries_the_tui_options() -> None:
    from workbench.cli import build_parser
    from workbench.cli.serve import tui_argv

    args = build_parser(("serve",)).parse_args(
        ["serve", "--offline", "--sessions-dir", "/tmp/x y", "--model", "m", "--ssh", "--port", "0"]
    )
    assert tui_argv(args) == ["--offline", "--model", "m", "--sessions-dir", "/tmp/x y", "--ssh"]


# -- a real browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class DevTools:
    """Just enough of the Chrome DevTools Protocol: commands on one page session."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.next_id = 0
        self.session_id: str | None = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session_id and not method.startswith("Target."):
            message["sessionId"] = self.session_id
        await self.websocket.send_json(message)
        while True:
            reply = json.loads((await self.websocket.receive(timeout=30)).data)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[DevTools]:
    binary = _chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run must install Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    import aiohttp

    profile = tempfile.mkdtemp(prefix="wb-chromium-")
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--window-size=1200,800",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        while endpoint is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
            if not line:
                raise AssertionError("chromium exited before its DevTools endpoint was up")
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            endpoint = match.group(1) if match else None
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(endpoint, max_msg_size=0) as websocket:
                yield DevTools(websocket)
    finally:
        process.kill()
        await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _poll(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_headless_chromium_runs_the_tui_and_sends_a_prompt(
    served: tuple[str, Path, Any], browser: DevTools
) -> None:
    url, sessions, _ = served
    target = await browser.call("Target.createTarget", url="about:blank")
    attached = await browser.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
    browser.session_id = attached["sessionId"]
    await browser.call("Page.enable")
    await browser.call("Page.navigate", url=url)

    # textual-serve marks the page once the app process has drawn its first bytes.
    await _poll(
        lambda: browser.evaluate("document.body && document.body.classList.contains('-first-byte')"),
        60,
        "the app process to start and draw",
    )
    prompt = "Hello from a browser tab"

    def saved_exchanges() -> list[dict[str, Any]]:
        exchanges: list[dict[str, Any]] = []
        for path in sessions.glob("*.toml"):
            exchanges += tomllib.loads(path.read_text(encoding="utf-8")).get("exchanges", [])
        return exchanges

    async def sent() -> bool:
        return any(e.get("request", {}).get("prompt") == prompt for e in saved_exchanges())

    # Typed keys reach the app through the websocket (the prompt has focus at start, even for
    # keys that arrive while the app is still mounting); ctrl+j sends.
    try:
        # Keyboard focus on the terminal, without a click the app would see as a mouse event.
        await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        await browser.call("Input.insertText", text=prompt)
        for kind in ("rawKeyDown", "keyUp"):
            await browser.call(
                "Input.dispatchKeyEvent",
                type=kind,
                modifiers=2,  # ctrl
                key="j",
                code="KeyJ",
                windowsVirtualKeyCode=74,
                nativeVirtualKeyCode=74,
            )
        await _poll(sent, 30, "the exchange typed in the browser to be autosaved")
    finally:
        # The screenshot is the artifact a person looks at, pass or fail.
        ARTIFACTS.mkdir(exist_ok=True)
        shot = await browser.call("Page.captureScreenshot", format="png")
        (ARTIFACTS / "serve-chromium.png").write_bytes(base64.b64decode(shot["data"]))
    exchange = next(e for e in saved_exchanges() if e.get("request", {}).get("prompt") == prompt)
    assert exchange["status"] == "complete", exchange
    saved = "\n".join(path.read_text(encoding="utf-8") for path in sessions.glob("*.toml"))
    assert "csk-serve-test-secret" not in saved
