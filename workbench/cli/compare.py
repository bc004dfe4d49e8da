"""`workbench compare`: one prompt, several variants (lanes) streamed at once, then a summary.

Each ``--lane`` is a comma-separated list of request-field overrides on top of the common
request flags. stdout gets each lane's text under a header and the summary table (or, with
``--json``, one JSON object); errors and the saved session's path go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from typing import Any

from workbench.api.client import CompletionClient
from workbench.api.errors import APIConnectionError
from workbench.api.fields import FIELDS, FieldValueError, parse_text
from workbench.api.request import CompletionRequest
from workbench.cli import EXIT_API, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from workbench.cli.common import (
    Output,
    UsageError,
    add_connection_flags,
    is_terminal,
    report,
    run_with_client,
)
from workbench.cli import run as run_command
from workbench.cli.run import DEFAULT_MODEL, read_prompt
from workbench.cli.sessions import add_sessions_dir_flag, open_store
from workbench.compare.metrics import lane_metrics, render_table, summary_line, table_rows
from workbench.compare.runner import CompareRun, LaneState
from workbench.compare.saving import compare_session
from workbench.compare.variants import (
    MAX_LANES,
    MIN_LANES,
    Variant,
    VariantError,
    check_lane_count,
    lane_requests,
    parse_variant,
)

_PROMPT_JSON_HELP = (
    "the prompt as JSON: an array of strings (a batch), token ids, or token-id arrays"
)
# Toggles are flags without a value; `stream` is on unless --no-stream (as in `run`).
_TOGGLE_FLAGS = {"echo", "return_raw_tokens"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="send one prompt as several variants at once and compare them",
        description=f"Send one prompt as {MIN_LANES} to {MAX_LANES} variants ('lanes') at once: "
        "each --lane overrides request fields of the common flags, e.g. "
        "--lane model=llama3.1-8b --lane model=qwen-3-32b,temperature=0.2. Prints each lane's "
        "text under a header, then a summary table ranking the lanes. Exit codes: 0 every "
        "lane succeeded, 2 usage or invalid field (the lane and field are named), 3 a lane "
        "failed at the API, 4 a lane failed on the network (3 wins over 4), 130 interrupted; "
        "what arrived is always printed.",
    )
    parser.add_argument(
        "prompt",
        nargs="?",
        metavar="PROMPT",
        help="the prompt; '-' (or nothing, when stdin is not a terminal) reads it from stdin",
    )
    parser.add_argument(
        "--lane",
        "-l",
        dest="lanes",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE…]",
        help="one variant: request fields to override (repeat for each lane; "
        f"{MIN_LANES} to {MAX_LANES})",
    )
    shared_flags = getattr(run_command, "add_field_flags", None)
    if shared_flags is not None:
        # `run`'s own flags, generated from the field registry (--stream/--no-stream included).
        group = parser.add_argument_group("request fields (common to every lane)")
        group.add_argument("--prompt-json", metavar="JSON", help=_PROMPT_JSON_HELP)
        shared_flags(group)
    else:
        add_request_flags(parser)
    output = parser.add_argument_group("output")
    if shared_flags is None:
        output.add_argument(
            "--no-stream", dest="stream", action="store_false", help="non-streaming requests"
        )
    output.add_argument("--json", action="store_true", help="one JSON object with every lane")
    output.add_argument(
        "--save", action="store_true", help="save the run as a session (its path goes to stderr)"
    )
    add_sessions_dir_flag(parser)
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


def add_request_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per request field of the registry (``workbench.api.fields``). Values are
    parsed after argparse, by the registry, so a bad one is reported with its field's name
    like a bad ``--lane`` value."""
    group = parser.add_argument_group("request fields (common to every lane)")
    group.add_argument("--prompt-json", metavar="JSON", help=_PROMPT_JSON_HELP)
    for spec in FIELDS:
        if spec.name == "stream":
            continue
        names = [spec.flag] + ([spec.cli_short] if spec.cli_short else [])
        if spec.name in _TOGGLE_FLAGS:
            group.add_argument(
                *names, dest=spec.name, action="store_true", default=None, help=spec.help
            )
        elif spec.kind == "list":
            group.add_argument(
                *names, dest=spec.name, action="append", metavar="TEXT", help=spec.help
            )
        else:
            default = DEFAULT_MODEL if spec.name == "model" else None
            help_text = spec.help + (f" (default {DEFAULT_MODEL})" if spec.name == "model" else "")
            metavar = {"int": "N", "float": "X", "choice": "NAME"}.get(spec.kind, "TEXT")
            group.add_argument(
                *names, dest=spec.name, default=default, metavar=metavar, help=help_text
            )


def build_base(args: argparse.Namespace, stdin: Any) -> CompletionRequest:
    """The request every lane starts from (raises UsageError / VariantError)."""
    if getattr(run_command, "add_field_flags", None) is not None:
        return run_command.build_request(args, stdin)  # the flags are run's: so is the parsing
    values: dict[str, Any] = {}
    for spec in FIELDS:
        if spec.name == "stream":
            continue
        raw = getattr(args, spec.name, None)
        if raw is None:
            continue
        try:
            if spec.name in _TOGGLE_FLAGS:
                values[spec.name] = raw
            elif spec.kind == "list":
                stops = [parse_text(spec, text) for text in raw]
                values[spec.name] = [s for parsed in stops if parsed for s in parsed]
            else:
                values[spec.name] = parse_text(spec, raw)
        except FieldValueError as error:
            raise VariantError(f"{spec.flag}: {error}", field=spec.name) from None
    return CompletionRequest(prompt=read_prompt(args, stdin), stream=args.stream, **values)


def parse_lanes(texts: list[str]) -> list[Variant]:
    check_lane_count(len(texts))
    return [parse_variant(text, lane=index) for index, text in enumerate(texts)]


def handle(args: argparse.Namespace) -> int:
    try:
        variants = parse_lanes(args.lanes)
        base = build_base(args, sys.stdin)
        requests = lane_requests(base, variants)
    except (UsageError, VariantError) as error:
        report(str(error))
        return EXIT_USAGE
    run = CompareRun(requests, variants)
    printer = LanePrinter(Output(sys.stdout), json_output=args.json, prompt=base.prompt)
    printer.all_lanes = run.lanes

    progress = Progress(sys.stderr, run.lanes)
    printer.progress = progress

    async def work(client: CompletionClient) -> int:
        ticker = asyncio.create_task(progress.tick())
        try:
            await run.run(client, on_change=printer.changed)
        finally:
            ticker.cancel()
            progress.clear()
            # Also on Ctrl+C: every lane's text so far, then the table (or the JSON).
            printer.finish(run.lanes)
            if args.save:
                _save(args, run, client)
        return lane_exit_code(run.lanes)

    return run_with_client(args, work)


def lane_exit_code(lanes: list[LaneState]) -> int:
    errors = [lane.error for lane in lanes if lane.error is not None]
    if any(not isinstance(error, APIConnectionError) for error in errors):
        return EXIT_API
    if errors:
        return EXIT_NETWORK
    return EXIT_OK


def _save(args: argparse.Namespace, run: CompareRun, client: CompletionClient) -> None:
    offline = getattr(args, "offline", False)
    session = compare_session(
        run,
        profile="offline simulator" if offline else None,
        base_url=None if offline else client.endpoint.base_url,
    )
    try:
        path = open_store(args).save(session).path
    except OSError as error:
        report(f"not saved: {error}")
        return
    report(f"saved the compare run as {path}")


# -- output ------------------------------------------------------------------------------------


class Progress:
    """While lanes run, one line on a terminal's stderr saying what each is doing (redrawn in
    place five times a second; nothing on a pipe)."""

    INTERVAL_S = 0.2

    def __init__(self, stream: Any, lanes: list[LaneState]) -> None:
        self.stream = stream
        self.lanes = lanes
        self.enabled = is_terminal(stream)
        self.shown = False

    async def tick(self) -> None:
        if not self.enabled:
            return
        while True:
            await asyncio.sleep(self.INTERVAL_S)
            self.draw()

    def line(self) -> str:
        parts = []
        for lane in self.lanes:
            if lane.status == "streaming":
                rate = lane.live_rate
                word = f"{rate:,.0f} tok/s" if rate else "streaming"
            elif lane.status == "waiting":
                word = f"waiting {lane.wait_s:.1f} s"
            elif lane.status == "pending":
                word = "connecting"
            else:
                word = lane.status
            parts.append(f"{lane.index + 1}: {word}")
        return "lanes " + " · ".join(parts)

    def draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r\x1b[K" + self.line()[: max(width - 1, 10)])
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False



class LanePrinter:
    """Prints each lane under its header as soon as it and every lane before it are done, so
    the output reads in lane order while slower lanes still stream; then the summary."""

    def __init__(self, out: Output, *, json_output: bool, prompt: Any) -> None:
        self.out = out
        self.json_output = json_output
        self.prompt = prompt
        self.progress: Progress | None = None
        self.printed = 0  # lanes 0 … printed-1 are on screen
        self.lanes_done: set[int] = set()
        self.all_lanes: list[LaneState] = []

    def changed(self, lane: LaneState) -> None:
        if self.progress is not None:
            self.progress.clear()  # the next tick draws it again, below what is printed now
        if lane.status == "waiting":
            report(f"lane {lane.index + 1}: {lane.wait_reason}; waiting {lane.wait_s:.2f} s to retry")
        if lane.done and lane.error_message and lane.status == "error":
            report(f"lane {lane.index + 1}: {lane.error_message}")
        if lane.done and not self.json_output:
            self.lanes_done.add(lane.index)
            while self.printed in self.lanes_done:
                self._print_lane(self.all_lanes[self.printed])
                self.printed += 1

    def finish(self, lanes: list[LaneState]) -> None:
        if self.json_output:
            self.out.write(json.dumps(compare_json(self.prompt, lanes), indent=2, ensure_ascii=False) + "\n")
            return
        for lane in lanes[self.printed :]:
            self._print_lane(lane)
        self.printed = len(lanes)
        self.out.write(render_table(table_rows(lanes)) + "\n")
        self.out.write(summary_line(lanes) + "\n")

    def _print_lane(self, lane: LaneState) -> None:
        self.out.end_line()
        self.out.write(f"=== lane {lane.index + 1} · {lane.variant.title} ===\n")
        indexes = lane.choice_indexes()
        for index in indexes:
            if len(indexes) > 1:
                self.out.end_line()
                self.out.write(f"[choice {index}]\n")
            self.out.write(lane.choice_text(index))
        self.out.end_line()
        if lane.status != "complete":
            self.out.write(f"[{lane.status}{': ' + lane.error_message if lane.status == 'error' and lane.error_message else ''}]\n")
        self.out.write("\n")


def compare_json(prompt: Any, lanes: list[LaneState]) -> dict[str, Any]:
    """``{"prompt": …, "lanes": [...]}``; a batch prompt's texts are under each lane's
    ``choices`` instead of ``text``/``finish_reason``."""
    items = []
    for lane in lanes:
        result = lane.result
        item: dict[str, Any] = {
            "lane": lane.index + 1,
            "label": lane.variant.title,
            "overrides": lane.variant.overrides,
            "request": lane.request.to_body(),
            "status": lane.status,
        }
        indexes = lane.choice_indexes()
        if lane.request.choice_count > 1 or len(indexes) > 1:
            item["choices"] = [
                {"index": i, "text": lane.choice_text(i), "finish_reason": lane.finish_reason(i)}
                for i in indexes
            ]
        else:
            item["text"] = lane.text
            item["finish_reason"] = lane.finish_reason(indexes[0]) if indexes else None
        item["usage"] = result.usage.raw if result is not None and result.usage is not None else None
        item["metrics"] = lane_metrics(lane).to_json()
        item["error"] = lane.error_message if lane.status != "complete" else None
        items.append(item)
    return {"prompt": prompt, "lanes": items}
