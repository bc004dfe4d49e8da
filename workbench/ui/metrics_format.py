"""Short human strings for speeds, times, usage and rate limits (no Textual here).

Kept apart from the widgets so the transcript, the status bar and the snapshot tests share one
wording, and so a test can feed a recorded result and get a deterministic line.
"""

from __future__ import annotations

from typing import Literal

from workbench.api.types import ClientMetrics, CompletionResult, RateLimits

# Below these a client-side rate measures the timer and the network's jitter more than the
# model: two chunks 100 µs apart made "client 264,126 tok/s". Then the server's own figure
# is shown instead (saying so), or "–". 50 ms keeps jitter of a few ms under ~10 %.
MIN_TIMED_TOKENS = 16
MIN_TIMED_SECONDS = 0.05

SpeedSource = Literal["client", "server"]


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


def client_rate_is_reliable(metrics: ClientMetrics) -> bool:
    """True when the client's tok/s rests on enough tokens over enough time to mean something."""
    rate, tokens = metrics.client_tokens_per_s, metrics.completion_tokens
    if not rate or not tokens or rate <= 0:
        return False
    return tokens >= MIN_TIMED_TOKENS and tokens / rate >= MIN_TIMED_SECONDS


def exchange_speed(metrics: ClientMetrics) -> tuple[float | None, SpeedSource | None]:
    """The speed to show for a finished exchange and whose figure it is: the client's when it
    is reliable, else the server's (usage / completion_time), else none."""
    if client_rate_is_reliable(metrics):
        return metrics.client_tokens_per_s, "client"
    if metrics.server_tokens_per_s:
        return metrics.server_tokens_per_s, "server"
    return None, None


def client_rate_text(metrics: ClientMetrics) -> str:
    """``1,712 tok/s``, or ``– (too short)`` when the output was too short to time."""
    if metrics.client_tokens_per_s is not None and not client_rate_is_reliable(metrics):
        return "– (too short)"
    return format_rate(metrics.client_tokens_per_s)


def metrics_line(result: CompletionResult | None) -> str:
    """The whole metrics line (every item, however wide): TTFT, speeds, queue, usage, finish."""
    if result is None:
        return "no response"
    return " · ".join(text for _, text in metrics_items(result))


def metrics_items(result: CompletionResult) -> list[tuple[float, str]]:
    """The metrics line's items in display order, each with its rank: 0 is kept longest,
    higher ranks are dropped first when the line does not fit (see :func:`fit_items`)."""
    metrics = result.metrics
    # The client's speed matters most, unless the output was too short to time it: then the
    # server's figure is the one to keep when the line is narrow.
    timed = client_rate_is_reliable(metrics) or not metrics.server_tokens_per_s
    items = [
        (2, f"TTFT {format_seconds(metrics.time_to_first_token_s)}"),
        (1 if timed else 2.5, f"client {client_rate_text(metrics)}"),
        (4 if timed else 1, f"server {format_rate(metrics.server_tokens_per_s)}"),
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


def fit_items(items: list[tuple[float, str]], width: int, separator: str = " · ") -> str:
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
