"""`workbench config path`: where the config file, the sessions and the user themes live."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench import paths
from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show where the workbench keeps its files")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    path_parser = actions.add_parser(
        "path", help="print the config file, sessions folder and themes folder"
    )
    path_parser.add_argument("--config", metavar="FILE", help="config file to read instead")
    path_parser.add_argument(
        "--sessions-dir", metavar="DIR", help="sessions folder to use instead (as the TUI takes it)"
    )
    parser.set_defaults(handler=run)


def sessions_folder(flag: str | None, config: object) -> Path:
    """``--sessions-dir`` > the config's ``sessions_dir`` > the platform data folder."""
    if flag:
        return Path(flag).expanduser()
    return getattr(config, "sessions_dir", None) or paths.sessions_dir()


def run(args: argparse.Namespace) -> int:
    if getattr(args, "config_action", None) != "path":
        print("usage: workbench config path [--config FILE] [--sessions-dir DIR]")
        return EXIT_USAGE
    from workbench.config import load_config

    config_file = Path(args.config).expanduser() if args.config else paths.config_file()
    config, problems = load_config(config_file if args.config else None)
    out = Output()
    exists = "" if config_file.exists() else "  (not created yet)"
    out.write(f"config file:  {config_file}{exists}\n")
    out.write(f"sessions dir: {sessions_folder(args.sessions_dir, config)}\n")
    out.write(f"themes dir:   {paths.user_themes_dir()}\n")
    for problem in problems:
        out.write(f"warning: {problem}\n")
    return EXIT_OK
