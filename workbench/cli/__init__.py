"""The `workbench` command: the TUI by default, plus headless sub-commands.

Each sub-command lives in its own module under ``workbench.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a callable taking the
parsed namespace and returning the exit code). Modules are imported lazily by name so that a
headless command never pays for importing Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from workbench import __version__

# Exit codes shared by every sub-command (documented in README.md).
EXIT_OK = 0
EXIT_DIFFERENT = 1  # replay --check: some output differs
EXIT_USAGE = 2  # usage or validation error
EXIT_API = 3  # the API answered with an error
EXIT_NETWORK = 4  # connection error or timeout
EXIT_INTERRUPTED = 130

# Sub-command modules, in the order `workbench --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "tui",
    "run",
    "compare",
    "models",
    "sim",
    "sessions",
    "replay",
    "export",
    "config",
)


def build_parser(commands: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the given sub-commands (all of them unless told otherwise)."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A keyboard-driven terminal workbench for the Cerebras completions API. "
        "With no sub-command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        try:
            module = importlib.import_module(f"workbench.cli.{name}")
        except ModuleNotFoundError as error:
            # A sub-command whose module is not written yet is simply not offered.
            if error.name == f"workbench.cli.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    asks_for_help = bool(set(args_list) & {"-h", "--help", "--version"})
    if not asks_for_help and (not args_list or args_list[0] == "tui" or args_list[0].startswith("-")):
        # Opening the TUI: only its parser is built, so its start does not wait for every
        # other sub-command's module (and what they import) to load.
        parser = build_parser(("tui",))
        if args_list[:1] != ["tui"]:
            args_list = ["tui", *args_list]
    else:
        parser = build_parser()
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
