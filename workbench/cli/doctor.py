"""`workbench doctor`: what to run when something is off, locally or over SSH.

Each check is one line — ok, warning, problem or skipped — and every warning or problem comes
with its fix in one line. ``--json`` prints the same for scripts. Exit 0 when nothing is a
problem, 1 otherwise. The key's value is never printed, only whether there is one, where it
comes from and whether it will be sent. Without the network (``--offline``, or nothing
configured) the network checks are skipped, and the report says so.
"""

from __future__ import annotations

import argparse
import json
import locale
import os
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from workbench.cli import EXIT_DIFFERENT, EXIT_OK
from workbench.cli.common import (
    Output,
    Target,
    UsageError,
    add_connection_flags,
    choose_target,
    cli_config,
    neutralise,
)

Status = Literal["ok", "warning", "problem", "skipped"]
EXIT_PROBLEM = EXIT_DIFFERENT  # 1: at least one problem

# The probe: small and bounded whatever the server does.
PROBE_CONNECT_S = 5.0
PROBE_READ_S = 10.0
PROBE_MAX_BYTES = 2_000_000
# Free space under which saving sessions is at risk.
LOW_SPACE_BYTES = 100 * 1024 * 1024
NO_SPACE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    area: str
    status: Status
    detail: str
    fix: str = ""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the config, endpoint, key, terminal and sessions folder",
        description="Check everything the workbench depends on and say how to fix what is "
        "wrong: the config file, the endpoint and whether a key will be sent there, one "
        "/v1/models call (latency, rate-limit headers), the terminal (colours, clipboard over "
        "SSH/tmux/screen, UTF-8, size) and the sessions folder. Exit codes: 0 no problem "
        "(warnings allowed), 1 at least one problem.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--sessions-dir", metavar="DIR", help="sessions folder to check instead")
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    checks = run_checks(args, env)
    problems = sum(1 for c in checks if c.status == "problem")
    warnings = sum(1 for c in checks if c.status == "warning")
    out = Output()
    if args.json:
        from workbench import __version__, build_commit

        body = {
            "version": __version__,
            "commit": build_commit(),
            "checks": [asdict(c) for c in checks],
            "problems": problems,
            "warnings": warnings,
        }
        out.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render(checks, problems, warnings))
    return EXIT_PROBLEM if problems else EXIT_OK


def render(checks: list[Check], problems: int, warnings: int) -> str:
    from workbench import version_text

    lines = [f"{version_text()} — doctor"]
    area = None
    for check in checks:
        if check.area != area:
            area = check.area
            lines.append(f"{area}")
        lines.append(f"  {check.status:<8} {neutralise(check.detail)}")
        if check.fix:
            lines.append(f"  {'':<8} fix: {neutralise(check.fix)}")
    summary = (
        f"{problems} problem{'s' * (problems != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    )
    lines.append(summary if problems or warnings else "everything looks fine")
    return "\n".join(lines) + "\n"


def run_checks(args: argparse.Namespace, env: Mapping[str, str]) -> list[Check]:
    checks: list[Check] = []
    config = check_config(args, checks)
    target = check_endpoint(args, config, env, checks)
    check_api(args, target, checks)
    check_terminal(env, checks)
    check_sessions(args, config, checks)
    return checks


# -- config --------------------------------------------------------------------------------------


def check_config(args: argparse.Namespace, checks: list[Check]) -> Any:
    from workbench import paths

    config, problems = cli_config(args)
    path = Path(args.config).expanduser() if args.config else paths.config_file()
    if not path.exists() and not args.config:
        checks.append(Check("config", "ok", f"no config file at {path}: defaults are used"))
    elif not problems:
        checks.append(Check("config", "ok", f"{path}: valid"))
    for problem in problems:
        fatal = any(
            word in problem
            for word in ("not valid TOML", "cannot read", "nested too deeply", "no such config")
        )
        checks.append(
            Check(
                "config",
                "problem" if fatal else "warning",
                str(problem),
                "fix that line (the rest of the file is used)"
                if not fatal
                else f"repair {path} or move it away (defaults are used until then)",
            )
        )
    return config


# -- endpoint and key ----------------------------------------------------------------------------


def check_endpoint(
    args: argparse.Namespace, config: Any, env: Mapping[str, str], checks: list[Check]
) -> Target | None:
    from workbench.api.errors import WorkbenchAPIError

    try:
        target = choose_target(args, config, env, fallback_offline=True)
    except (UsageError, WorkbenchAPIError) as error:
        message = getattr(error, "message", None) or str(error)
        checks.append(
            Check("endpoint", "problem", message, "correct the flag, variable or profile named")
        )
        return None
    if target.offline:
        why = (
            "--offline"
            if getattr(args, "offline", False)
            else "no API key and no base URL configured"
            if target.unconfigured
            else "the endpoint has no key"
        )
        checks.append(
            Check("endpoint", "ok", f"requests go to the built-in offline simulator ({why})")
        )
        for notice in target.notices:
            checks.append(
                Check(
                    "key",
                    "problem",
                    notice,
                    "export CEREBRAS_API_KEY=… (create a key at https://cloud.cerebras.ai) or "
                    "set api_key_env in the profile",
                )
            )
        if target.unconfigured:
            checks.append(
                Check(
                    "key",
                    "warning",
                    "no CEREBRAS_API_KEY: the real API is not used",
                    "export CEREBRAS_API_KEY=… (create a key at https://cloud.cerebras.ai)",
                )
            )
        return target
    endpoint = target.endpoint
    assert endpoint is not None
    source = f"profile {target.profile}" if target.profile else endpoint.base_url_source
    shown_url = getattr(endpoint, "redacted_base_url", endpoint.base_url)
    checks.append(Check("endpoint", "ok", f"requests go to {shown_url} (from {source})"))
    checks.append(key_check(endpoint))
    return target


def key_check(endpoint: Any) -> Check:
    """Whether a key exists, where from, and whether it will be sent (never its value)."""
    withheld = getattr(endpoint, "key_withheld_reason", None)
    if withheld:
        return Check(
            "key",
            "warning",
            f"a key is set but will NOT be sent: {withheld}",
            "name the key for this host in a profile (api_key_env), or use https",
        )
    if endpoint.api_key:
        return Check(
            "key",
            "ok",
            f"a key ({len(endpoint.api_key)} characters) from {endpoint.key_source} will be "
            f"sent to {endpoint.host}"
            + (
                ""
                if endpoint.base_url.startswith("https://") or endpoint.is_loopback
                else " over plain http"
            ),
        )
    if endpoint.is_cerebras:
        return Check(
            "key",
            "problem",
            f"no API key for {endpoint.host}",
            "export CEREBRAS_API_KEY=… (create a key at https://cloud.cerebras.ai)",
        )
    return Check("key", "ok", f"no key: none is sent to {endpoint.host} (fine for local servers)")


# -- the API probe -------------------------------------------------------------------------------


def check_api(args: argparse.Namespace, target: Target | None, checks: list[Check]) -> None:
    if target is None:
        checks.append(Check("api", "skipped", "no usable endpoint: /v1/models not called"))
        return
    if target.offline:
        checks.append(
            Check("api", "skipped", "offline: /v1/models not called, no network check made")
        )
        return
    endpoint = target.endpoint
    if endpoint.is_cerebras and not endpoint.api_key:  # type: ignore[union-attr]
        checks.append(Check("api", "skipped", "no key: /v1/models not called"))
        return
    checks.extend(probe_models(endpoint, timeout=getattr(args, "timeout", None)))


def probe_models(endpoint: Any, *, timeout: float | None = None) -> list[Check]:
    """One ``GET /v1/models``: latency, the model count, the rate-limit headers seen."""
    import httpx

    from workbench.api.types import RateLimits

    read_s = timeout or PROBE_READ_S
    url = endpoint.url("/v1/models")
    headers = {**endpoint.headers, **endpoint.auth_headers(), "Accept": "application/json"}
    started = time.perf_counter()
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(read_s, connect=min(PROBE_CONNECT_S, read_s)),
                trust_env=not endpoint.is_loopback,
                follow_redirects=False,
            ) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            body = _read_bounded(response)
            latency = time.perf_counter() - started
    except httpx.TimeoutException:
        return [
            Check(
                "api",
                "problem",
                f"{endpoint.host} did not answer /v1/models within {read_s:g} s",
                "check the base URL, your network or proxy (HTTPS_PROXY)",
            )
        ]
    except httpx.HTTPError as error:
        return [
            Check(
                "api",
                "problem",
                f"cannot reach {endpoint.host}: {_short(str(error)) or type(error).__name__}",
                "check the base URL and that the server is running (workbench sim for a local one)",
            )
        ]
    ms = f"{latency * 1000:.0f} ms"
    status = response.status_code
    if status in (401, 403):
        return [
            Check(
                "api",
                "problem",
                f"the key was refused: HTTP {status} from {endpoint.host} in {ms}"
                + _server_message(body),
                "check the key (a fresh one at https://cloud.cerebras.ai) and that it is meant "
                "for this endpoint",
            )
        ]
    if status != 200:
        return [
            Check(
                "api",
                "problem",
                f"/v1/models answered HTTP {status} in {ms}" + _server_message(body),
                "check the base URL (with or without /v1 both work)",
            )
        ]
    models = _model_ids(body)
    if models is None:
        return [
            Check(
                "api",
                "problem",
                f"/v1/models answered in {ms} but not with a model list",
                "is the base URL an OpenAI-compatible API?",
            )
        ]
    from workbench.cli.completion import remember_models

    remember_models(endpoint.base_url, models)
    checks = [Check("api", "ok", f"/v1/models answered in {ms}: {len(models)} models")]
    limits = RateLimits.from_headers(response.headers)
    if limits.present:
        seen = ", ".join(
            f"{name} {value:,}"
            for name, value in (
                ("requests left today", limits.remaining_requests_day),
                ("of", limits.limit_requests_day),
                ("tokens left this minute", limits.remaining_tokens_minute),
                ("of", limits.limit_tokens_minute),
            )
            if value is not None
        )
        checks.append(Check("rate limits", "ok", f"x-ratelimit headers: {seen}"))
    else:
        checks.append(
            Check(
                "rate limits",
                "skipped",
                "no x-ratelimit headers on /v1/models (they come with completions; the TUI's "
                "status bar shows them)",
            )
        )
    return checks


def _read_bounded(response: Any) -> bytes:
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > PROBE_MAX_BYTES:
            break
    return bytes(data[:PROBE_MAX_BYTES])


def _model_ids(body: bytes) -> list[str] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return [i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def _server_message(body: bytes) -> str:
    try:
        data = json.loads(body[:65536])
    except (ValueError, RecursionError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) and isinstance(data, dict):
        inner = data.get("error")
        message = inner.get("message") if isinstance(inner, dict) else None
    return f": {_short(message)}" if isinstance(message, str) and message.strip() else ""


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the terminal --------------------------------------------------------------------------------


def check_terminal(env: Mapping[str, str], checks: list[Check]) -> None:
    term = env.get("TERM", "")
    if not term or term == "dumb":
        checks.append(
            Check(
                "terminal",
                "warning",
                f"TERM is {term or 'not set'}: the TUI cannot draw well",
                "export TERM=xterm-256color (or what your terminal emulator sets)",
            )
        )
    else:
        checks.append(Check("terminal", "ok", f"TERM={term}, {colour_depth(env)}"))
    checks.append(clipboard_check(env))
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"):
        checks.append(
            Check("terminal", "ok", "SSH session: the TUI uses its remote mode (fewer redraws)")
        )
    checks.append(locale_check(env))
    checks.append(size_check())


def colour_depth(env: Mapping[str, str]) -> str:
    if env.get("NO_COLOR"):
        return "colours off (NO_COLOR is set)"
    colorterm = env.get("COLORTERM", "").lower()
    term = env.get("TERM", "")
    if colorterm in ("truecolor", "24bit"):
        return "24-bit colour"
    if "256color" in term:
        return "256 colours"
    return "16 colours (themes are approximated; COLORTERM=truecolor if your terminal has more)"


# Terminals known to honour (or to ignore) OSC 52 clipboard writes.
_OSC52_YES = ("iTerm.app", "WezTerm", "vscode", "ghostty", "Tabby", "rio")
_OSC52_NO = ("Apple_Terminal",)


def clipboard_check(env: Mapping[str, str]) -> Check:
    """Whether ctrl+y's OSC 52 copy is likely to reach the clipboard."""
    if env.get("TMUX"):
        setting = _tmux_option("set-clipboard", env)
        if setting is None:
            return Check(
                "terminal",
                "warning",
                "inside tmux, but tmux did not say whether set-clipboard is on",
                "tmux set -g set-clipboard on (in ~/.tmux.conf) for copy over OSC 52",
            )
        if setting in ("on", "external"):
            return Check(
                "terminal",
                "ok",
                f"inside tmux with set-clipboard {setting}: OSC 52 copy likely works "
                "(if the outer terminal allows it)",
            )
        return Check(
            "terminal",
            "warning",
            f"inside tmux with set-clipboard {setting}: ctrl+y copy will not reach your clipboard",
            "tmux set -g set-clipboard on (in ~/.tmux.conf)",
        )
    if env.get("STY") or env.get("TERM", "").startswith("screen"):
        return Check(
            "terminal",
            "warning",
            "inside GNU screen: it does not pass OSC 52 copy on by default",
            "use tmux with set-clipboard on, or select the text with the mouse (shift+drag)",
        )
    program = env.get("TERM_PROGRAM", "")
    if program in _OSC52_NO:
        return Check(
            "terminal",
            "warning",
            f"{program} ignores OSC 52: ctrl+y copy will not work",
            "use iTerm2, WezTerm, kitty or another terminal with OSC 52, or select with the mouse",
        )
    if env.get("VTE_VERSION"):
        return Check(
            "terminal",
            "warning",
            "a VTE terminal (GNOME Terminal, Tilix …): most ignore OSC 52, so ctrl+y may not copy",
            "use a terminal with OSC 52 (kitty, WezTerm, foot, Alacritty), or select with the mouse",
        )
    if (
        program in _OSC52_YES
        or env.get("KITTY_WINDOW_ID")
        or env.get("WT_SESSION")
        or env.get("TERM", "") in ("xterm-kitty", "alacritty", "foot", "xterm-ghostty")
    ):
        name = program or env.get("TERM", "") or "Windows Terminal"
        return Check("terminal", "ok", f"{name}: OSC 52 copy likely works")
    return Check(
        "terminal",
        "ok",
        "terminal not recognised: OSC 52 copy may or may not work (try ctrl+y in the TUI)",
    )


def _tmux_option(name: str, env: Mapping[str, str]) -> str | None:
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return None
    try:
        done = subprocess.run(
            [tmux, "show-options", "-gv", name],
            capture_output=True,
            text=True,
            timeout=2,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def locale_check(env: Mapping[str, str]) -> Check:
    # The variable that wins, in POSIX order.
    name, value = next(
        ((n, env[n]) for n in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(n)), ("LANG", "")
    )
    utf8 = "utf-8" in value.lower().replace("utf8", "utf-8")
    if utf8 or (not value and locale.getpreferredencoding(False).lower() in ("utf-8", "utf8")):
        return Check("terminal", "ok", f"UTF-8 locale ({name}={value or 'default'})")
    return Check(
        "terminal",
        "warning",
        f"locale is not UTF-8 ({name}={value or 'not set'}): borders and symbols may be garbled",
        "export LANG=C.UTF-8 (or en_US.UTF-8)",
    )


def size_check() -> Check:
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            size = os.get_terminal_size(stream.fileno())
            break
        except (OSError, ValueError, AttributeError):
            continue
    else:
        return Check("terminal", "skipped", "not run on a terminal: size unknown")
    if size.columns < 80 or size.lines < 24:
        return Check(
            "terminal",
            "warning",
            f"{size.columns}x{size.lines}: smaller than the 80x24 the layout is made for",
            "make the window larger (ctrl+b hides the sidebar when space is short)",
        )
    return Check("terminal", "ok", f"{size.columns}x{size.lines}")


# -- the sessions folder -------------------------------------------------------------------------


def check_sessions(args: argparse.Namespace, config: Any, checks: list[Check]) -> None:
    from workbench.cli.config import sessions_folder

    folder = sessions_folder(getattr(args, "sessions_dir", None), config)
    if not folder.exists() and not folder.is_symlink():
        checks.append(Check("sessions", "ok", f"{folder}: not created yet (made on first save)"))
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is not None:
            _space_check(parent, checks)
        return
    try:
        info = folder.stat()
    except OSError as error:
        checks.append(
            Check("sessions", "problem", f"{folder}: {error.strerror or error}", "fix or remove it")
        )
        return
    if not stat.S_ISDIR(info.st_mode):
        checks.append(
            Check(
                "sessions",
                "problem",
                f"{folder} is not a folder: sessions cannot be saved",
                "move that file away, or choose another folder (--sessions-dir / sessions_dir)",
            )
        )
        return
    if not os.access(folder, os.W_OK | os.X_OK):
        checks.append(
            Check(
                "sessions",
                "problem",
                f"{folder}: not writable, sessions cannot be saved",
                f"chmod u+rwx {folder}",
            )
        )
    elif info.st_mode & 0o077:
        checks.append(
            Check(
                "sessions",
                "warning",
                f"{folder}: others can read it (mode {stat.S_IMODE(info.st_mode):o}); sessions "
                "hold your prompts",
                f"chmod 700 {folder}",
            )
        )
    else:
        checks.append(
            Check("sessions", "ok", f"{folder}: private (mode {stat.S_IMODE(info.st_mode):o})")
        )
    _space_check(folder, checks)
    _unreadable_check(folder, checks)


def _space_check(folder: Path, checks: list[Check]) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        checks.append(Check("sessions", "skipped", "free space unknown"))
        return
    shown = f"{free / 1024**3:.1f} GB free" if free >= 1024**3 else f"{free / 1024**2:.0f} MB free"
    if free < NO_SPACE_BYTES:
        checks.append(
            Check("sessions", "problem", f"{shown}: saving will fail", "free some disk space")
        )
    elif free < LOW_SPACE_BYTES:
        checks.append(Check("sessions", "warning", f"only {shown}", "free some disk space"))
    else:
        checks.append(Check("sessions", "ok", shown))


def _unreadable_check(folder: Path, checks: list[Check]) -> None:
    from workbench.sessions.store import SessionStore

    try:
        summaries = SessionStore(folder).list()
    except Exception as error:  # noqa: BLE001 - any failure to list is itself the finding
        checks.append(
            Check("sessions", "problem", f"cannot list the sessions: {error}", "check the folder")
        )
        return
    bad = [s for s in summaries if not s.readable]
    if bad:
        checks.append(
            Check(
                "sessions",
                "warning",
                f"{len(summaries)} session files, {len(bad)} unreadable (e.g. {bad[0].path.name})",
                "workbench sessions list shows why; fix or move those files (they are never "
                "overwritten)",
            )
        )
    else:
        checks.append(Check("sessions", "ok", f"{len(summaries)} session files, all readable"))
