"""`workbench config path`: where the config file, the sessions and the user themes live."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench import paths
from workbench.cli import EXIT_OK, EXIT_USAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show where the workbench keeps its files")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION")
    path_parser = actions.add_parser(
        "path", help="print the config file, sessions folder and themes folder"
    )
    path_parser.add_argument("--config", metavar="FILE", help="config file to read instead")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "config_action", None) != "path":
        print("usage: workbench config path")
        return EXIT_USAGE
    from workbench.config import load_config

    config_file = Path(args.config) if getattr(args, "config", None) else paths.config_file()
    config, problems = load_config(config_file if args.config else None)
    sessions = config.sessions_dir or paths.sessions_dir()
    print(f"config file:  {config_file}{'' if config_file.exists() else '  (not created yet)'}")
    print(f"sessions dir: {sessions}")
    print(f"themes dir:   {paths.user_themes_dir()}")
    for problem in problems:
        print(f"warning: {problem}")
    return EXIT_OK
