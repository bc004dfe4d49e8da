"""`workbench sim`: run the offline Cerebras simulator in the foreground.

Point any client at the printed URL (``CEREBRAS_BASE_URL=http://127.0.0.1:8765``): it answers
``/v1/completions`` (streamed or not), ``/v1/models`` and ``/v1/tcp_warming`` like the real
service, paced at ``--rate`` tokens per second, optionally with a fault injected.
"""

from __future__ import annotations

import argparse
import asyncio
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
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port (default %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=2000.0,
        metavar="TOK_PER_S",
        help="streaming pace in tokens per second; 0 = as fast as possible (default %(default)g)",
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
        type=int,
        default=None,
        metavar="N",
        help="apply --fault to the first N completion requests only",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from workbench.sim import SimServer

    if args.rate < 0:
        print("workbench sim: --rate must be 0 (unpaced) or a positive number", file=sys.stderr)
        return EXIT_USAGE
    server = SimServer(
        host=args.host,
        port=args.port,
        rate=args.rate or None,
        api_key=args.api_key,
        fault=args.fault,
        fault_times=args.fault_times,
    )

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
        except OSError as error:
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


def _bind_error(args: argparse.Namespace, error: OSError) -> int:
    print(
        f"workbench sim: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
        file=sys.stderr,
    )
    return EXIT_USAGE
