"""`workbench sim`: run the offline Cerebras simulator in the foreground.

Point any client at the printed URL (``CEREBRAS_BASE_URL=http://127.0.0.1:8765``): it answers
``/v1/completions`` (streamed or not), ``/v1/models`` and ``/v1/tcp_warming`` like the real
service, paced at ``--rate`` tokens per second, optionally with a fault injected.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys

from workbench.cli import EXIT_OK, EXIT_USAGE

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from workbench.sim.faults import FAULT_MODES

    parser = subparsers.add_parser(
        "sim",
        help="run the offline Cerebras-compatible simulator",
        description="Serve a Cerebras-compatible completions API on this machine "
        "(a Markov chain over Pride and Prejudice) until Ctrl+C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    # Numbers are checked in handle(), so a bad one gets one line (and exit 2), not argparse's
    # usage block or a traceback from deep in asyncio.
    parser.add_argument(
        "--port",
        default=str(DEFAULT_PORT),
        help="port (default %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--rate",
        default="2000",
        metavar="TOK_PER_S",
        help="streaming pace in tokens per second; 0 = as fast as possible (default %(default)s)",
    )
    parser.add_argument("--api-key", default=None, help="require this Bearer key (default: none)")
    parser.add_argument(
        "--fault",
        choices=FAULT_MODES,
        default=None,
        metavar="MODE",
        help="inject a fault into every completion: " + ", ".join(FAULT_MODES),
    )
    parser.add_argument(
        "--fault-times",
        default=None,
        metavar="N",
        help="apply --fault to the first N completion requests only",
    )
    parser.set_defaults(handler=handle)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--port must be a whole number from 0 to 65535, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"--port must be from 0 to 65535 (0 picks a free one), not {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"--rate must be 0 (unpaced) or a positive number of tokens per second, not {text!r}"
        )
    return value


def _times(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"--fault-times must be a whole number, 0 or more, not {text!r}")
    return value


def handle(args: argparse.Namespace) -> int:
    from workbench.sim import SimServer

    try:
        if not args.host.strip():
            # An empty host binds every interface, and the URL printed would be http://:PORT.
            raise ValueError("--host must be an address or a name (0.0.0.0 for every interface)")
        port = _port(str(args.port))
        rate = _rate(str(args.rate))
        fault_times = _times(args.fault_times)
        server = SimServer(
            host=args.host,
            port=port,
            rate=rate or None,
            api_key=args.api_key,
            fault=args.fault,
            fault_times=fault_times,
        )
    except ValueError as error:
        print(f"workbench sim: {error}", file=sys.stderr)
        return EXIT_USAGE
    args.port = port

    async def serve() -> None:
        stop = asyncio.Event()
        try:
            # A service manager's SIGTERM stops it as cleanly as Ctrl+C does. Installed before
            # the URL is printed, so whoever waits for that line can signal at once.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        except (NotImplementedError, RuntimeError):  # not on this platform / thread
            pass
        try:
            await server.start()
        except (OSError, OverflowError, UnicodeError) as error:
            raise SystemExit(_bind_error(args, error)) from None
        pace = "unpaced" if server.rate is None else f"{server.rate:g} tok/s"
        extras = [pace]
        if args.fault:
            extras.append(f"fault {args.fault}")
        if args.api_key:
            extras.append("API key required")
        print(
            f"workbench sim: serving on {server.base_url} (offline simulator; {', '.join(extras)})"
            " — Ctrl+C to stop",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        # Ctrl+C is how this command is meant to end: a clean exit, not an error.
        pass
    print("workbench sim: stopped", flush=True)
    return EXIT_OK


def _bind_error(args: argparse.Namespace, error: Exception) -> int:
    reason = getattr(error, "strerror", None) or error
    print(
        f"workbench sim: cannot listen on {args.host}:{args.port}: {reason}",
        file=sys.stderr,
    )
    return EXIT_USAGE
