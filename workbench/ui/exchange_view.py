"""One exchange in the transcript: the prompt, each choice arriving live, then a metrics line.

Deltas are buffered and flushed into :class:`StreamText` widgets by a timer at most once per
frame (or ~10 times a second over SSH), so a 3,000 tok/s stream costs a handful of appends a
frame instead of thousands of re-renders. Highlighting happens once, when the stream ends.
"""

from __future__ import annotations

from typing import Any, Callable, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from workbench.api.request import CompletionRequest, prompt_kind
from workbench.api.types import CompletionResult, TextDelta
from workbench.ui.metrics_format import metrics_line
from workbench.ui.prompt_forms import prompt_labels
from workbench.ui.stream_text import StreamText, visible_controls

ExchangeStatus = Literal["streaming", "complete", "cancelled", "error"]


def _shorten(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def clip_prompt(text: str, max_lines: int = 12, max_chars: int = 2000) -> str:
    """A long prompt's head, saying how much is not shown (the session file has all of it)."""
    lines = text.split("\n")
    head = "\n".join(lines[:max_lines])
    if len(head) > max_chars:
        head = head[:max_chars]
    hidden_chars = len(text) - len(head)
    if hidden_chars <= 0:
        return text
    hidden_lines = text.count("\n") - head.count("\n")
    more = f"{hidden_lines:,} more lines" if hidden_lines else f"{hidden_chars:,} more characters"
    return f"{head}… ({more})"


def merge_logprobs(
    into: dict[str, Any] | None, piece: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Concatenate the list fields of OpenAI-legacy logprobs chunks (tokens, token_logprobs …)."""
    if not piece:
        return into
    merged = dict(into or {})
    for key, value in piece.items():
        if isinstance(value, list):
            merged[key] = list(merged.get(key) or []) + value
        else:
            merged.setdefault(key, value)
    return merged


class ChoiceView(Vertical):
    """One choice: optional label, the echoed prompt (styled apart), the text, the finish reason."""

    # Its children cover it (no border, no padding): drawn as plain background, one strip for
    # all rows, instead of row by row through the styles cache on every streaming frame.
    BLANK = True

    DEFAULT_CSS = """
    ChoiceView { height: auto; }
    ChoiceView > .choice-label { color: $text-accent; text-style: bold; }
    ChoiceView > .echo { color: $text-muted; text-style: italic; display: none; }
    ChoiceView > .echo.-present { display: block; }
    ChoiceView > .finish { color: $text-muted; height: auto; }
    ChoiceView > .final-output { height: auto; }
    """

    def __init__(
        self, index: int, label: str | None, echo_expected: str | None, raw_tokens: bool
    ) -> None:
        super().__init__()
        self.index = index
        self._label = label
        self._echo_expected = echo_expected
        self._echo_seen = ""
        self.raw_tokens = raw_tokens
        self.logprobs: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.output = StreamText(classes="output")
        # The text exactly as received (the widget shows a terminal-safe version of it).
        self._raw: list[str] = []

    def compose(self) -> ComposeResult:
        if self._label:
            yield Static(Text(visible_controls(self._label)), classes="choice-label")
        yield Static("", classes="echo")
        yield self.output
        yield Static("", classes="finish")

    @property
    def text(self) -> str:
        """The whole choice text as the server sent it (echo included)."""
        return self._echo_seen + self.completion_text

    @property
    def completion_text(self) -> str:
        """Only the generated part, exactly as received (what *continue* and *copy* use)."""
        if len(self._raw) > 1:
            self._raw = ["".join(self._raw)]
        return self._raw[0] if self._raw else ""

    def feed(self, text: str) -> None:
        if self._echo_expected is not None and len(self._echo_seen) < len(self._echo_expected):
            take = len(self._echo_expected) - len(self._echo_seen)
            self._echo_seen += text[:take]
            text = text[take:]
            echo = self.query_one(".echo", Static)
            echo.update(Text("echo: " + visible_controls(self._echo_seen)))
            echo.add_class("-present")
        if text:
            self._raw.append(text)
            self.output.append(text)

    def set_finish(self, reason: str | None) -> None:
        self.finish_reason = reason
        if reason:
            self.query_one(".finish", Static).update(Text(f"finish: {visible_controls(reason)}"))

    def finalize(self, render: Callable[[str], Any] | None) -> None:
        """Stream over: fix a misread echo, then swap in the highlighted rendering."""
        if self._echo_expected is not None and self._echo_seen != self._echo_expected:
            # The server did not echo the prompt verbatim: show everything as output.
            full = self.text
            self._echo_seen = ""
            self._raw = [full]
            self.query_one(".echo", Static).remove_class("-present")
            self.output = StreamText(full, classes="output")
            self.query_one(".output").remove()
            self.mount(self.output, before=self.query_one(".finish"))
        if render is None or self.raw_tokens or not self.output.text:
            return
        rendered = render(self.output.text)
        if rendered is None:  # nothing to highlight: the plain widget stays
            return
        final = Static(rendered, classes="final-output")
        self.mount(final, before=self.output)
        self.output.display = False


class ExchangeView(Vertical):
    """A request and everything that came back for it."""

    DEFAULT_CSS = """
    ExchangeView {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        border-left: thick $primary 50%;
    }
    ExchangeView.-error { border-left: thick $error; }
    ExchangeView.-cancelled { border-left: thick $warning; }
    ExchangeView > .prompt { color: $text-primary; text-style: bold; }
    ExchangeView > .outcome { display: none; }
    ExchangeView.-error > .outcome { display: block; color: $text-error; }
    ExchangeView.-cancelled > .outcome { display: block; color: $text-warning; }
    ExchangeView > .metrics { color: $text-muted; }
    """

    class Grew(Message):
        """Text was added; the transcript scrolls along if it is following the bottom."""

    def __init__(
        self,
        request: CompletionRequest,
        *,
        flush_hz: float = 60.0,
        hold: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(classes="-streaming")
        # Asked before each timed flush: True skips that tick (the user is typing, and the
        # frame that shows their key should not also carry a transcript relayout).
        self._hold = hold
        self.request = request
        self.status: ExchangeStatus = "streaming"
        self.result: CompletionResult | None = None
        self.error: str | None = None
        self._flush_interval = 1.0 / max(1.0, flush_hz)
        self._pending: dict[int, list[str]] = {}
        self._timer: Timer | None = None
        self.choices: dict[int, ChoiceView] = {}
        self.chunks_received = 0

    # -- structure ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        labels = prompt_labels(self.request.prompt)
        kind = prompt_kind(self.request.prompt)
        header = "▶ " + ("tokens " if kind in ("tokens", "token_batches") else "")
        if len(labels) == 1:
            shown = clip_prompt(labels[0])
            yield Static(Text(visible_controls(header + shown)), classes="prompt")
        else:
            lines = [f"▶ batch of {len(labels)} prompts"]
            lines += [f"  [{n}] {_shorten(label)}" for n, label in enumerate(labels)]
            yield Static(Text(visible_controls("\n".join(lines))), classes="prompt")
        for index in range(self.request.choice_count):
            yield self._make_choice(index)
        yield Static("", classes="outcome")
        yield Static("", classes="metrics")

    def _make_choice(self, index: int) -> ChoiceView:
        labels = prompt_labels(self.request.prompt)
        per_prompt = self.request.n or 1
        prompt_number = index // per_prompt
        many = self.request.choice_count > 1
        label = None
        if many:
            source = labels[prompt_number] if prompt_number < len(labels) else "?"
            label = f"choice {index} · prompt [{prompt_number}] {_shorten(source, 40)}"
        if self.request.return_raw_tokens:
            label = (label + " · " if label else "") + "token ids"
        echo = None
        if self.request.echo and prompt_kind(self.request.prompt) in ("text", "texts"):
            echo = labels[prompt_number] if prompt_number < len(labels) else None
        view = ChoiceView(index, label, echo, bool(self.request.return_raw_tokens))
        self.choices[index] = view
        return view

    def _choice(self, index: int) -> ChoiceView:
        view = self.choices.get(index)
        if view is None:  # a choice we did not expect (server-side n, say): add it live
            view = self._make_choice(index)
            self.mount(view, before=self.query_one(".outcome"))
        return view

    # -- streaming ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._timer = self.set_interval(self._flush_interval, self._timed_flush, pause=False)

    def _timed_flush(self) -> None:
        if self._hold is not None and self._hold():
            return
        self.flush()

    def feed(self, delta: TextDelta) -> None:
        """Queue a delta; it reaches the screen at the next flush (at most once a frame)."""
        self.chunks_received += 1
        if delta.tokens is not None:
            text = "".join(f"{token} " for token in delta.tokens)
        else:
            text = delta.text
        if text:
            self._pending.setdefault(delta.index, []).append(text)
        if delta.logprobs:
            view = self._choice(delta.index)
            view.logprobs = merge_logprobs(view.logprobs, delta.logprobs)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for index, pieces in pending.items():
            self._choice(index).feed("".join(pieces))
        self.post_message(self.Grew())

    def set_finish(self, index: int, reason: str | None) -> None:
        # The choice's last text is drawn now, with its finish line, not at the next flush
        # tick: this is the moment the user waits for (docs/benchmarks.md, display lag).
        self.flush()
        self._choice(index).set_finish(reason)

    @property
    def completion_text(self) -> str:
        """All choices' generated text (flushed), one blank line between choices."""
        self.flush()
        return "\n\n".join(view.completion_text for _, view in sorted(self.choices.items()))

    # -- the end ------------------------------------------------------------------------------

    def finish(
        self,
        status: ExchangeStatus,
        result: CompletionResult | None,
        *,
        error: str | None = None,
        render: Callable[[str], Any] | None = None,
    ) -> None:
        """Show the outcome: flush what is buffered, fill in any text the stream did not carry
        (non-streaming responses, recorded exchanges), then the metrics line."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.flush()
        self.status = status
        self.result = result
        self.error = error
        if result is not None:
            for choice in result.choices:
                view = self._choice(choice.index)
                shown = view.text
                if choice.tokens is not None and view.raw_tokens and not shown:
                    view.feed("".join(f"{t} " for t in choice.tokens))
                elif choice.text.startswith(shown) and len(choice.text) > len(shown):
                    view.feed(choice.text[len(shown) :])
                if choice.finish_reason and not view.finish_reason:
                    view.set_finish(choice.finish_reason)
                if choice.logprobs and not view.logprobs:
                    view.logprobs = choice.logprobs
        for view in self.choices.values():
            view.finalize(render)
        self.remove_class("-streaming")
        self.add_class(f"-{status}")
        outcome = self.query_one(".outcome", Static)
        if status == "cancelled":
            outcome.update("⏹ cancelled — the partial text above is kept")
        elif status == "error":
            outcome.update(Text("✖ " + visible_controls(error or "failed")))
        self.query_one(".metrics", Static).update(
            Text(visible_controls(metrics_line(result))) if result else ""
        )
        self.post_message(self.Grew())
