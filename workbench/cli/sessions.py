"""`workbench sessions`: list, show, delete and restore saved sessions without the TUI."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from workbench.api.request import prompt_kind
from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output, report
from workbench.sessions.index import SessionSummary
from workbench.sessions.location import resolve_sessions_dir
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore, SessionStoreError

# Exit codes of this command (and of replay/export for their session files): 2 covers every
# "cannot use this session or folder" case — not found, unreadable, not a regular file, a
# sessions path that is a file, a read-only folder, a full disk — so that replay's 1 keeps
# meaning "differs" and nothing else.


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
        "unreadable, refused, or the folder or file cannot be read or written (full disk, "
        "read-only folder, a path that is not a folder).",
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
    try:
        summaries = store.list()
    except SessionStoreError as error:
        report(str(error))
        return EXIT_USAGE
    # No try around the writes: a closed pipe (`| head`) must reach the command's handler as
    # BrokenPipeError, not be reported as a session error.
    out = Output()
    if getattr(args, "json", False):
        out.write(json.dumps([s.to_json() for s in summaries], ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if not summaries:
        report(f"no sessions in {store.directory}")
        return EXIT_OK
    out.write(format_listing(summaries))
    return EXIT_OK


MODEL_COLUMN_MAX = 32


def _one_line(text: str) -> str:
    """Titles and reasons on one row: any run of whitespace (newlines too) becomes a space."""
    return " ".join(text.split())


def _when(summary: SessionSummary) -> str:
    try:
        return summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):
        return "?"


def format_listing(summaries: list[SessionSummary]) -> str:
    """A header and aligned columns: ID, UPDATED, EXCH, MODEL, TITLE. An unreadable file has
    no id, count or model; its title column says ``<file>: unreadable: <reason>``."""
    rows = []
    for summary in summaries:
        if summary.readable:
            rows.append(
                (
                    summary.id or "-",
                    _when(summary),
                    str(summary.exchanges),
                    _one_line(summary.model) or "-",
                    _one_line(summary.title),
                )
            )
        else:
            reason = _one_line(summary.error or "")
            rows.append(("-", _when(summary), "-", "-", f"{summary.name}: unreadable: {reason}"))
    header = ("ID", "UPDATED", "EXCH", "MODEL", "TITLE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    widths[3] = min(widths[3], MODEL_COLUMN_MAX)
    lines = []
    for row in [header, *rows]:
        model = row[3] if len(row[3]) <= widths[3] else row[3][: widths[3] - 1] + "…"
        lines.append(
            f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  "
            f"{model:<{widths[3]}}  {row[4]}".rstrip()
        )
    return "\n".join(lines) + "\n"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "-"


def _prompt_blocks(exchange: Exchange) -> list[tuple[str, str]]:
    """(heading, text) per prompt: one for a single prompt, one per prompt of a batch."""
    prompt = exchange.request.prompt
    kind = prompt_kind(prompt)
    if kind == "texts" or kind == "token_batches":
        count = len(prompt)  # type: ignore[arg-type]
        return [
            (
                f"prompt {number} of {count}",
                item if isinstance(item, str) else " ".join(str(t) for t in item),
            )
            for number, item in enumerate(prompt, start=1)  # type: ignore[arg-type]
        ]
    return [("prompt", exchange.prompt_text)]


def _choice_blocks(exchange: Exchange) -> list[tuple[str, str]]:
    """(heading, text) per choice. With several choices each is headed by its index, the
    prompt it answers (batch) and its finish reason, so they cannot run together."""
    choices = sorted(exchange.choices, key=lambda c: c.index)
    per_prompt = exchange.request.n or 1
    batch = prompt_kind(exchange.request.prompt) in ("texts", "token_batches")
    blocks = []
    for choice in choices:
        text = choice.text if choice.text or choice.tokens is None else " ".join(
            str(t) for t in choice.tokens
        )
        if len(choices) == 1 and not batch:
            heading = "output"
        else:
            heading = f"output: choice {choice.index}"
            if batch:
                heading += f" (prompt {choice.index // per_prompt + 1})"
        if choice.finish_reason:
            heading += f" · finish: {choice.finish_reason}"
        blocks.append((heading, text))
    if not blocks:
        blocks.append(("output", ""))
    return blocks


def render_session(session: Session) -> str:
    lines = [
        f"# {session.display_title}",
        f"id: {session.id}",
        f"created: {_iso(session.created)}  updated: {_iso(session.updated)}",
    ]
    if session.recovered:
        lines.append(f"note: {session.recovered}")
    if session.profile:
        lines.append(f"profile: {session.profile}")
    if session.base_url:
        lines.append(f"base URL: {session.base_url}")
    for number, exchange in enumerate(session.exchanges, start=1):
        params = {k: v for k, v in exchange.request.to_body().items() if k != "prompt"}
        lines.append("")
        heading = f"## exchange {number}"
        if exchange.group is not None:
            lane = exchange.lane + 1 if exchange.lane is not None else "?"
            heading += f" — compare {exchange.group}, lane {lane}: {exchange.lane_name}"
        heading += f" — {exchange.status}" + (f": {exchange.error}" if exchange.error else "")
        lines.append(heading)
        if exchange.variant:
            lines.append("variant: " + json.dumps(exchange.variant, ensure_ascii=False))
        lines.append("request: " + json.dumps(params, ensure_ascii=False))
        for title, text in _prompt_blocks(exchange) + _choice_blocks(exchange):
            lines.append(f"--- {title} ---")
            lines.append(text)
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
            _, data = store.read_bytes(args.session)
        else:
            session = store.load(args.session)
    except SessionStoreError as error:
        report(str(error))
        return EXIT_USAGE
    # Outside the try: a closed pipe is not a session error (see handle_list).
    if args.toml:
        Output().write(data.decode("utf-8", "replace"))
        return EXIT_OK
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
        trashed = store.trash() if not args.name else []
        name = args.name or (trashed[0].name if trashed else None)
        if name is None:
            report("the trash is empty")
            return EXIT_USAGE
        restored = store.restore(name)
    except SessionStoreError as error:
        report(str(error))
        return EXIT_USAGE
    report(f"restored {restored}")
    return EXIT_OK
