"""`workbench` / `workbench tui`: open the TUI.

Where requests go, in order: ``--offline``; ``--base-url``; the ``--profile`` (or the config's
``default_profile``); the ``CEREBRAS_API_KEY`` / ``CEREBRAS_BASE_URL`` environment. With none
of these — no key, no base URL — the app starts against the built-in simulator, with a badge
that says so and a hint on how to use the real API.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import add_connection_flags


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tui", help="open the terminal UI (the default when no command is given)"
    )
    add_tui_options(parser)
    parser.set_defaults(handler=run)


def add_tui_options(parser: argparse.ArgumentParser) -> None:
    """The TUI's options (shared with `workbench serve`, which passes them to each app)."""
    add_connection_flags(parser)
    parser.add_argument("--profile", metavar="NAME", help="endpoint profile from the config file")
    parser.add_argument("--model", metavar="ID", help="model to start with")
    parser.add_argument(
        "--config", metavar="FILE", help="config file to read instead of the default"
    )
    parser.add_argument("--sessions-dir", metavar="DIR", help="where sessions are autosaved")
    parser.add_argument(
        "--ssh",
        action="store_true",
        help="remote-terminal mode: no animations, fewer screen updates while streaming "
        "(automatic when $SSH_CONNECTION is set)",
    )


@dataclass(frozen=True)
class Target:
    """Where the app will send requests, and the notices to show about that choice."""

    endpoint: object | None  # Endpoint, or None for "start the simulator"
    offline: bool
    profile: str | None
    notices: tuple[str, ...] = ()


def choose_target(args: argparse.Namespace, config: object, environ: Mapping[str, str]) -> Target:
    from workbench.api.endpoint import ENV_API_KEY, ENV_BASE_URL, Endpoint

    if getattr(args, "offline", False):
        return Target(None, True, None)
    profile = config.profile(getattr(args, "profile", None))  # type: ignore[attr-defined]
    if getattr(args, "base_url", None):
        key = profile.resolve_api_key(environ) if profile else None
        endpoint = Endpoint.from_env(base_url=args.base_url, api_key=key, environ=environ)
        return _checked(endpoint, profile.name if profile else None)
    if profile is not None:
        endpoint = Endpoint.from_env(
            base_url=profile.base_url,
            api_key=profile.resolve_api_key(environ),
            environ=environ,
            base_url_source=f"profile {profile.name}",
            key_source=f"profile {profile.name}",
        )
        return _checked(endpoint, profile.name)
    if environ.get(ENV_API_KEY, "").strip() or environ.get(ENV_BASE_URL, "").strip():
        return _checked(Endpoint.from_env(environ=environ), None)
    return Target(None, True, None)


def _checked(endpoint: object, profile: str | None) -> Target:
    from workbench.api.errors import MissingAPIKeyError

    try:
        endpoint.require_key()  # type: ignore[attr-defined]
    except MissingAPIKeyError as error:
        return Target(None, True, None, (f"{error} Using the offline simulator for now.",))
    return Target(endpoint, False, profile)


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
    from workbench.config import load_config


    env = os.environ if environ is None else environ
    config, problems = load_config(Path(args.config) if args.config else None)
    if args.profile and args.profile not in config.profiles:
        import difflib

        close = difflib.get_close_matches(args.profile, list(config.profiles), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        print(
            f"workbench: no profile named {args.profile!r} in {config.path}{hint}", file=sys.stderr
        )
        return EXIT_USAGE
    from workbench.api.endpoint import Endpoint
    from workbench.api.errors import InvalidBaseURLError

    try:
        target = choose_target(args, config, env)
    except InvalidBaseURLError as error:
        print(f"workbench: {error}", file=sys.stderr)
        return EXIT_USAGE
    with ExitStack() as stack:
        endpoint = target.endpoint
        if target.offline:
            from workbench.sim import ThreadedSim

            sim = stack.enter_context(ThreadedSim())
            # An empty environment: the user's key and custom headers are not for the simulator.
            endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        build_app(args, env, target, endpoint, config, problems).run()
    return EXIT_OK


def build_app(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    target: Target,
    endpoint: object,
    config: object,
    problems: list,
):  # -> WorkbenchApp (imported late: Textual loads only when the TUI really starts)
    """The app the flags describe (SSH mode also when ``$SSH_CONNECTION`` is set)."""
    from workbench.api.client import Timeouts
    from workbench.config import ConfigProblem
    from workbench.ui.app import WorkbenchApp

    timeout = getattr(args, "timeout", None)
    timeouts = Timeouts() if timeout is None else Timeouts(connect=min(5.0, timeout), read=timeout)
    return WorkbenchApp(
        endpoint,  # type: ignore[arg-type]
        offline=target.offline,
        profile=target.profile,
        config=config,  # type: ignore[arg-type]
        config_problems=[*problems, *(ConfigProblem(n) for n in target.notices)],
        sessions_dir=Path(args.sessions_dir).expanduser() if args.sessions_dir else None,
        ssh=bool(args.ssh or environ.get("SSH_CONNECTION")),
        timeouts=timeouts,
        max_retries=args.retries,
        model=args.model,
    )
