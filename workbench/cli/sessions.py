"""`workbench sessions`: list, show, delete and restore saved sessions without the TUI."""

from __future__ import annotations

import argparse
import json
from typing import Any

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output, report
from workbench.sessions.location import resolve_sessions_dir
from workbench.sessions.model import Session
from workbench.sessions.store import SessionStore, SessionStoreError


def add_sessions_dir_flag(parser: argparse.ArgumentParser, *, inherited: bool = False) -> None:
    """``--sessions-dir``; ``inherited`` for an action's parser, so that it does not reset a
    value given before the action name (``sessions --sessions-dir D list``)."""
    parser.add_argument(
        "--sessions-dir",
        metavar="DIR",
        default=argparse.SUPPRESS if inherited else None,
        help="session folder (default: config 'sessions_dir', else the platform data folder)",
    )


def open_store(args: argparse.Namespace) -> SessionStore:
    return SessionStore(resolve_sessions_dir(getattr(args, "sessions_dir", None)))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sessions",
        help="list, show, delete or restore saved sessions",
        description="Saved sessions (one TOML file each). Exit codes: 0 ok, 2 not found, "
        "unreadable or refused.",
    )
    add_sessions_dir_flag(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="sessions, newest first (unreadable files too)")
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")
    add_sessions_dir_flag(listing, inherited=True)
    listing.set_defaults(handler=handle_list)

    show = actions.add_parser("show", help="print one session's exchanges")
    show.add_argument("session", metavar="ID|PATH", help="id (or unique prefix), file name or path")
    show.add_argument("--toml", action="store_true", help="print the file as it is stored")
    add_sessions_dir_flag(show, inherited=True)
    show.set_defaults(handler=handle_show)

    delete = actions.add_parser("delete", help="move a session to the trash (undo: restore)")
    delete.add_argument("session", metavar="ID|PATH")
    add_sessions_dir_flag(delete, inherited=True)
    delete.set_defaults(handler=handle_delete)

    restore = actions.add_parser("restore", help="bring a session back from the trash")
    restore.add_argument("name", nargs="?", help="file name in the trash (default: the latest)")
    add_sessions_dir_flag(restore, inherited=True)
    restore.set_defaults(handler=handle_restore)

    parser.set_defaults(handler=handle_list, json=False)


def handle_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    summaries = store.list()
    out = Output()
    if getattr(args, "json", False):
        out.write(json.dumps([s.to_json() for s in summaries], ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if not summaries:
        report(f"no sessions in {store.directory}")
        return EXIT_OK
    for summary in summaries:
        when = summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        if summary.readable:
            out.write(
                f"{summary.id}  {when}  {summary.exchanges:>3} ex  "
                f"{summary.model or '-':<24}  {summary.title}\n"
            )
        else:
            out.write(f"{'UNREADABLE':<26}  {when}  {summary.name}: {summary.error}\n")
    return EXIT_OK


def render_session(session: Session) -> str:
    lines = [
        f"# {session.display_title}",
        f"id: {session.id}",
        f"created: {session.created.isoformat()}  updated: {session.updated.isoformat()}",
    ]
    if session.profile:
        lines.append(f"profile: {session.profile}")
    if session.base_url:
        lines.append(f"base URL: {session.base_url}")
    for number, exchange in enumerate(session.exchanges, start=1):
        params = {k: v for k, v in exchange.request.to_body().items() if k != "prompt"}
        lines.append("")
        lines.append(f"## exchange {number} — {exchange.status}" + (f": {exchange.error}" if exchange.error else ""))
        lines.append("request: " + json.dumps(params, ensure_ascii=False))
        lines.append("--- prompt ---")
        lines.append(exchange.prompt_text)
        lines.append("--- output ---")
        lines.append(exchange.output_text)
        if exchange.usage is not None:
            lines.append(
                f"usage: prompt {exchange.usage.prompt_tokens}, completion "
                f"{exchange.usage.completion_tokens}, total {exchange.usage.total_tokens}"
            )
    return "\n".join(lines) + "\n"


def handle_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        if args.toml:
            Output().write(store.resolve(args.session).read_text(encoding="utf-8"))
            return EXIT_OK
        session = store.load(args.session)
    except (SessionStoreError, OSError) as error:
        report(str(error))
        return EXIT_USAGE
    Output().write(render_session(session))
    return EXIT_OK


def handle_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        trashed = store.delete(args.session)
    except SessionStoreError as error:
        report(str(error))
        return EXIT_USAGE
    report(f"moved to the trash: {trashed} (undo: workbench sessions restore {trashed.name})")
    return EXIT_OK


def handle_restore(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        name = args.name or (store.trash()[0].name if store.trash() else None)
        if name is None:
            report("the trash is empty")
            return EXIT_USAGE
        restored = store.restore(name)
    except SessionStoreError as error:
        report(str(error))
        return EXIT_USAGE
    report(f"restored {restored}")
    return EXIT_OK
