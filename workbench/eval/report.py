"""What a run says: the matrix, the per-variant summary, what changed, and the JSON form."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Sequence

from workbench.eval.plan import CellKey
from workbench.eval.results import CellRecord

# Above this many cases the matrix shows only the rows with a failure or an error.
MAX_FULL_MATRIX_ROWS = 100
MAX_CHANGES_LISTED = 20
MAX_NAME_WIDTH = 32
MARKS = {"pass": "pass", "fail": "FAIL", "error": "ERROR", None: "-"}


@dataclass(frozen=True, slots=True)
class VariantSummary:
    name: str
    cells: int
    passed: int
    failed: int
    errored: int
    median_ttft_s: float | None
    median_tokens_per_s: float | None
    prompt_tokens: int
    completion_tokens: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.cells if self.cells else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cells": self.cells,
            "passed": self.passed,
            "failed": self.failed,
            "errored": self.errored,
            "pass_rate": self.pass_rate,
            "median_ttft_ms": None if self.median_ttft_s is None else round(self.median_ttft_s * 1000, 3),
            "median_tokens_per_s": None if self.median_tokens_per_s is None else round(self.median_tokens_per_s, 1),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass(frozen=True, slots=True)
class Change:
    key: CellKey
    before: str | None  # status last time (None: the cell is new)
    after: str
    output_changed: bool

    def describe(self) -> str:
        case, variant = self.key
        if self.before is None:
            return f"{case} × {variant}: new ({self.after})"
        if self.before != self.after:
            return f"{case} × {variant}: {self.before} → {self.after}"
        return f"{case} × {variant}: output changed (still {self.after})"


def summarise(records: Sequence[CellRecord], variants: Sequence[str]) -> list[VariantSummary]:
    summaries = []
    for name in variants:
        mine = [r for r in records if r.variant == name]
        ttfts = [r.metrics["ttft_s"] for r in mine if "ttft_s" in r.metrics]
        speeds = [r.metrics["tokens_per_s"] for r in mine if "tokens_per_s" in r.metrics]
        summaries.append(
            VariantSummary(
                name=name,
                cells=len(mine),
                passed=sum(r.status == "pass" for r in mine),
                failed=sum(r.status == "fail" for r in mine),
                errored=sum(r.status == "error" for r in mine),
                median_ttft_s=statistics.median(ttfts) if ttfts else None,
                median_tokens_per_s=statistics.median(speeds) if speeds else None,
                prompt_tokens=sum(r.usage.get("prompt_tokens", 0) for r in mine),
                completion_tokens=sum(r.usage.get("completion_tokens", 0) for r in mine),
            )
        )
    return summaries


def changes(records: Sequence[CellRecord], previous: Sequence[CellRecord] | None) -> list[Change]:
    """Cells whose verdict or output differs from the previous results file's."""
    if previous is None:
        return []
    before = {r.key: r for r in previous}
    found = []
    for record in records:
        old = before.get(record.key)
        if old is None:
            found.append(Change(record.key, None, record.status, True))
            continue
        output_changed = old.outputs != record.outputs and "error" not in (old.status, record.status)
        if old.status != record.status or output_changed:
            found.append(Change(record.key, old.status, record.status, output_changed))
    return found


def _clip(text: str, width: int = MAX_NAME_WIDTH) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def matrix_lines(
    records: Sequence[CellRecord], cases: Sequence[str], variants: Sequence[str]
) -> list[str]:
    """Cases down, variants across; only troubled rows when there are very many cases."""
    status = {r.key: r.status for r in records}
    present = [c for c in cases if any((c, v) in status for v in variants)]
    shown = present
    hidden = 0
    if len(present) > MAX_FULL_MATRIX_ROWS:
        shown = [c for c in present if any(status.get((c, v)) not in ("pass", None) for v in variants)]
        hidden = len(present) - len(shown)
    rows = [["case", *(_clip(v, 16) for v in variants)]]
    for case in shown:
        rows.append([_clip(case), *(MARKS[status.get((case, v))] for v in variants)])
    lines = _table(rows)
    if hidden:
        lines.append(f"… and {hidden:,} cases that passed on every variant (--json lists every cell)")
    return lines


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def summary_lines(summaries: Sequence[VariantSummary]) -> list[str]:
    rows = [["variant", "pass rate", "passed", "failed", "errors", "median TTFT", "tok/s", "tokens in/out"]]
    for s in summaries:
        rate = "-" if s.pass_rate is None else f"{s.pass_rate:.0%}"
        speed = "-" if s.median_tokens_per_s is None else f"{s.median_tokens_per_s:,.0f}"
        rows.append(
            [
                _clip(s.name, 24),
                rate,
                str(s.passed),
                str(s.failed),
                str(s.errored),
                _ms(s.median_ttft_s),
                speed,
                f"{s.prompt_tokens:,}/{s.completion_tokens:,}",
            ]
        )
    return _table(rows, right={1, 2, 3, 4, 5, 6, 7})


def failure_lines(records: Sequence[CellRecord], limit: int = MAX_CHANGES_LISTED) -> list[str]:
    """The first few failures and errors, one line each."""
    lines = []
    troubled = [r for r in records if r.status != "pass"]
    for record in troubled[:limit]:
        head = f"{_clip(record.case)} × {_clip(record.variant, 16)}: "
        if record.status == "error":
            lines.append(head + f"error: {record.error}")
        else:
            first = record.failures[0]
            more = f" (+{len(record.failures) - 1} more)" if len(record.failures) > 1 else ""
            lines.append(head + f"{first['assertion']}: {first['message']}{more}")
    if len(troubled) > limit:
        lines.append(f"… {len(troubled) - limit:,} more (see the results file)")
    return lines


def change_lines(found: Sequence[Change], had_previous: bool) -> list[str]:
    if not had_previous:
        return ["no previous results to compare with"]
    if not found:
        return ["no cell changed since the previous run"]
    lines = [f"{len(found):,} cells changed since the previous run:"]
    lines += ["  " + change.describe() for change in found[:MAX_CHANGES_LISTED]]
    if len(found) > MAX_CHANGES_LISTED:
        lines.append(f"  … {len(found) - MAX_CHANGES_LISTED:,} more")
    return lines


def to_json(
    *,
    title: str,
    eval_file: str,
    results_file: str,
    shard: str | None,
    records: Sequence[CellRecord],
    summaries: Sequence[VariantSummary],
    found: Sequence[Change] | None,
    gave_up: str | None,
) -> dict[str, Any]:
    return {
        "title": title,
        "eval_file": eval_file,
        "results_file": results_file,
        "shard": shard,
        "cells": [
            {
                "case": r.case,
                "variant": r.variant,
                "status": r.status,
                "failures": r.failures,
                "error": r.error,
                "output": r.output if len(r.outputs) == 1 else None,
                "outputs": r.outputs,
                "finish_reasons": r.finish_reasons,
                "usage": r.usage,
                "metrics": r.metrics,
            }
            for r in records
        ],
        "variants": [s.to_json() for s in summaries],
        "changed": None
        if found is None
        else [
            {"case": c.key[0], "variant": c.key[1], "before": c.before, "after": c.after, "output_changed": c.output_changed}
            for c in found
        ],
        "stopped_early": gave_up,
    }
