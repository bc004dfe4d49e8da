"""`workbench serve`: the TUI in a browser tab, for when a good terminal is not at hand.

Each tab gets its own app process started with the TUI options given here; closing the tab ends
it, and sessions autosave as usual. The server binds loopback unless told otherwise; the printed
URL carries a random access token and every other request gets 403. For a remote machine,
forward the port over SSH (``ssh -L 8765:127.0.0.1:8765 host``) rather than binding publicly.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from typing import Any

from workbench.cli import EXIT_OK, EXIT_USAGE

DEFAULT_PORT = 8765


def register(subparsers: Any) -> None:
    from workbench.cli.tui import add_tui_options

    parser = subparsers.add_parser(
        "serve",
        help="serve the TUI to a web browser (needs the 'serve' extra)",
        description="Serve the TUI through textual-serve: every browser tab runs its own app "
        "with the options below. Prints one URL with a random access token; any request "
        "without it gets 403. The API key stays in this process and its apps, never in the page.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to bind (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="allow binding an address other machines can reach (whoever has the URL can "
        "use this process's API key)",
    )
    # argparse lists a parser's actions only in `_actions`; the ones add_tui_options adds are
    # the options each app process is started with.
    known = set(parser._actions)
    add_tui_options(parser)
    tui_actions = [action for action in parser._actions if action not in known]
    parser.set_defaults(handler=run, _tui_actions=tui_actions)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be from 0 to 65535")
    return value


def tui_argv(args: argparse.Namespace) -> list[str]:
    """The `workbench tui` arguments that reproduce the TUI options set on this command."""
    argv: list[str] = []
    for action in args._tui_actions:
        value = getattr(args, action.dest, None)
        if value is None or value == action.default or not action.option_strings:
            continue
        flag = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        if isinstance(action, argparse._StoreTrueAction):
            argv.append(flag)
        else:
            argv += [flag, str(value)]
    return argv


def app_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each tab (it starts commands through a shell)."""
    return shlex.join([sys.executable, "-m", "workbench", "tui", *tui_argv(args)])


def run(args: argparse.Namespace) -> int:
    from workbench.serve import (
        ServeApp,
        ServeUnavailableError,
        is_loopback_host,
        new_token,
        quiet_logging,
        url_host,
    )

    if not is_loopback_host(args.host) and not args.public:
        print(
            f"workbench serve: {args.host} can be reached from other machines; add --public "
            "to bind it anyway, or forward the port over SSH instead "
            "(ssh -L 8765:127.0.0.1:8765 HOST)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    serve_app = ServeApp(app_command(args), new_token())
    try:
        web_app = serve_app.build()
    except ServeUnavailableError as error:
        print(f"workbench serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    quiet_logging()
    try:
        return asyncio.run(_serve(serve_app, web_app, args, url_host))
    except KeyboardInterrupt:
        return EXIT_OK


async def _serve(serve_app: Any, web_app: Any, args: argparse.Namespace, url_host: Any) -> int:
    from aiohttp import web

    runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        print(
            f"workbench serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    port = runner.addresses[0][1]
    base = f"http://{url_host(args.host)}:{port}"
    serve_app.set_public_url(base)
    if args.public:
        print(
            "workbench serve: WARNING: bound to a non-loopback address. Whoever has this URL "
            "can use the API key of this process.",
            file=sys.stderr,
        )
    print(f"{base}/{serve_app.token}/", flush=True)
    print("workbench serve: open the URL above; ctrl+c stops the server", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return EXIT_OK
