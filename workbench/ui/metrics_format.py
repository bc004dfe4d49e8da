"""Short human strings for speeds, times, usage and rate limits (no Textual here).

Kept apart from the widgets so the transcript, the status bar and the snapshot tests share one
wording, and so a test can feed a recorded result and get a deterministic line.
"""

from __future__ import annotations

from workbench.api.types import CompletionResult, RateLimits


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 0.001:
        return f"{seconds * 1_000_000:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def format_rate(tokens_per_s: float | None) -> str:
    if tokens_per_s is None:
        return "–"
    return f"{tokens_per_s:,.0f} tok/s"


def metrics_line(result: CompletionResult | None) -> str:
    """The line that ends an exchange: TTFT, client and server speed, queue, usage, finish."""
    if result is None:
        return "no response"
    metrics = result.metrics
    parts = [
        f"TTFT {format_seconds(metrics.time_to_first_token_s)}",
        f"client {format_rate(metrics.client_tokens_per_s)}",
        f"server {format_rate(metrics.server_tokens_per_s)}",
    ]
    if result.time_info is not None and result.time_info.queue_time is not None:
        parts.append(f"queue {format_seconds(result.time_info.queue_time)}")
    if metrics.wall_time_s is not None:
        parts.append(f"total {format_seconds(metrics.wall_time_s)}")
    usage = result.usage
    if usage is not None:
        parts.append(
            f"usage {_count(usage.prompt_tokens)} in + {_count(usage.completion_tokens)} out"
            f" = {_count(usage.total_tokens)}"
        )
    reasons = sorted({c.finish_reason for c in result.choices if c.finish_reason})
    if reasons:
        parts.append("finish " + "/".join(reasons))
    return " · ".join(parts)


def metrics_items(result: CompletionResult) -> list[tuple[int, str]]:
    """The metrics line's items in display order, each with its rank: 0 is kept longest,
    higher ranks are dropped first when the line does not fit (see :func:`fit_items`)."""
    metrics = result.metrics
    items = [
        (2, f"TTFT {format_seconds(metrics.time_to_first_token_s)}"),
        (1, f"client {format_rate(metrics.client_tokens_per_s)}"),
        (4, f"server {format_rate(metrics.server_tokens_per_s)}"),
    ]
    if result.time_info is not None and result.time_info.queue_time is not None:
        items.append((6, f"queue {format_seconds(result.time_info.queue_time)}"))
    if metrics.wall_time_s is not None:
        items.append((5, f"total {format_seconds(metrics.wall_time_s)}"))
    usage = result.usage
    if usage is not None:
        items.append(
            (
                3,
                f"usage {_count(usage.prompt_tokens)} in + {_count(usage.completion_tokens)} out"
                f" = {_count(usage.total_tokens)}",
            )
        )
    reasons = sorted({c.finish_reason for c in result.choices if c.finish_reason})
    if reasons:
        items.append((0, "finish " + "/".join(reasons)))
    return items


def fit_items(items: list[tuple[int, str]], width: int, separator: str = " · ") -> str:
    """The items joined on one line of at most ``width`` cells: the highest ranks go first,
    and what still does not fit is cut with an ellipsis."""
    from rich.cells import cell_len

    kept = list(items)
    while len(kept) > 1 and cell_len(separator.join(text for _, text in kept)) > width:
        least = max(rank for rank, _ in kept)
        position = max(i for i, (rank, _) in enumerate(kept) if rank == least)
        del kept[position]
    line = separator.join(text for _, text in kept)
    if cell_len(line) > width > 0:
        line = line[: max(0, width - 1)].rstrip() + "…"
    return line


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def rate_limit_summary(limits: RateLimits | None) -> str:
    """Remaining quota, or "" when the server sent no rate-limit headers (the simulator may not)."""
    if limits is None or not limits.present:
        return ""
    parts = []
    if limits.remaining_requests_day is not None:
        parts.append(f"{limits.remaining_requests_day:,} req/day")
    if limits.remaining_tokens_minute is not None:
        parts.append(f"{limits.remaining_tokens_minute:,} tok/min")
    return "left " + " · ".join(parts) if parts else ""
