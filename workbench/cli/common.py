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
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from workbench.api.client import CompletionClient, Timeouts
from workbench.api.endpoint import Endpoint
from workbench.api.errors import (
    APIConnectionError,
    InvalidBaseURLError,
    InvalidHeaderError,
    MissingAPIKeyError,
    WorkbenchAPIError,
)
from workbench.api.request import RequestValidationError
from workbench.cli import EXIT_API, EXIT_INTERRUPTED, EXIT_NETWORK, EXIT_USAGE

# What a shell reports for a command killed by SIGPIPE (128 + 13): `workbench run | head` ends
# the way `cat big | head` does, quietly, with the stream closed.
EXIT_BROKEN_PIPE = 141

# -- terminal-safe text ------------------------------------------------------------------------
#
# Model output (and server error messages) can contain ESC, CSI, OSC and other control
# characters; written raw to a terminal they can recolour it, move the cursor, set the window
# title or write to the clipboard. On a terminal we show them instead, as the Python escape
# `\xNN` (so ESC [ 3 1 m appears as the visible text `\x1b[31m`). `\n` and `\t` pass through.
# C1 controls (U+0080–U+009F) are shown too: some terminals treat U+009B as CSI.
_NEUTRALISE = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
    if code not in (0x09, 0x0A)
}


def neutralise(text: str) -> str:
    """``text`` with every control character except newline and tab shown as ``\\xNN``."""
    return text.translate(_NEUTRALISE)


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
    """``--base-url``, ``--offline``, ``--timeout`` and ``--retries``."""
    group = parser.add_argument_group("connection")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--base-url",
        metavar="URL",
        help="API root, with or without /v1 (default: $CEREBRAS_BASE_URL, else https://api.cerebras.ai)",
    )
    where.add_argument(
        "--offline",
        action="store_true",
        help="answer from the built-in simulator on loopback: no key, no network needed",
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
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


@contextmanager
def open_endpoint(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Iterator[Endpoint]:
    """The endpoint the flags ask for: the offline simulator (alive while the block runs) or
    the configured server, whose key is checked before anything is sent."""
    if getattr(args, "offline", False):
        from workbench.sim import ThreadedSim  # only offline runs pay for the sim's start-up

        with ThreadedSim() as sim:
            # An empty environment: the user's key and custom headers are not for the simulator.
            yield Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        return
    endpoint = Endpoint.from_env(
        base_url=getattr(args, "base_url", None),
        api_key=None,
        environ=os.environ if environ is None else environ,
    )
    endpoint.require_key()
    yield endpoint


def make_client(endpoint: Endpoint, args: argparse.Namespace) -> CompletionClient:
    """A client with the ``--timeout`` and ``--retries`` the flags ask for."""
    timeout = getattr(args, "timeout", None)
    timeouts = Timeouts() if timeout is None else Timeouts(connect=min(5.0, timeout), read=timeout)
    return CompletionClient(endpoint, timeouts=timeouts, max_retries=getattr(args, "retries", 2))


def run_with_client(
    args: argparse.Namespace,
    work: Callable[[CompletionClient], Awaitable[int]],
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``work(client)`` on a fresh event loop and map whatever ends it to an exit code.

    Ctrl+C cancels ``work`` (asyncio.run turns SIGINT into a cancellation of the main task),
    which closes the connection on its way out; ``work`` should finish its output line in a
    ``finally`` if it prints progressively.
    """

    async def with_client(endpoint: Endpoint) -> int:
        client = make_client(endpoint, args)
        async with client:
            return await work(client)

    try:
        with open_endpoint(args, environ) as endpoint:
            return asyncio.run(with_client(endpoint))
    except BrokenPipeError:
        # The reader of stdout went away (`| head`). Point stdout at /dev/null so the
        # interpreter's final flush cannot raise again, and say nothing: nobody is reading.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except (UsageError, RequestValidationError, WorkbenchAPIError) as error:
        report(describe_error(error))
        return exit_code_for(error)
