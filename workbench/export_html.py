"""A session as one self-contained HTML page: prompt, completion, parameters, metrics, and —
when the server sent logprobs — every token coloured by its probability, alternatives on hover.

The page loads nothing (no scripts, fonts or images from anywhere) and needs no script to read:
hover text is the ``title`` attribute. Everything that came from a model, a server or a session
file is escaped; the colours are a single-hue sequential scale (colour-blind safe), and the
least likely tokens are also underlined so the page still reads in greyscale or print.
"""

from __future__ import annotations

import html
import math
from typing import Iterable

from workbench.api.fields import request_values
from workbench.api.logprobs import BANDS, TokenProb, band, token_probs
from workbench.sessions.model import Exchange, Session

# Token backgrounds per probability band (index as workbench.api.logprobs.band): none for
# near-certain tokens, then a deepening orange. One hue keeps the scale readable for every common
# form of colour blindness; the two least likely bands are underlined as well.
_STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1b1f24; background: #ffffff; }
header p, .meta, .metrics { color: #57606a; font-size: 0.9em; }
section.exchange { border-top: 1px solid #d0d7de; margin-top: 2rem; padding-top: 1rem; }
h2 { font-size: 1.1em; margin: 0 0 0.5rem; }
h3 { font-size: 0.95em; margin: 1rem 0 0.25rem; color: #57606a; }
pre { white-space: pre-wrap; word-wrap: break-word; font: 14px/1.5 ui-monospace, monospace;
      background: #f6f8fa; padding: 0.75rem; border-radius: 6px; margin: 0; }
pre.prompt { background: #eef4fb; }
dl.params { display: grid; grid-template-columns: max-content 1fr; gap: 0 1rem; margin: 0.5rem 0;
            font-size: 0.9em; }
dl.params dt { color: #57606a; } dl.params dd { margin: 0; font-family: ui-monospace, monospace; }
.error { color: #a40e26; }
.tok { border-radius: 2px; }
.tok.b0 { background: #00000000; }
.tok.b1 { background: #fde9c9; } .tok.b2 { background: #fbc97f; }
.tok.b3 { background: #f59e2e; text-decoration: underline dotted; }
.tok.b4 { background: #d55e00; color: #ffffff; text-decoration: underline; }
.legend span { display: inline-block; padding: 0 0.4em; margin-right: 0.3em; border-radius: 2px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _percent(probability: float) -> str:
    return f"{probability * 100:.1f} %" if probability >= 0.001 else f"{probability:.1e}"


def _token_title(token: TokenProb) -> str:
    lines = [f"{token.token!r}: " + (_percent(token.probability) if token.probability is not None else "no probability")]
    for alternative, logprob in token.alternatives:
        lines.append(f"  {alternative!r}: {_percent(math.exp(min(logprob, 0.0)))}")
    return "\n".join(lines)


def _coloured(tokens: list[TokenProb]) -> str:
    spans = []
    for token in tokens:
        level = band(token.probability)
        css = "tok" if level is None else f"tok b{level}"
        spans.append(f'<span class="{css}" title="{_e(_token_title(token))}">{_e(token.token)}</span>')
    return "".join(spans)


def _choice_body(text: str, tokens: list[TokenProb] | None) -> str:
    """The choice's text, coloured where the tokens spell it (all of it, or its tail after an
    echoed prompt); plain otherwise, so nothing is ever shown that the model did not send."""
    if not tokens:
        return _e(text)
    joined = "".join(t.token for t in tokens)
    if joined == text:
        return _coloured(tokens)
    if joined and text.endswith(joined):
        return _e(text[: len(text) - len(joined)]) + _coloured(tokens)
    return _e(text)


def _metrics(exchange: Exchange) -> str:
    parts = []
    metrics = exchange.metrics
    if metrics is not None:
        if metrics.time_to_first_token_s is not None:
            parts.append(f"TTFT {metrics.time_to_first_token_s * 1000:.0f} ms")
        if metrics.client_tokens_per_s is not None:
            parts.append(f"client {metrics.client_tokens_per_s:,.0f} tok/s")
        if metrics.server_tokens_per_s is not None:
            parts.append(f"server {metrics.server_tokens_per_s:,.0f} tok/s")
        if metrics.wall_time_s is not None:
            parts.append(f"total {metrics.wall_time_s:.2f} s")
    usage = exchange.usage
    if usage is not None and usage.total_tokens is not None:
        parts.append(
            f"usage {usage.prompt_tokens or 0} in + {usage.completion_tokens or 0} out"
        )
    return " · ".join(parts)


def _exchange_section(number: int, exchange: Exchange) -> str:
    request = exchange.request
    when = exchange.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    out = [f'<section class="exchange" id="exchange-{number}">']
    out.append(f"<h2>Exchange {number} · {_e(request.model)} · {_e(when)}</h2>")
    params = {k: v for k, v in request_values(request).items() if k != "model"}
    if params:
        out.append('<dl class="params">')
        for name, value in params.items():
            out.append(f"<dt>{_e(name)}</dt><dd>{_e(repr(value) if isinstance(value, str) else value)}</dd>")
        out.append("</dl>")
    out.append("<h3>Prompt</h3>")
    out.append(f'<pre class="prompt">{_e(exchange.prompt_text)}</pre>')
    for choice in sorted(exchange.choices, key=lambda c: c.index):
        label = f"Completion (choice {choice.index})" if len(exchange.choices) > 1 else "Completion"
        if choice.finish_reason:
            label += f" · finish: {choice.finish_reason}"
        out.append(f"<h3>{_e(label)}</h3>")
        if choice.tokens is not None and not choice.text:
            body = _e(" ".join(str(t) for t in choice.tokens))
        else:
            body = _choice_body(choice.text, token_probs(choice.logprobs))
        out.append(f'<pre class="completion">{body}</pre>')
    if exchange.status != "complete":
        message = exchange.error or exchange.status
        out.append(f'<p class="error">{_e(exchange.status)}: {_e(message)}</p>')
    metrics = _metrics(exchange)
    if metrics:
        out.append(f'<p class="metrics">{_e(metrics)}</p>')
    out.append("</section>")
    return "\n".join(out)


def _legend() -> str:
    items = "".join(
        f'<span class="tok b{index}">{_e(label)}</span>' for index, (_floor, label) in enumerate(BANDS)
    )
    return f'<p class="legend meta">Token probability: {items} (hover a token for its alternatives)</p>'


def render_session_html(session: Session, numbers: Iterable[int] | None = None) -> str:
    """The page for ``session``: every exchange, or those numbered (1 = the first) in ``numbers``."""
    chosen = list(numbers) if numbers is not None else list(range(1, len(session.exchanges) + 1))
    sections = [_exchange_section(n, session.exchanges[n - 1]) for n in chosen]
    has_probs = any(
        token_probs(c.logprobs) for n in chosen for c in session.exchanges[n - 1].choices
    )
    created = session.created.strftime("%Y-%m-%d %H:%M UTC")
    where = session.base_url or session.profile or ""
    title = session.display_title
    head = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may load from anywhere: no scripts at all, styles only from this page.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">\n"
        f"<title>{_e(title)} · workbench</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
    )
    header = (
        f"<header><h1>{_e(title)}</h1>"
        f"<p>{_e(created)}{' · ' + _e(where) if where else ''} · "
        f"{len(chosen)} exchange{'s' if len(chosen) != 1 else ''}</p>"
        f"{_legend() if has_probs else ''}</header>\n"
    )
    return head + header + "\n".join(sections) + "\n</body>\n</html>\n"
