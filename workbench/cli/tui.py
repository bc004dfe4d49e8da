"""`workbench` / `workbench tui`: open the TUI.

Where requests go, in order: ``--offline``; ``--base-url``; the ``--profile`` (or the config's
``default_profile``); the ``CEREBRAS_API_KEY`` / ``CEREBRAS_BASE_URL`` environment. With none
of these — no key, no base URL — the app starts against the built-in simulator, with a badge
that says so and a hint on how to use the real API.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Mapping

from workbench.cli import EXIT_FILES, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, common
from workbench.cli.common import Target, UsageError, add_connection_flags, check_text, report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tui", help="open the terminal UI (the default when no command is given)"
    )
    add_tui_options(parser)
    parser.set_defaults(handler=run)


def add_tui_options(parser: argparse.ArgumentParser) -> None:
    """The TUI's options (shared with `workbench serve`, which passes them to each app)."""
    add_connection_flags(parser)
    parser.add_argument("--model", metavar="ID", help="model to start with")
    parser.add_argument("--sessions-dir", metavar="DIR", help="where sessions are autosaved")
    parser.add_argument(
        "--ssh",
        action="store_true",
        help="remote-terminal mode: no animations, fewer screen updates while streaming "
        "(automatic when $SSH_CONNECTION is set)",
    )


def choose_target(args: argparse.Namespace, config: object, environ: Mapping[str, str]) -> Target:
    """Where the TUI sends requests: the rule every command shares (cli/common.py); a Cerebras
    endpoint without a key starts the simulator with a notice instead of refusing."""
    return common.choose_target(args, config, environ, fallback_offline=True)


# Textual draws at most TEXTUAL_FPS frames a second, on a fixed grid: after a frame that took
# longer than one period, the next waits for the grid point after next (up to two periods).
# At the default 60 that put 17-33 ms between a key press and its frame while a stream kept
# frames busy; 240 lets a key's frame follow within ~4-8 ms. The stream itself is paced by
# the app's flush rate, not by this (docs/benchmarks.md, key latency).
FRAME_RATE_CAP = "240"


def run(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    # Textual reads the variable once, when textual.constants is imported; a user's own
    # setting wins. It is taken out again so that $EDITOR and other children do not inherit it.
    if "TEXTUAL_FPS" not in os.environ:
        os.environ["TEXTUAL_FPS"] = FRAME_RATE_CAP
        import textual.constants  # noqa: F401 - read the frame rate now

        del os.environ["TEXTUAL_FPS"]
    # Imports and building the app make hundreds of thousands of objects and no garbage; the
    # collector's passes over them cost 15-30 ms of startup. The app turns it back on (and
    # freezes what exists) after its first frame; here it is on again whatever happens.
    gc.disable()
    try:
        return _run(args, environ)
    finally:
        gc.enable()


def _run(args: argparse.Namespace, environ: Mapping[str, str] | None) -> int:
    env = os.environ if environ is None else environ
    config, problems = common.cli_config(args)
    from workbench.api.endpoint import Endpoint
    from workbench.api.errors import WorkbenchAPIError

    try:
        check_text("--model", args.model)
        target = choose_target(args, config, env)
        withheld = target.endpoint.key_withheld_reason if target.endpoint else None
        if withheld:  # said once, in the app's first notices
            target = dataclasses.replace(target, notices=(*target.notices, withheld))
    except (UsageError, WorkbenchAPIError) as error:
        # A URL, header or profile that cannot be used: said before the screen opens.
        report(common.describe_error(error))
        return EXIT_USAGE
    with ExitStack() as stack:
        endpoint = target.endpoint
        if target.offline:
            from workbench.sim import ThreadedSim

            sim = stack.enter_context(ThreadedSim())
            # An empty environment: the user's key and custom headers are not for the simulator.
            endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        app = build_app(args, env, target, endpoint, config, problems)
        app.run()
    return exit_status(app)


def starting_model(args: argparse.Namespace, config: object, target: Target) -> str:
    """The one default-model rule (the CLI's ``run`` uses it too): ``--model``, else the
    profile's ``model``, else ``[defaults] model``, else the registry's default."""
    from workbench.config import DEFAULT_MODEL

    profile = config.profile(target.profile) if target.profile else None  # type: ignore[attr-defined]
    return (
        args.model
        or (profile.model if profile else None)
        or config.defaults.get("model")  # type: ignore[attr-defined]
        or DEFAULT_MODEL
    )


def exit_status(app: object) -> int:
    """After the app closed: make sure nothing typed into this session is lost, and never
    report success for a crash.

    An exchange whose autosave failed is still in memory: it is saved once more here, or else
    written to a rescue file whose path is printed. A crash (Textual has printed the traceback)
    exits 70 and says where the session is; an unsaved session exits 5.
    """
    session = getattr(app, "session", None)
    store = getattr(app, "store", None)
    crashed = getattr(app, "return_code", 0) not in (0, None)
    where, unsaved_error = _secure_session(session, store)
    if crashed:
        report(
            "the app stopped on an unexpected error (details above); "
            + (
                f"this session is saved in {where}"
                if where
                else "the session was empty: nothing to save"
            )
        )
    if unsaved_error is not None:
        report(unsaved_error)
        return EXIT_FILES
    return EXIT_INTERNAL if crashed else EXIT_OK


def _secure_session(session: object, store: object) -> tuple[str | None, str | None]:
    """(where the session's file is, a message if some of it could not be saved)."""
    from workbench.sessions.store import StorageInfo

    if session is None or store is None:
        return None, None
    exchanges = getattr(session, "exchanges", [])
    storage = getattr(session, "storage", None)
    saved_ids = storage.exchange_ids if isinstance(storage, StorageInfo) else frozenset()
    where = str(storage.path) if isinstance(storage, StorageInfo) else None
    missing = [e for e in exchanges if e.id not in saved_ids]
    if not missing:
        return where, None
    try:
        saved = store.save(session)  # type: ignore[attr-defined]
    except Exception as failure:  # noqa: BLE001 - any reason: fall back to the rescue file
        rescue = _rescue_file(session)
        count = f"{len(missing)} exchange{'s' if len(missing) != 1 else ''}"
        if rescue is None:
            return where, f"autosave failed ({failure}) and {count} could not be saved anywhere"
        return str(rescue), (
            f"autosave failed ({failure}); the session with its {count} not saved is in "
            f"{rescue} (move it into your sessions folder to open it again)"
        )
    return str(saved.path), None


def _rescue_file(session: object) -> Path | None:
    """The session written as a private file in the temp folder, or None if even that fails."""
    import tempfile

    from workbench.sessions.codec import encode

    try:
        data = encode(session)  # type: ignore[arg-type]
        handle, name = tempfile.mkstemp(prefix="workbench-unsaved-", suffix=".toml")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return Path(name)
    except Exception:  # noqa: BLE001 - nothing left to try; the caller says so
        return None


def build_app(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    target: Target,
    endpoint: object,
    config: object,
    problems: list,
):  # -> WorkbenchApp (imported late: Textual loads only when the TUI really starts)
    """The app the flags describe (SSH mode also when ``$SSH_CONNECTION`` is set)."""
    from workbench.config import ConfigProblem
    from workbench.ui.app import WorkbenchApp

    return WorkbenchApp(
        endpoint,  # type: ignore[arg-type]
        offline=target.offline,
        profile=target.profile,
        config=config,  # type: ignore[arg-type]
        config_problems=[*problems, *(ConfigProblem(n) for n in target.notices)],
        sessions_dir=Path(args.sessions_dir).expanduser() if args.sessions_dir else None,
        ssh=bool(args.ssh or environ.get("SSH_CONNECTION")),
        timeouts=common.timeouts_from_args(args),
        max_retries=args.retries,
        model=starting_model(args, config, target),
    )
