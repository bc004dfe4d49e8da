"""`workbench replay PATH`: send a saved session's requests again and compare the outputs."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.api.errors import WorkbenchAPIError
from workbench.api.fields import FieldValueError, parse_overrides
from workbench.api.request import RequestValidationError
from workbench.cli import EXIT_DIFFERENT, EXIT_OK, EXIT_USAGE
from workbench.cli.common import (
    Output,
    UsageError,
    add_connection_flags,
    exit_code_for,
    report,
    run_with_client,
)
from workbench.cli.sessions import add_sessions_dir_flag, open_store
from workbench.sessions.replay import (
    ReplayOverrides,
    ReplayStep,
    prepare_requests,
    replay_as_session,
    replay_session,
)
from workbench.sessions.store import SessionStoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-send a saved session and compare the outputs",
        description="Re-send every exchange of a saved session with its saved parameters "
        "(optionally overridden) and compare each new output with the saved one; every lane of "
        "a saved compare run is re-sent and compared on its own. Errors compare by HTTP status "
        "and the server's message. Exit codes: 0 ok (with --check: all the same), 1 with "
        "--check when any output differs (a unified diff is printed), 2 usage, or a session "
        "file or folder that cannot be read or written, 3 API error, 4 network error.",
    )
    parser.add_argument("session", metavar="PATH", help="session file, id or id prefix")
    parser.add_argument("--model", "-m", help="send to this model instead of the saved one")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a request field, as a compare lane does (FIELD=VALUE[,FIELD=VALUE…]; "
        "'FIELD=' removes it; a list is one value or a JSON array); repeatable",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when any output differs from the saved one"
    )
    parser.add_argument("--save", action="store_true", help="save the replay as a new session")
    add_sessions_dir_flag(parser)
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


def _overrides(args: argparse.Namespace) -> ReplayOverrides:
    """The --set fields, by the request-field registry: an unknown name (a typo) is refused
    with the nearest valid one, never sent."""
    try:
        fields = parse_overrides(args.assignments)
    except FieldValueError as error:
        raise UsageError(f"--set: {error}") from None
    return ReplayOverrides(model=args.model, fields=fields)


def handle(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        session = store.load(args.session)
        overrides = _overrides(args)
        prepare_requests(session, overrides)  # refuse bad overrides before connecting
    except (SessionStoreError, UsageError) as error:
        report(str(error))
        return EXIT_USAGE
    except RequestValidationError as error:
        report(f"invalid request: {error}")
        return EXIT_USAGE
    if not session.exchanges:
        report(f"{session.display_title}: no exchanges to replay")
        return EXIT_OK

    out = Output()
    steps: list[ReplayStep] = []

    async def work(client: Any) -> int:
        async for step in replay_session(session, client, overrides):
            steps.append(step)
            report(f"exchange {step.index + 1} of {step.total}{step.lane_note}: {step.verdict}")
            if not step.same:
                out.write(step.diff())
        return EXIT_OK

    code = run_with_client(args, work)
    if code != EXIT_OK:
        return code
    if args.save and steps:
        replayed = replay_as_session(session, steps, base_url=getattr(args, "base_url", None))
        try:
            path = store.save(replayed).path
        except SessionStoreError as error:
            report(f"the replay was not saved: {error}")
            return EXIT_USAGE
        report(f"saved the replay as {path}")
    failures: list[WorkbenchAPIError] = [
        s.failure for s in steps if s.failure is not None and s.saved.status == "complete"
    ]
    different = sum(1 for s in steps if not s.same)
    report(f"{len(steps) - different} of {len(steps)} exchanges the same, {different} different")
    if failures:
        report(f"exchange failed: {failures[0]}")
        return exit_code_for(failures[0])
    return EXIT_DIFFERENT if args.check and different else EXIT_OK
