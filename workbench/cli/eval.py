"""`workbench eval FILE`: run every case of an eval file against every variant, check the
assertions, print the matrix and write the results file (see docs/eval-format.md)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.api.client import CompletionClient
from workbench.cli import EXIT_API, EXIT_DIFFERENT, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from workbench.cli.common import Output, add_connection_flags, is_terminal, report, run_with_client
from workbench.eval.junit import junit_xml
from workbench.eval.plan import Cell, parse_shard, plan_cells, request_digest
from workbench.eval.progress import ProgressLine
from workbench.eval.report import (
    change_lines,
    changes,
    failure_lines,
    matrix_lines,
    summarise,
    summary_lines,
    to_json,
)
from workbench.eval.results import (
    CellRecord,
    ResultsFile,
    ResultsFileError,
    ResultsWriter,
    default_results_path,
    read_results,
)
from workbench.eval.runner import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, EvalRunner, judge
from workbench.eval.spec import EvalFileError, EvalSpec, load_eval
from workbench.sessions.fsutil import atomic_write


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="run an eval file: test cases × variants, assertions, a results matrix",
        description="Send every case of an eval file with every variant, check the "
        "assertions, print a pass/fail matrix and per-variant speed, and write a results file "
        "(TOML) next to the eval file. Exit codes: 0 done (even with failures, unless --check), "
        "1 with --check when any cell failed or errored, 2 invalid file or usage, 3 / 4 when "
        "the API / the network failed for every cell. Format: docs/eval-format.md.",
    )
    parser.add_argument("file", metavar="FILE", help="the eval file (TOML)")
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"cells in flight at most (default {DEFAULT_CONCURRENCY}; lowered by itself on 429)",
    )
    parser.add_argument("--shard", metavar="K/N", help="run only the K-th of N deterministic parts")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--junit", metavar="OUT.xml", help="also write JUnit XML for CI")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when any assertion failed or any cell errored"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the finished cells of the results file (unchanged requests) and send the rest",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="results file (default: next to FILE, NAME.results.toml)"
    )
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_CONCURRENCY}")
    return value


def _reusable(
    cells: list[Cell], previous: ResultsFile | None
) -> tuple[dict[tuple[str, str], CellRecord], list[Cell]]:
    """For --resume: finished cells whose request is unchanged (re-judged with today's
    assertions), and the cells still to send."""
    kept: dict[tuple[str, str], CellRecord] = {}
    old = previous.by_key() if previous else {}
    to_send = []
    for cell in cells:
        record = old.get(cell.key)
        if record is not None and record.status != "error" and record.digest == request_digest(cell.request):
            # A copy: the previous record must keep its old verdict for "changed since".
            kept[cell.key] = judge(cell, dataclasses.replace(record))
        else:
            to_send.append(cell)
    return kept, to_send


def handle(args: argparse.Namespace) -> int:
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as error:
        report(str(error))
        return EXIT_USAGE
    try:
        spec = load_eval(args.file)
    except EvalFileError as error:
        report(str(error))
        return EXIT_USAGE
    for warning in spec.warnings:
        report(warning)
    cells = plan_cells(spec, shard)
    results_path = Path(args.out) if args.out else default_results_path(Path(args.file), shard)
    try:
        previous = read_results(results_path)
    except ResultsFileError as error:
        report(f"{error}: it is left as it is; move it away or choose another --out")
        return EXIT_USAGE

    kept: dict[tuple[str, str], CellRecord] = {}
    to_send = cells
    if args.resume:
        if previous is None:
            report(f"nothing to resume in {results_path}: sending every cell")
        else:
            kept, to_send = _reusable(cells, previous)
            report(f"resuming: {len(kept):,} of {len(cells):,} cells already done, {len(to_send):,} to send")
    elif previous is not None and not previous.complete:
        report(f"the previous run in {results_path} was interrupted; --resume would have continued it")

    header = ResultsFile(
        eval_file=Path(args.file).name,
        title=spec.title,
        records=[],
        complete=False,
        started=datetime.now(timezone.utc).replace(microsecond=0),
        shard=str(shard) if shard else None,
        cells_planned=len(cells),
    )
    writer = ResultsWriter(results_path, header, [cell.key for cell in cells])
    for record in kept.values():
        writer.add(record)
    shard_note = f" (shard {shard}: {len(cells):,} cells)" if shard else ""
    report(
        f"{spec.title}: {len(spec.cases):,} cases × {len(spec.variants)} variants{shard_note}, "
        f"{len(to_send):,} to send, concurrency {args.concurrency}"
    )
    gave_up: list[str] = []
    code = EXIT_OK
    try:
        if to_send:
            code = _send(args, to_send, writer, gave_up)
    except OSError as error:
        report(f"cannot write {results_path}: {error.strerror or error}")
        return EXIT_USAGE
    if code != EXIT_OK:
        return code  # nothing was sent (no key, bad URL…) or ctrl+c: already reported

    try:
        writer.flush(complete=True)
    except OSError as error:
        report(f"cannot write {results_path}: {error.strerror or error}")
        return EXIT_USAGE
    records = writer.records
    return _finish(args, spec, records, previous, results_path, gave_up[0] if gave_up else None)


def _send(args: argparse.Namespace, cells: list[Cell], writer: ResultsWriter, gave_up: list[str]) -> int:
    progress = ProgressLine(sys.stderr, terminal=is_terminal(sys.stderr))
    # The runner retries (it has to see each 429), so the client itself must not.
    client_args = argparse.Namespace(**{**vars(args), "retries": 0})

    async def work(client: CompletionClient) -> int:
        runner = EvalRunner(
            client,
            concurrency=args.concurrency,
            retries=args.retries,
            on_record=writer.add,
            on_progress=progress.update,
        )
        try:
            await runner.run(cells)
        except asyncio.CancelledError:
            progress.close()
            writer.flush(complete=False)
            done = len(writer.records)
            report(
                f"saved the {done:,} finished cells to {writer.path}; "
                f"`workbench eval {args.file} --resume` continues"
            )
            raise
        progress.close()
        if runner.gave_up:
            gave_up.append(runner.gave_up)
            report(f"stopped early: {runner.gave_up}")
        return EXIT_OK

    return run_with_client(client_args, work)


def _finish(
    args: argparse.Namespace,
    spec: EvalSpec,
    records: list[CellRecord],
    previous: ResultsFile | None,
    results_path: Path,
    gave_up: str | None,
) -> int:
    variants = [v.name for v in spec.variants]
    summaries = summarise(records, variants)
    found = changes(records, previous.records if previous else None)
    if args.junit:
        try:
            atomic_write(Path(args.junit), junit_xml(spec.title, records))
        except OSError as error:
            report(f"cannot write {args.junit}: {error.strerror or error}")
            return EXIT_USAGE
    out = Output()
    if args.json:
        document = to_json(
            title=spec.title,
            eval_file=str(args.file),
            results_file=str(results_path),
            shard=args.shard,
            records=records,
            summaries=summaries,
            found=found if previous else None,
            gave_up=gave_up,
        )
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        lines = matrix_lines(records, [c.name for c in spec.cases], variants)
        lines += ["", *summary_lines(summaries)]
        troubles = failure_lines(records)
        if troubles:
            lines += ["", *troubles]
        lines += ["", *change_lines(found, previous is not None)]
        out.write("\n".join(lines) + "\n")
    report(f"results written to {results_path}" + (f", JUnit to {args.junit}" if args.junit else ""))
    errored = [r for r in records if r.status == "error"]
    if records and len(errored) == len(records):
        return EXIT_NETWORK if all(r.error_kind == "network" for r in errored) else EXIT_API
    if args.check and any(r.status != "pass" for r in records):
        return EXIT_DIFFERENT
    return EXIT_OK
