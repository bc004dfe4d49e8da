"""`workbench completion bash|zsh|fish`: a shell completion script, printed to stdout.

The script's sub-commands, flags and fixed choices are generated from the argparse parsers at
the moment it is printed, so it matches the installed version (print it again after an
upgrade). What changes between key presses — model ids, profile names, session ids — comes from
``workbench completion --values KIND``, run by the script on TAB:

* models: the last ``/v1/models`` list, cached on disk by ``workbench models`` and
  ``workbench doctor`` (no network on TAB);
* profiles: the names in the config file;
* sessions: the ids of the saved sessions, newest first (paths complete as files too).

Every value is checked against a conservative character set before a shell sees it: a hostile
model id from a server cannot inject shell syntax into a completion.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from workbench.api.fields import FIELD_BY_NAME
from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output, report

SHELLS = ("bash", "zsh", "fish")
VALUE_KINDS = ("models", "profiles", "sessions")
# What a completion value may contain: enough for model ids, profile names and session ids,
# nothing a shell would interpret.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=-]{1,200}$")
MAX_VALUES = 500
MODELS_CACHE_NAME = "models-cache.json"

# Which completer a value-taking option gets, by argparse dest.
_VALUE_COMPLETERS = {
    "model": "models",
    "profile": "profiles",
    "config": "file",
    "sessions_dir": "dir",
    "session": "sessions",
}
# Positionals of these (command, action) pairs are sessions.
_SESSION_POSITIONALS = {
    ("replay", ""),
    ("export", ""),
    ("sessions", "show"),
    ("sessions", "delete"),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script for your shell. Install it with, for bash: "
        "workbench completion bash > ~/.local/share/bash-completion/completions/workbench; "
        "zsh: eval \"$(workbench completion zsh)\" in ~/.zshrc (after compinit); "
        "fish: workbench completion fish > ~/.config/fish/completions/workbench.fish. "
        'Or in your shell\'s rc file: eval "$(workbench completion bash)". Model ids come '
        "from the last `workbench models` (or doctor) run.",
    )
    parser.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete for")
    parser.add_argument("--values", choices=VALUE_KINDS, help=argparse.SUPPRESS)
    # The folder a `--sessions-dir DIR` typed earlier on the line names (for --values sessions).
    parser.add_argument("--sessions-dir", help=argparse.SUPPRESS)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    out = Output()
    if args.values:
        found = values(args.values, sessions_dir=args.sessions_dir)
        out.write("".join(f"{value}\n" for value in found))
        return EXIT_OK
    if not args.shell:
        report("completion: name the shell: workbench completion bash|zsh|fish")
        return EXIT_USAGE
    spec = command_spec()
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell](spec)
    out.write(script)
    return EXIT_OK


# -- dynamic values ------------------------------------------------------------------------------


def safe_values(items: Iterable[str]) -> list[str]:
    """The items a shell may see, without duplicates, at most MAX_VALUES."""
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, str) and _SAFE_VALUE.match(item):
            seen.setdefault(item, None)
            if len(seen) >= MAX_VALUES:
                break
    return list(seen)


def values(kind: str, *, sessions_dir: str | None = None) -> list[str]:
    if kind == "models":
        return cached_models()
    if kind == "profiles":
        from workbench.config import load_config

        config, _problems = load_config()
        return safe_values(config.profiles)
    if kind == "sessions":
        return session_ids(sessions_dir)
    return []


def models_cache_file() -> Path:
    from workbench import paths

    return paths.data_dir() / MODELS_CACHE_NAME


def remember_models(base_url: str, models: Iterable[str]) -> None:
    """Keep the last model list on disk for completion (best effort: never fails a command)."""
    ids = safe_values(models)
    body = {
        "base_url": base_url,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "models": ids,
    }
    target = models_cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".models-", suffix=".tmp", dir=target.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(body, file)
        os.replace(temp, target)
    except OSError:
        Path(temp).unlink(missing_ok=True)


def cached_models() -> list[str]:
    try:
        with open(models_cache_file(), "rb") as file:
            data = json.loads(file.read(1_000_000))
    except (OSError, ValueError, RecursionError):
        return []
    models = data.get("models") if isinstance(data, dict) else None
    return safe_values(models) if isinstance(models, list) else []


def session_ids(sessions_dir: str | None = None) -> list[str]:
    """Ids of the saved sessions, newest first (from file names: nothing is parsed)."""
    from workbench.sessions.ids import id_from_file_name
    from workbench.sessions.location import resolve_sessions_dir

    try:
        names = [entry.name for entry in os.scandir(resolve_sessions_dir(sessions_dir))]
    except OSError:
        return []
    ids = (id_from_file_name(name) for name in names)
    return safe_values(sorted((i for i in ids if i), reverse=True))


# -- what the parsers offer ----------------------------------------------------------------------


def command_spec() -> dict[str, Any]:
    """``{"commands": {name: {"help", "flags", "values", "choices", "actions"}}, …}`` from the
    real parsers (``actions``: nested sub-commands such as ``sessions list``)."""
    from workbench.cli import build_parser

    parser = build_parser()
    top = _subparsers(parser)
    helps = _sub_helps(parser)
    commands: dict[str, Any] = {}
    for name, sub in top.items():
        entry = _describe(sub)
        entry["help"] = helps.get(name, "")
        entry["actions"] = {n: _describe(p) for n, p in _subparsers(sub).items()}
        commands[name] = entry
    return {"commands": commands, "top_flags": ["-h", "--help", "--version"]}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse offers no public walk over sub-commands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _sub_helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def _describe(parser: argparse.ArgumentParser) -> dict[str, Any]:
    flags: list[str] = []
    takes_value: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        if not action.option_strings:
            continue
        flags.extend(action.option_strings)
        if action.nargs != 0:
            completer = _VALUE_COMPLETERS.get(action.dest, "")
            # Request fields with fixed choices (grammar_root) validate them themselves, so
            # argparse does not know them: the registry does.
            spec = FIELD_BY_NAME.get(action.dest)
            choices = action.choices or (spec.choices if spec is not None else None)
            if choices:
                completer = "choices:" + " ".join(str(c) for c in choices)
            for option in action.option_strings:
                takes_value[option] = completer
    return {
        "help": "",
        "flags": flags,
        "values": takes_value,
        "shells": list(SHELLS) if parser.prog.endswith(" completion") else [],
    }


# -- bash (zsh uses it through bashcompinit) -----------------------------------------------------


def _quote(words: Iterable[str]) -> str:
    return " ".join(words)


def bash_script(spec: dict[str, Any]) -> str:
    commands = spec["commands"]
    value_cases: dict[str, str] = {}
    for entry in [
        *commands.values(),
        *(a for c in commands.values() for a in c["actions"].values()),
    ]:
        for option, completer in entry["values"].items():
            value_cases.setdefault(option, completer)
    takes_value = _quote(sorted(value_cases))
    flag_cases = []
    for name, entry in sorted(commands.items()):
        flag_cases.append(f'        "{name} ") flags="{_quote(entry["flags"])}" ;;')
        for action, sub in sorted(entry["actions"].items()):
            flag_cases.append(f'        "{name} {action}") flags="{_quote(sub["flags"])}" ;;')
    action_cases = [
        f'        {name}) actions="{_quote(sorted(entry["actions"]))}" ;;'
        for name, entry in sorted(commands.items())
        if entry["actions"]
    ]
    value_lines = []
    for option, completer in sorted(value_cases.items()):
        if completer.startswith("choices:"):
            body = f'COMPREPLY=($(compgen -W "{completer[8:]}" -- "$cur"))'
        elif completer in ("models", "profiles", "sessions"):
            body = f'COMPREPLY=($(compgen -W "$(_workbench_values "$1" {completer})" -- "$cur"))'
        elif completer == "file":
            body = 'COMPREPLY=($(compgen -f -- "$cur"))'
        elif completer == "dir":
            body = 'COMPREPLY=($(compgen -d -- "$cur"))'
        else:
            body = "COMPREPLY=()"
        value_lines.append(f"        {option}) {body}; return 0 ;;")
    session_cases = " | ".join(
        f'"{command} {action}"' for command, action in sorted(_SESSION_POSITIONALS)
    )
    top = _quote([*sorted(commands), *spec["top_flags"]])
    return f"""# workbench shell completion for bash (generated by `workbench completion bash`).
# Install: workbench completion bash > ~/.local/share/bash-completion/completions/workbench
#     or: eval "$(workbench completion bash)" in ~/.bashrc
# Print it again after upgrading the workbench: flags and commands are taken from it.

_workbench_values() {{
    # Values that change (models from the last /v1/models, profiles, session ids); $3 is a
    # --sessions-dir typed earlier on the line.
    command "$1" completion --values "$2" ${{3:+--sessions-dir "$3"}} 2>/dev/null
}}

_workbench() {{
    local cur prev cmd="" action="" word i flags="" actions="" sessions_dir=""
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev=""
    (( COMP_CWORD > 0 )) && prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local takes_value=" {takes_value} "
    # The command and its action are the first words that are neither flags nor flag values.
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word="${{COMP_WORDS[i]}}"
        if [[ "$word" == -* ]]; then
            [[ "$word" == --sessions-dir ]] && sessions_dir="${{COMP_WORDS[i+1]}}"
            [[ "$takes_value" == *" $word "* ]] && (( i++ ))
            continue
        fi
        if [[ -z "$cmd" ]]; then cmd="$word"
        elif [[ -z "$action" ]]; then action="$word"
        fi
    done

    if [[ "$prev" == -* && "$takes_value" == *" $prev "* ]]; then
        case "$prev" in
{chr(10).join(value_lines)}
        esac
    fi

    if [[ -z "$cmd" ]]; then
        COMPREPLY=($(compgen -W "{top}" -- "$cur"))
        return 0
    fi

    case "$cmd" in
{chr(10).join(action_cases)}
    esac
    if [[ "$cur" == -* ]]; then
        case "$cmd $action" in
{chr(10).join(flag_cases)}
        esac
        [[ -z "$flags" ]] && case "$cmd " in
{chr(10).join(flag_cases)}
        esac
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return 0
    fi
    if [[ -n "$actions" && -z "$action" ]]; then
        COMPREPLY=($(compgen -W "$actions" -- "$cur"))
        return 0
    fi
    if [[ "$cmd" == completion ]]; then
        COMPREPLY=($(compgen -W "{_quote(SHELLS)}" -- "$cur"))
        return 0
    fi
    local where="$cmd $action"
    [[ -z "$actions" ]] && where="$cmd "
    case "$where" in
        {session_cases})
            if [[ "$cur" == */* || "$cur" == .* || "$cur" == ~* ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_workbench_values "$1" sessions "$sessions_dir")" -- "$cur"))
            fi
            return 0 ;;
    esac
    COMPREPLY=()
    return 0
}}

complete -o default -F _workbench workbench cbwb
"""


def zsh_script(spec: dict[str, Any]) -> str:
    return (
        "# workbench shell completion for zsh (generated by `workbench completion zsh`).\n"
        '# Install: eval "$(workbench completion zsh)" in ~/.zshrc, after compinit.\n'
        "# zsh runs the bash completion through bashcompinit (same commands, flags, values).\n"
        "autoload -U +X compinit && { (( ${+_comps} )) || compinit }\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(spec).split("\n", 4)[4]
    )


def fish_script(spec: dict[str, Any]) -> str:
    lines = [
        "# workbench shell completion for fish (generated by `workbench completion fish`).",
        "# Install: workbench completion fish > ~/.config/fish/completions/workbench.fish",
        "",
    ]
    commands = spec["commands"]
    for program in ("workbench", "cbwb"):
        c = f"complete -c {program}"
        lines.append(f"{c} -f")
        lines.append(f"{c} -n '__fish_use_subcommand' -l version -d 'show the version and exit'")
        for name, entry in sorted(commands.items()):
            lines.append(
                f"{c} -n '__fish_use_subcommand' -a {name} -d {_fish_quote(entry['help'])}"
            )
            scopes = [(f"__fish_seen_subcommand_from {name}", entry)]
            for action, sub in sorted(entry["actions"].items()):
                lines.append(
                    f"{c} -n '__fish_seen_subcommand_from {name}; and not "
                    f"__fish_seen_subcommand_from {' '.join(entry['actions'])}' -a {action}"
                )
                scopes.append(
                    (
                        f"__fish_seen_subcommand_from {name}; and __fish_seen_subcommand_from {action}",
                        sub,
                    )
                )
            for condition, scope in scopes:
                for flag in scope["flags"]:
                    if not flag.startswith("--"):
                        continue
                    completer = scope["values"].get(flag)
                    extra = ""
                    if completer is not None:
                        extra = " -r"
                        if completer.startswith("choices:"):
                            extra += f" -a {_fish_quote(completer[8:])}"
                        elif completer in VALUE_KINDS:
                            extra += f" -a '({program} completion --values {completer})'"
                        elif completer in ("file", "dir"):
                            extra += " -F"
                    lines.append(f"{c} -n '{condition}' -l {flag[2:]}{extra}")
            if (name, "") in _SESSION_POSITIONALS:
                lines.append(
                    f"{c} -n '__fish_seen_subcommand_from {name}' "
                    f"-a '({program} completion --values sessions)' -F"
                )
        for action in ("show", "delete"):
            lines.append(
                f"{c} -n '__fish_seen_subcommand_from sessions; and __fish_seen_subcommand_from "
                f"{action}' -a '({program} completion --values sessions)' -F"
            )
        lines.append(f"{c} -n '__fish_seen_subcommand_from completion' -a '{' '.join(SHELLS)}'")
    return "\n".join(lines) + "\n"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
