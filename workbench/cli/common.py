"""Pieces every headless sub-command shares: connection flags, endpoint and client set-up,
error → exit code mapping, and output that cannot hijack the user's terminal.

A sub-command that talks to the API does::

    add_connection_flags(parser)
    ...
    def handle(args):
        return run_with_client(args, lambda client: work(client, args))

``run_with_client`` owns the whole life cycle: it starts the offline simulator when asked,
checks the API key, runs ``work`` on an event loop, turns every error into one
``workbench: …`` line on stderr and returns the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import math
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from workbench.api.endpoint import ENV_API_KEY, ENV_BASE_URL, Endpoint
from workbench.api.errors import (
    APIConnectionError,
    InvalidBaseURLError,
    InvalidHeaderError,
    MissingAPIKeyError,
    WorkbenchAPIError,
)
from workbench.api.request import RequestValidationError
from workbench.api.timeouts import Timeouts
from workbench.cli import (
    EXIT_API,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_USAGE,
)
from workbench.terminal_text import visible_controls

if TYPE_CHECKING:
    from workbench.api.client import CompletionClient

# -- terminal-safe text ------------------------------------------------------------------------
#
# Model output (and server error messages) can contain ESC, CSI, OSC and other control
# characters; written raw to a terminal they can recolour it, move the cursor, set the window
# title or write to the clipboard. On a terminal we show them instead, as the Python escape
# `\xNN` (so ESC [ 3 1 m appears as the visible text `\x1b[31m`). `\n` and `\t` pass through.
# C1 controls (U+0080–U+009F) are shown too: some terminals treat U+009B as CSI.
def neutralise(text: str) -> str:
    """``text`` with every control character except newline and tab shown as ``\\xNN`` (the
    same table the TUI draws model output with: :mod:`workbench.terminal_text`)."""
    return visible_controls(text)


def is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class Output:
    """Writes text to a stream as it arrives: neutralised on a terminal, byte-exact on a pipe.

    Text is encoded as UTF-8 and written to the binary layer, so the locale's encoding cannot
    mangle or refuse model output; only a lone surrogate (invalid in any UTF-8) is replaced.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.is_terminal = is_terminal(self.stream)
        self._binary = getattr(self.stream, "buffer", None)
        self.at_line_start = True
        self.wrote_anything = False
        # Anything printed through the text layer before us must come out first.
        self.stream.flush()

    def write(self, text: str) -> None:
        if not text:
            return
        self.wrote_anything = True
        self.at_line_start = text.endswith("\n")
        if self.is_terminal:
            text = neutralise(text)
        if self._binary is not None:
            self._binary.write(text.encode("utf-8", "replace"))
            self._binary.flush()
        else:
            self.stream.write(text)
            self.stream.flush()

    def end_line(self) -> None:
        """Finish the current line, so that what follows starts on its own."""
        if not self.at_line_start:
            self.write("\n")


def report(message: str, stream: TextIO | None = None) -> None:
    """One ``workbench: …`` line on stderr (neutralised there too: messages come from servers)."""
    stream = stream if stream is not None else sys.stderr
    line = f"workbench: {message}"
    if is_terminal(stream):
        line = neutralise(line)
    print(line, file=stream, flush=True)


# -- errors and exit codes ---------------------------------------------------------------------


class UsageError(Exception):
    """The command line cannot be turned into a request (exit 2, nothing sent)."""


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error that ended a command."""
    # Nothing was sent: the command line or the environment has to change.
    if isinstance(
        error,
        (
            UsageError,
            RequestValidationError,
            MissingAPIKeyError,
            InvalidBaseURLError,
            InvalidHeaderError,
        ),
    ):
        return EXIT_USAGE
    if isinstance(error, (KeyboardInterrupt, asyncio.CancelledError)):
        return EXIT_INTERRUPTED
    if isinstance(error, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    # APITimeoutError and StreamInterruptedError (a connection that broke mid-stream) are
    # APIConnectionErrors: the network, not the API, failed.
    if isinstance(error, APIConnectionError):
        return EXIT_NETWORK
    # APIStatusError and ProtocolError (which includes a truncated stream).
    if isinstance(error, WorkbenchAPIError):
        return EXIT_API
    raise TypeError(f"no exit code for {type(error).__name__}") from error


def describe_error(error: BaseException) -> str:
    """The text after ``workbench: `` for an error. The client's messages already name the
    status, the host and what to change, so they are used as they are."""
    if isinstance(error, WorkbenchAPIError):
        return error.message
    return str(error)


# -- connection flags, endpoint, client ----------------------------------------------------------


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """``--base-url``/``--offline``, ``--profile``, ``--config``, ``--timeout``, ``--retries``."""
    group = parser.add_argument_group("connection")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--base-url",
        metavar="URL",
        help="API root, with or without /v1 (default: the profile's, else $CEREBRAS_BASE_URL, "
        "else https://api.cerebras.ai)",
    )
    where.add_argument(
        "--offline",
        action="store_true",
        help="answer from the built-in simulator on loopback: no key, no network needed "
        "(also what happens when no key and no base URL are configured)",
    )
    group.add_argument("--profile", metavar="NAME", help="endpoint profile from the config file")
    group.add_argument(
        "--config", metavar="FILE", help="config file to read instead of the default"
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="longest wait for the server to say anything (headers or the next chunk; "
        "default 60; connecting waits at most 5)",
    )
    group.add_argument(
        "--retries",
        type=_non_negative_int,
        default=2,
        metavar="N",
        help="retries on connection errors, 408/409/429 and 5xx before any output (default 2)",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a finite number more than 0")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    if value > 100:
        raise argparse.ArgumentTypeError("must be 100 or less")
    return value


def check_text(what: str, value: str | None) -> None:
    """Raise :class:`UsageError` when an argument is not valid text: bytes that are not UTF-8
    arrive in argv as lone surrogates (PEP 383) and can never be sent, shown or saved."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise UsageError(
            f"{what}: not valid UTF-8 text (a byte that is not UTF-8 at position {error.start})"
        ) from None


# Where requests go (the one rule, for every command and the TUI; README "Commands"):
#   --offline                 -> the built-in simulator
#   --base-url URL            -> URL (with the profile's key, if a profile is chosen)
#   --profile / default_profile in the config -> the profile's URL and key
#   $CEREBRAS_API_KEY or $CEREBRAS_BASE_URL -> those
#   nothing of the above      -> the built-in simulator, and the CLI says so on stderr
# A Cerebras endpoint without a key: the CLI refuses (exit 2, nothing is sent); the TUI starts
# against the simulator with a notice saying why.
UNCONFIGURED_NOTICE = (
    "no API key and no base URL configured: answering from the built-in offline simulator "
    "(set CEREBRAS_API_KEY for the real API; --offline says this is what you want)"
)


@dataclass(frozen=True)
class Target:
    """Where requests will go, and the notices to show about that choice."""

    endpoint: Endpoint | None  # None: start the simulator
    offline: bool
    profile: str | None
    notices: tuple[str, ...] = ()
    # True when the simulator was chosen because nothing at all is configured.
    unconfigured: bool = False


def cli_config(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The config file the flags name (or the default one), read once per command."""
    cached = getattr(args, "_config_loaded", None)
    if cached is None:
        from workbench.config import load_config

        path = getattr(args, "config", None)
        cached = load_config(Path(path).expanduser() if path else None)
        args._config_loaded = cached
    return cached


def choose_target(
    args: argparse.Namespace,
    config: Any,
    environ: Mapping[str, str],
    *,
    fallback_offline: bool = True,
) -> Target:
    """Apply the rule above. Raises :class:`UsageError` for an unknown ``--profile``,
    ``InvalidBaseURLError``/``InvalidHeaderError`` for a URL or header that cannot be used,
    and (``fallback_offline=False``) ``MissingAPIKeyError`` for Cerebras without a key."""
    wanted = getattr(args, "profile", None)
    check_text("--profile", wanted)
    if wanted and wanted not in config.profiles:
        close = difflib.get_close_matches(wanted, list(config.profiles), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        where = config.path or "the config file"
        raise UsageError(f"--profile: no profile named {wanted!r} in {where}{hint}")
    if getattr(args, "offline", False):
        return Target(None, True, None)
    profile = config.profile(wanted)
    base_url = getattr(args, "base_url", None)
    check_text("--base-url", base_url)
    if profile is not None:
        # The profile's key goes only to the host it was named for (Endpoint.from_profile):
        # a --base-url elsewhere gets it only under the ordinary rule.
        endpoint = Endpoint.from_profile(profile, environ, base_url=base_url or None)
        return _checked(endpoint, profile.name, fallback_offline)
    if base_url:
        endpoint = Endpoint.from_env(base_url=base_url, environ=environ)
        return _checked(endpoint, None, fallback_offline)
    if environ.get(ENV_API_KEY, "").strip() or environ.get(ENV_BASE_URL, "").strip():
        return _checked(Endpoint.from_env(environ=environ), None, fallback_offline)
    return Target(None, True, None, unconfigured=True)


def _checked(endpoint: Endpoint, profile: str | None, fallback_offline: bool) -> Target:
    try:
        endpoint.require_key()
    except MissingAPIKeyError as error:
        if not fallback_offline:
            raise
        return Target(None, True, None, (f"{error} Using the offline simulator for now.",))
    return Target(endpoint, False, profile)


@contextmanager
def open_endpoint(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Iterator[Endpoint]:
    """The endpoint the flags and config ask for: the offline simulator (alive while the block
    runs) or the configured server, whose key is checked before anything is sent."""
    config, problems = cli_config(args)
    for problem in problems:
        report(f"config: {problem}")
    env = os.environ if environ is None else environ
    target = choose_target(args, config, env, fallback_offline=False)
    if target.unconfigured:
        report(UNCONFIGURED_NOTICE)
    if target.offline:
        from workbench.sim import ThreadedSim  # only offline runs pay for the sim's start-up

        with ThreadedSim() as sim:
            # An empty environment: the user's key and custom headers are not for the simulator.
            yield Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        return
    assert target.endpoint is not None
    withheld = target.endpoint.key_withheld_reason
    if withheld:
        report(withheld)  # once, before anything is sent
    yield target.endpoint


def timeouts_from_args(args: argparse.Namespace) -> Timeouts:
    """The client's time limits for ``--timeout`` (the CLI and the TUI build them alike)."""
    timeout = getattr(args, "timeout", None)
    return Timeouts() if timeout is None else Timeouts(connect=min(5.0, timeout), read=timeout)


def make_client(endpoint: Endpoint, args: argparse.Namespace) -> CompletionClient:
    """A client with the ``--timeout`` and ``--retries`` the flags ask for, which says on
    stderr what it waits for before a retry (a 60 s Retry-After must not look like a hang)."""
    from workbench.api.client import CompletionClient  # httpx: not before it is needed

    return CompletionClient(
        endpoint,
        timeouts=timeouts_from_args(args),
        max_retries=getattr(args, "retries", 2),
        on_retry=report_retry,
    )


def report_retry(attempt: int, delay_s: float, reason: str) -> None:
    """``on_retry`` for the CLI: one stderr line per retry, e.g. ``workbench: HTTP 429 rate
    limit: retrying in 60 s (attempt 2)`` (stderr is a log: short waits are said too)."""
    from workbench.api.client import retry_notice

    report(retry_notice(attempt, delay_s, reason))


def run_with_client(
    args: argparse.Namespace,
    work: Callable[[CompletionClient], Awaitable[int]],
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``work(client)`` on a fresh event loop and map whatever ends it to an exit code.

    Ctrl+C cancels ``work`` (asyncio.run turns SIGINT into a cancellation of the main task),
    which closes the connection on its way out; ``work`` should finish its output line in a
    ``finally`` if it prints progressively. A closed stdout (``| head``) is left to
    :func:`workbench.cli.main`, which ends every command the same quiet way.
    """

    async def with_client(endpoint: Endpoint) -> int:
        client = make_client(endpoint, args)
        async with client:
            return await work(client)

    try:
        with open_endpoint(args, environ) as endpoint:
            return asyncio.run(with_client(endpoint))
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except (UsageError, RequestValidationError, WorkbenchAPIError) as error:
        report(describe_error(error))
        return exit_code_for(error)
