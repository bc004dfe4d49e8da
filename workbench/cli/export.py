"""`workbench export`: a saved exchange's request as curl, Python (SDK), httpx or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output, report
from workbench.cli.sessions import add_sessions_dir_flag, open_store
from workbench.export import DEFAULT_BASE_URL, EXPORT_FORMATS, render_export
from workbench.sessions.store import SessionStoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="print a saved request as curl, Python (SDK), httpx or JSON",
        description="Write one exchange's request as code you can run elsewhere. The API key "
        "is never written: the snippets read CEREBRAS_API_KEY from the environment. "
        "Exit codes: 0 ok, 2 session or exchange not found, bad flags, or the file exists.",
    )
    parser.add_argument(
        "session", metavar="SESSION", help="id (or unique prefix), file name or path"
    )
    parser.add_argument(
        "--exchange",
        "-n",
        type=int,
        default=None,
        metavar="N",
        help="which exchange, 1 = the first (default: the last, or every one for html; "
        "negative counts from the end)",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=(*EXPORT_FORMATS, "html"),
        default="curl",
        help="default: curl; html is a self-contained page of the exchanges with their "
        "outputs, metrics and token probabilities",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="server to address (default: the one the session used, else Cerebras)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE instead of stdout (never overwrites)"
    )
    add_sessions_dir_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        session = open_store(args).load(args.session)
    except (SessionStoreError, OSError) as error:
        report(str(error))
        return EXIT_USAGE
    count = len(session.exchanges)
    if count == 0:
        report(f"{session.display_title}: the session has no exchanges")
        return EXIT_USAGE
    number = args.exchange
    if number is not None and (number == 0 or not -count <= number <= count):
        report(f"--exchange {number}: the session has {count} exchange(s), numbered 1 to {count}")
        return EXIT_USAGE
    if args.format == "html":
        from workbench.export_html import render_session_html

        chosen = None if number is None else [number if number > 0 else count + 1 + number]
        snippet = render_session_html(session, chosen)
    else:
        number = -1 if number is None else number
        exchange = session.exchanges[number - 1 if number > 0 else number]
        base_url = args.base_url or session.base_url or DEFAULT_BASE_URL
        snippet = render_export(exchange.request, args.format, base_url)
        if exchange.group is not None:  # a compare lane: one snippet that sends every lane
            from workbench.compare.export import group_snippet

            snippet = group_snippet(session.exchanges, exchange.group, args.format, base_url)
    if args.output:
        path = Path(args.output).expanduser()
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(snippet)
        except FileExistsError:
            report(f"{path} already exists; choose another --output")
            return EXIT_USAGE
        except OSError as error:
            report(f"cannot write {path}: {error}")
            return EXIT_USAGE
        report(f"wrote {path}")
        return EXIT_OK
    Output().write(snippet)
    return EXIT_OK
