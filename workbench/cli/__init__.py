"""The `workbench` command: the TUI by default, plus headless sub-commands.

Each sub-command lives in its own module under ``workbench.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a callable taking the
parsed namespace and returning the exit code). Modules are imported lazily by name so that a
headless command never pays for importing Textual.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from workbench import version_text

# Exit codes shared by every sub-command (documented in README.md).
EXIT_OK = 0
EXIT_DIFFERENT = 1  # replay --check: some output differs; doctor: a problem was found
EXIT_USAGE = 2  # usage or validation error
EXIT_API = 3  # the API answered with an error
EXIT_NETWORK = 4  # connection error or timeout
EXIT_FILES = 5  # a file could not be written (the TUI's session: disk full, permissions …)
EXIT_INTERNAL = 70  # a bug: an unexpected error (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130
# What a shell reports for a command killed by SIGPIPE (128 + 13): `workbench … | head` ends
# the way `cat big | head` does, quietly.
EXIT_BROKEN_PIPE = 141

# Sub-command modules, in the order `workbench --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "tui",
    "run",
    "compare",
    "models",
    "sim",
    "sessions",
    "replay",
    "eval",
    "export",
    "config",
    "doctor",
    "completion",
    "serve",
)


class _VersionAction(argparse.Action):
    """``--version``: asks git for the commit only when the version is really wanted."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[no-untyped-def]
        print(version_text())
        parser.exit()


def build_parser(commands: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the given sub-commands (all of them unless told otherwise)."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A keyboard-driven terminal workbench for the Cerebras completions API. "
        "With no sub-command, opens the TUI.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the version (and commit) and exit"
    )
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
    """Run the command line; every way it ends is an exit code and at most one line on stderr."""
    try:
        try:
            return _main(argv)
        finally:
            # Flushed here, inside the guard (also on SystemExit from --help/--version): a
            # reader that went away (`| head`) after the last write makes this flush fail,
            # and that must end as quietly as a failed write.
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RecursionError:
        print("workbench: input nested too deeply to read", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeEncodeError as error:
        if "surrogates not allowed" not in str(error):
            raise
        # argv bytes that are not UTF-8 arrive as lone surrogates (PEP 383) and reach here
        # only if a command forgot to check them; they can never be sent or saved.
        print("workbench: an argument is not valid UTF-8 text", file=sys.stderr)
        return EXIT_USAGE


def _reader_went_away() -> int:
    """stdout's reader closed the pipe: point stdout at /dev/null so the interpreter's final
    flush cannot raise again, and say nothing (nobody is reading)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (embedded, tests): nothing to protect
        pass
    return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    asks_for_help = bool(set(args_list) & {"-h", "--help", "--version"})
    if not asks_for_help and (
        not args_list or args_list[0] == "tui" or args_list[0].startswith("-")
    ):
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
    return int(handler(args) or 0)
