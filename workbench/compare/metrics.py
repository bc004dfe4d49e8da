"""Per-lane figures and the summary that ranks the lanes (no Textual: the CLI's table and the
TUI's summary row read the same numbers, worded by :func:`summary_line` and :func:`table_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from workbench.compare.runner import LaneState


@dataclass(frozen=True, slots=True)
class LaneMetrics:
    ttft_ms: float | None = None
    client_tokens_per_s: float | None = None
    server_tokens_per_s: float | None = None
    total_s: float | None = None
    completion_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        def rounded(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "ttft_ms": rounded(self.ttft_ms, 3),
            "client_tokens_per_s": rounded(self.client_tokens_per_s, 1),
            "server_tokens_per_s": rounded(self.server_tokens_per_s, 1),
            "total_s": rounded(self.total_s, 4),
        }


def lane_metrics(lane: LaneState) -> LaneMetrics:
    result = lane.result
    if result is None:
        return LaneMetrics()
    metrics = result.metrics
    tokens = result.usage.completion_tokens if result.usage is not None else None
    if tokens is None:
        tokens = metrics.completion_tokens
    # A non-streamed answer arrives whole: its "first token" is the whole wait, which would
    # win or lose the first-token race unfairly. Its total time says it.
    ttft = metrics.time_to_first_token_s if lane.request.stream is not False else None
    return LaneMetrics(
        ttft_ms=None if ttft is None else ttft * 1000,
        client_tokens_per_s=metrics.client_tokens_per_s,
        server_tokens_per_s=metrics.server_tokens_per_s,
        total_s=metrics.wall_time_s,
        completion_tokens=tokens,
    )


@dataclass(frozen=True, slots=True)
class Ranking:
    """One way of ranking the lanes: ``order`` holds lane indexes, best first (lanes without
    the figure are left out)."""

    title: str
    order: tuple[int, ...]
    values: tuple[float, ...]
    unit: str

    @property
    def winner(self) -> int | None:
        return self.order[0] if self.order else None


def _rank(
    title: str,
    lanes: Sequence[LaneState],
    figure: Callable[[LaneMetrics], float | None],
    *,
    highest_first: bool,
    unit: str,
) -> Ranking:
    scored = []
    for lane in lanes:
        if lane.status != "complete":
            continue  # a cancelled or failed lane wins nothing
        value = figure(lane_metrics(lane))
        if value is not None:
            scored.append((value, lane.index))
    # Ties go to the lower lane number, so the ranking is stable from run to run.
    scored.sort(key=lambda item: ((-item[0] if highest_first else item[0]), item[1]))
    return Ranking(title, tuple(i for _, i in scored), tuple(v for v, _ in scored), unit)


def rankings(lanes: Sequence[LaneState]) -> list[Ranking]:
    """Fastest first token, fastest throughput (client-measured), shortest, longest output."""
    tokens = lambda m: None if m.completion_tokens is None else float(m.completion_tokens)
    return [
        _rank("fastest first token", lanes, lambda m: m.ttft_ms, highest_first=False, unit="ms"),
        _rank(
            "fastest throughput",
            lanes,
            lambda m: m.client_tokens_per_s,
            highest_first=True,
            unit="tok/s",
        ),
        _rank("shortest", lanes, tokens, highest_first=False, unit="tok"),
        _rank("longest", lanes, tokens, highest_first=True, unit="tok"),
    ]


def _number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return f"{value:,.0f} {unit}"


def summary_line(lanes: Sequence[LaneState]) -> str:
    """``fastest first token: 2 (12 ms) · fastest throughput: 1 (2,345 tok/s) · …``"""
    parts = []
    for ranking in rankings(lanes):
        if ranking.winner is None:
            continue
        if ranking.unit == "tok" and len(ranking.values) > 1 and len(set(ranking.values)) == 1:
            # Every lane stopped at the same length: "shortest" and "longest" would be noise.
            if ranking.title == "shortest":
                parts.append(f"same length ({_number(ranking.values[0], ranking.unit)})")
            continue
        parts.append(
            f"{ranking.title}: {ranking.winner + 1} ({_number(ranking.values[0], ranking.unit)})"
        )
    return " · ".join(parts) if parts else "no lane finished"


def format_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def format_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def format_total(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


TABLE_HEADER = ("lane", "status", "TTFT", "client tok/s", "server tok/s", "total", "tokens", "finish", "rank")


def table_rows(lanes: Sequence[LaneState]) -> list[tuple[str, ...]]:
    """One row per lane in lane order; ``rank`` is the place by client throughput."""
    throughput = next(r for r in rankings(lanes) if r.title == "fastest throughput")
    place = {lane: position + 1 for position, lane in enumerate(throughput.order)}
    rows = []
    for lane in lanes:
        m = lane_metrics(lane)
        reasons = sorted({r for i in lane.choice_indexes() if (r := lane.finish_reason(i))})
        rows.append(
            (
                f"{lane.index + 1} {lane.variant.title}",
                lane.status,
                format_ms(m.ttft_ms),
                format_rate(m.client_tokens_per_s),
                format_rate(m.server_tokens_per_s),
                format_total(m.total_s),
                "–" if m.completion_tokens is None else f"{m.completion_tokens:,}",
                "/".join(reasons) or "–",
                str(place[lane.index]) if lane.index in place else "–",
            )
        )
    return rows


def render_table(rows: Sequence[Sequence[str]], header: Sequence[str] = TABLE_HEADER, max_first: int = 40) -> str:
    """A plain-text table, columns padded; the first column is cut to ``max_first`` cells."""
    cut = lambda text: text if len(text) <= max_first else text[: max_first - 1] + "…"
    table = [list(header)] + [[cut(row[0]), *row[1:]] for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    lines = []
    for position, row in enumerate(table):
        cells = [
            cell.ljust(width) if column < 2 or column == 7 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if position == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def figure_lines(lane: LaneState) -> list[str]:
    """A finished lane's figures as three short lines (a lane may be 35 columns wide):
    times, speeds, then tokens and finish reason."""
    m = lane_metrics(lane)
    result = lane.result
    lines = []
    times = f"TTFT {format_ms(m.ttft_ms)}" if lane.request.stream is not False else "not streamed"
    lines.append(f"{times} · total {format_total(m.total_s)}")
    lines.append(
        f"client {format_rate(m.client_tokens_per_s)} · server {format_rate(m.server_tokens_per_s)} tok/s"
    )
    usage = result.usage if result is not None else None
    tokens = "–" if m.completion_tokens is None else f"{m.completion_tokens:,}"
    prompt = f"{usage.prompt_tokens:,} in + " if usage is not None and usage.prompt_tokens is not None else ""
    reasons = sorted({r for i in lane.choice_indexes() if (r := lane.finish_reason(i))})
    lines.append(f"{prompt}{tokens} out · finish {'/'.join(reasons) or '–'}")
    return lines
