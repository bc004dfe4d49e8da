"""`workbench run`: send one completion request and print the output as it arrives.

stdout carries only the model's output (or, with ``--json``, the response object), so it can
be piped; the one-line speed/usage summary and any error go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from workbench.api.client import CompletionClient
from workbench.api.fields import FIELDS, FieldSpec, FieldValueError, decode_escapes, parse_text
from workbench.api.request import CompletionRequest
from workbench.api.types import (
    ChoiceFinished,
    CompletionResult,
    ResponseStarted,
    StreamFinished,
    TextDelta,
)
from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.cli.common import (
    Output,
    UsageError,
    add_connection_flags,
    check_text,
    cli_config,
    is_terminal,
    neutralise,
    report,
    run_with_client,
)
from workbench.config import DEFAULT_MODEL


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="send one completion request and print the output",
        description="Send one completion request and stream its output to stdout. "
        "Speed and usage go to stderr. Exit codes: 0 ok, 2 usage or invalid field, "
        "3 API error, or a malformed or truncated stream, 4 network error, timeout or dropped "
        "connection (text that already arrived stays printed), 130 interrupted. On a "
        "terminal, control characters in the output (escape sequences included) are shown as "
        "\\xNN instead of being obeyed; a pipe gets the text byte for byte. With no API key and "
        "no base URL configured, the built-in offline simulator answers (said on stderr).",
    )
    parser.add_argument(
        "prompt",
        nargs="?",
        metavar="PROMPT",
        help="the prompt; '-' (or nothing, when stdin is not a terminal) reads it from stdin, "
        "verbatim including any trailing newline",
    )
    fields = parser.add_argument_group("request fields")
    fields.add_argument(
        "--prompt-json",
        metavar="JSON",
        help="the prompt as JSON: an array of strings (a batch: one choice each), "
        'an array of token ids, or an array of token-id arrays, e.g. \'["a", "b"]\'',
    )
    add_field_flags(fields)

    output = parser.add_argument_group("output")
    output.add_argument(
        "--json",
        action="store_true",
        help="print the response object as JSON (for a stream: the assembled equivalent)",
    )
    output.add_argument("--quiet", "-q", action="store_true", help="no speed/usage line on stderr")
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


# -- building the request ----------------------------------------------------------------------


def add_field_flags(group: Any) -> None:
    """One flag per request field, generated from the registry (``workbench.api.fields``):
    toggles are ``--x/--no-x``, lists repeat, everything else takes one value. Values stay
    text here and are parsed by :func:`build_request`, so a bad one gets the same
    ``workbench: field: …`` message as every other invalid field."""
    for spec in FIELDS:
        names = [spec.flag, *([spec.cli_short] if spec.cli_short else [])]
        help_text = spec.help
        if spec.choices:
            help_text += ": " + ", ".join(spec.choices)
        if spec.name == "model":
            help_text += f" (default: the profile's, else [defaults], else {DEFAULT_MODEL})"
        if spec.kind == "toggle":
            if spec.name == "stream":
                help_text += " (default: on; --no-stream sends one non-streaming request)"
            group.add_argument(
                *names, dest=spec.name, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif spec.kind == "list":
            group.add_argument(
                *names,
                dest=spec.name,
                action="append",
                metavar=_metavar(spec),
                help=help_text + "; repeat the flag for several",
            )
        else:
            group.add_argument(*names, dest=spec.name, metavar=_metavar(spec), help=help_text)


def _metavar(spec: FieldSpec) -> str:
    return {"int": "N", "float": "X", "choice": "NAME", "list": "TEXT"}.get(
        spec.kind, spec.name.upper()
    )


# A JSON prompt deeper than this is not a prompt (the deepest valid one is 2: [[1, 2]]).
MAX_PROMPT_JSON_DEPTH = 64


def read_prompt(args: argparse.Namespace, stdin: TextIO | None) -> Any:
    """The prompt from PROMPT, ``--prompt-json`` or stdin (raises UsageError)."""
    if args.prompt_json is not None:
        if args.prompt is not None:
            raise UsageError("prompt: give PROMPT or --prompt-json, not both")
        check_text("prompt", args.prompt_json)
        if _nesting(args.prompt_json) > MAX_PROMPT_JSON_DEPTH:
            raise UsageError("prompt: --prompt-json is nested too deeply")
        try:
            value = json.loads(args.prompt_json)
        except (json.JSONDecodeError, RecursionError) as error:
            raise UsageError(f"prompt: --prompt-json is not valid JSON ({error})") from None
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                # A JSON escape such as "\ud800" decodes to a lone surrogate: not sendable.
                check_text("prompt", text)
        return value
    if args.prompt == "-" or (args.prompt is None and stdin is not None and not is_terminal(stdin)):
        if stdin is None:
            return ""
        binary = getattr(stdin, "buffer", None)
        if binary is None:
            return stdin.read()
        return binary.read().decode("utf-8", "replace")
    if args.prompt is None:
        raise UsageError("prompt: give PROMPT, '-' to read stdin, pipe it in, or use --prompt-json")
    check_text("prompt", args.prompt)
    return args.prompt


def _nesting(text: str) -> int:
    """How deep the brackets of a JSON text go (a linear scan: strings may hold brackets, which
    only over-count, and an over-count only refuses what is absurd anyway)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def field_values(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields given on the command line, parsed by the registry's rules."""
    values: dict[str, Any] = {}
    for spec in FIELDS:
        raw = getattr(args, spec.name, None)
        if raw is None:
            continue
        try:
            if spec.kind == "toggle":
                values[spec.name] = bool(raw)
            elif spec.kind == "list":
                items: list[str] = []
                for text in raw:
                    check_text(spec.name, text)
                    # Each flag is one entry, taken literally but for the \n-style escapes
                    # (an empty one stays, so that validate() says it is empty).
                    items.append(decode_escapes(text))
                values[spec.name] = items[0] if len(items) == 1 else items
            else:
                check_text(spec.name, raw)
                values[spec.name] = parse_text(spec, raw)
        except FieldValueError as error:
            raise UsageError(str(error)) from None
    return {name: value for name, value in values.items() if value is not None}


def build_request(args: argparse.Namespace, stdin: TextIO | None) -> CompletionRequest:
    values = field_values(args)
    if "model" not in values:
        config, _problems = cli_config(args)
        profile = config.profile(getattr(args, "profile", None))
        values["model"] = (
            (profile.model if profile else None) or config.defaults.get("model") or DEFAULT_MODEL
        )
    return CompletionRequest(prompt=read_prompt(args, stdin), **values)


def handle(args: argparse.Namespace) -> int:
    try:
        request = build_request(args, sys.stdin)
    except UsageError as error:
        report(str(error))
        return EXIT_USAGE
    errors = request.validate()
    if errors:
        for error in errors:
            report(str(error))
        return EXIT_USAGE
    return run_with_client(args, lambda client: send(client, request, args))


# -- printing ----------------------------------------------------------------------------------


class ChoicePrinter:
    """Prints the choices of a response in index order, as their pieces arrive.

    The lowest unfinished choice streams live; pieces of later choices are held back until
    their turn, so interleaved batch streams still read as one block per choice. With more than
    one choice each block starts with a ``[choice N]`` line. A single text choice is written
    byte-for-byte (no added newline) unless stdout is a terminal.
    """

    def __init__(self, out: Output, *, expected_choices: int, raw_tokens: bool) -> None:
        self.out = out
        self.labelled = expected_choices > 1
        self.raw_tokens = bool(raw_tokens)
        self.current = 0
        self.held: dict[int, list[str]] = {}
        self.finished: set[int] = set()
        self.labelled_indexes: set[int] = set()
        self.has_tokens: set[int] = set()

    def text(self, index: int, text: str) -> None:
        self._piece(index, text)

    def tokens(self, index: int, tokens: list[int] | tuple[int, ...]) -> None:
        if not tokens:
            return
        ids = " ".join(str(token) for token in tokens)
        self._piece(index, (" " + ids) if index in self.has_tokens else ids)
        self.has_tokens.add(index)

    def finish(self, index: int) -> None:
        self.finished.add(index)
        while self.current in self.finished:
            self._end_block()
            self.current += 1
            if self.current in self.held:
                self._write(self.current, "".join(self.held.pop(self.current)))

    def close(self) -> None:
        """Print everything still held back (also after an error: partial text is output)."""
        for index in sorted(self.held):
            self.current = index
            self._write(index, "".join(self.held.pop(index)))
            self._end_block()
        if self.out.is_terminal or self.raw_tokens or self.labelled:
            self.out.end_line()

    def _piece(self, index: int, piece: str) -> None:
        if not piece:
            return
        if index == self.current or index in self.finished:
            self._write(index, piece)
        else:
            self.held.setdefault(index, []).append(piece)

    def _write(self, index: int, piece: str) -> None:
        if self.labelled and index not in self.labelled_indexes:
            self.labelled_indexes.add(index)
            self.out.end_line()
            self.out.write(f"[choice {index}]\n")
        self.out.write(piece)

    def _end_block(self) -> None:
        if self.labelled or self.raw_tokens:
            self.out.end_line()


def response_json(result: CompletionResult) -> dict[str, Any]:
    """The response object in the API's shape: ``id``, then ``choices``, then every other
    top-level field the server sent, in its order (for a stream: those of the last chunk that
    carried them, so ``usage`` and ``time_info`` are the final ones)."""
    choices = []
    for choice in result.choices:
        item: dict[str, Any] = {
            "finish_reason": choice.finish_reason,
            "index": choice.index,
            "logprobs": choice.logprobs,
            "text": choice.text,
        }
        if choice.tokens is not None:
            item["tokens"] = choice.tokens
        choices.append(item)
    body: dict[str, Any] = {"id": result.id, "choices": choices}
    for key, value in result.raw.items():
        body.setdefault(key, value)
    for key, value in (
        ("created", result.created),
        ("model", result.model),
        ("system_fingerprint", result.system_fingerprint),
        ("object", "text_completion"),
        ("usage", result.usage.raw if result.usage else None),
        ("time_info", result.time_info.raw if result.time_info else None),
    ):
        if value is not None:
            body.setdefault(key, value)
    return body


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _rate(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def metrics_line(result: CompletionResult, *, streamed: bool, attempts: int = 1) -> str:
    """One line: time to first token (or wall time), client and server tok/s, usage, finish."""
    metrics = result.metrics
    parts = [
        f"ttft {_seconds(metrics.time_to_first_token_s)}"
        if streamed
        else f"time {_seconds(metrics.wall_time_s)}",
        f"{_rate(metrics.client_tokens_per_s)} tok/s client",
        f"{_rate(metrics.server_tokens_per_s)} tok/s server",
    ]
    usage = result.usage
    if usage is not None:
        count = lambda value: "?" if value is None else str(value)
        parts.append(
            f"usage {count(usage.prompt_tokens)} prompt + {count(usage.completion_tokens)} "
            f"completion = {count(usage.total_tokens)}"
        )
    reasons = [choice.finish_reason or "none" for choice in result.choices]
    parts.append("finish " + (",".join(reasons) if reasons else "none"))
    if attempts > 1:
        parts.append(f"after {attempts - 1} {'retry' if attempts == 2 else 'retries'}")
    return ", ".join(parts)


# -- sending -----------------------------------------------------------------------------------


async def send(
    client: CompletionClient, request: CompletionRequest, args: argparse.Namespace
) -> int:
    out = Output(sys.stdout)
    streamed = request.stream is not False
    if streamed:
        result, attempts = await _stream(client, request, args, out)
    else:
        result = await client.complete(request)
        attempts = 1
        if args.json:
            _print_json(out, response_json(result))
        else:
            printer = ChoicePrinter(
                out,
                expected_choices=max(len(result.choices), 1),
                raw_tokens=request.return_raw_tokens,
            )
            for choice in result.choices:
                if choice.tokens is not None and request.return_raw_tokens:
                    printer.tokens(choice.index, choice.tokens)
                else:
                    printer.text(choice.index, choice.text)
                printer.finish(choice.index)
            printer.close()
    if not args.quiet:
        line = metrics_line(result, streamed=streamed, attempts=attempts)
        print(neutralise(line) if is_terminal(sys.stderr) else line, file=sys.stderr, flush=True)
    return EXIT_OK


async def _stream(
    client: CompletionClient, request: CompletionRequest, args: argparse.Namespace, out: Output
) -> tuple[CompletionResult, int]:
    printer = (
        None
        if args.json
        else ChoicePrinter(
            out, expected_choices=request.choice_count, raw_tokens=request.return_raw_tokens
        )
    )
    result: CompletionResult | None = None
    attempts = 1
    try:
        # `async with` closes the connection the moment the loop ends, also on Ctrl+C.
        async with client.stream(request) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if printer is None:
                        continue
                    if event.tokens is not None:
                        printer.tokens(event.index, event.tokens)
                    else:
                        printer.text(event.index, event.text)
                elif isinstance(event, ChoiceFinished):
                    if printer is not None:
                        printer.finish(event.index)
                elif isinstance(event, StreamFinished):
                    result = event.result
                elif isinstance(event, ResponseStarted):
                    attempts = event.attempts
    finally:
        # Runs on success, on an error (the partial text stays printed and the error line
        # starts on its own line) and on Ctrl+C.
        if printer is not None:
            printer.close()
        else:
            out.end_line()
    if result is None:  # the client always ends a good stream with StreamFinished
        raise RuntimeError("stream ended without a StreamFinished event")
    if args.json:
        _print_json(out, response_json(result))
    return result, attempts


def _print_json(out: Output, body: Any) -> None:
    out.write(json.dumps(body, indent=4, ensure_ascii=False) + "\n")
