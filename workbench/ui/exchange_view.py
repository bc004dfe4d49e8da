"""One exchange in the transcript, as blocks of lines: header, prompt, choices, outcome, metrics.

Not a widget: the :class:`~workbench.ui.transcript.Transcript` draws every exchange from one
store of wrapped rows (design.md: "the transcript is lines, not widgets"). An exchange is a
list of :class:`Block` s, each a run of text in one role (prompt, output, metrics …); the
transcript asks each block for its rows at the current width and draws only the visible ones.

Deltas are buffered and flushed into the output blocks by the transcript's timer at most once
per frame (20 times a second, 15 over SSH), so a 3,000 tok/s stream costs a handful of appends
a frame. Highlighting happens once, after the stream ends, off the UI thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Literal

from rich.text import Span

from workbench.api.fields import BUILTIN_DEFAULTS, encode_escapes, request_values
from workbench.api.logprobs import extend_logprobs
from workbench.api.request import CompletionRequest, prompt_kind
from workbench.api.types import CompletionResult, TextDelta
from workbench.ui.metrics_format import fit_items, metrics_items
from workbench.ui.probability_bands import TokenBands
from workbench.ui.prompt_forms import prompt_labels
from workbench.ui.stream_text import WrappedText, display_text

if TYPE_CHECKING:
    from workbench.ui.transcript import Transcript

ExchangeStatus = Literal["streaming", "complete", "cancelled", "error"]

PROMPT_MARK = "▶ "
# Fields never named in a header: the model has its own place, the prompt is shown below it,
# and streaming does not change what comes back.
_NOT_IN_HEADER = {"model", "stream"}


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


def _tokens_received(result: CompletionResult | None, choices: Any, characters: int) -> str:
    """How much a cancelled exchange got: tokens counted where the response says (usage, raw
    ids, logprobs), else estimated from the characters (marked ≈)."""
    tokens: int | None = None
    if result is not None and result.usage is not None and result.usage.completion_tokens:
        tokens = result.usage.completion_tokens
    elif result is not None:
        counted = [
            len(c.tokens) if c.tokens is not None
            else len((c.logprobs or {}).get("tokens") or []) if isinstance(c.logprobs, dict)
            else 0
            for c in result.choices
        ]
        tokens = sum(counted) or None
    if tokens is not None:
        return f"{tokens:,} tokens ({characters:,} characters)"
    return f"≈{round(characters / 4):,} tokens ({characters:,} characters)"


def changed_parameters(request: CompletionRequest) -> str:
    """The request's parameters that differ from the built-in defaults, as ``name=value``."""
    parts = []
    for name, value in request_values(request).items():
        if name in _NOT_IN_HEADER or BUILTIN_DEFAULTS.get(name) == value:
            continue
        if isinstance(value, bool):
            parts.append(name if value else f"{name}=off")
        elif isinstance(value, (list, tuple)):
            shown = ",".join(encode_escapes(str(item)) for item in value)
            parts.append(f"{name}={shown}")
        else:
            parts.append(f"{name}={encode_escapes(str(value))}")
    return " ".join(parts)


def header_text(number: int, request: CompletionRequest, started_at: datetime | None) -> str:
    """``#3 · llama3.1-8b · 14:02:11 · temperature=0.2 seed=7`` (N as ``export --exchange N``).

    The changed parameters come last: on a narrow screen the header keeps one row and they
    are cut with an ellipsis (the export screen shows them all)."""
    parts = [f"#{number}", request.model or "(no model)"]
    if started_at is not None:
        parts.append(started_at.astimezone().strftime("%H:%M:%S"))
    changed = changed_parameters(request)
    if changed:
        parts.append(changed)
    return " · ".join(parts)


class Block:
    """A run of text drawn in one role; its rows come from a :class:`WrappedText`.

    ``lead`` characters at the start are drawn in the prompt's role (the prompt a completion
    continues on the same line). ``spans`` is the finished, highlighted rendering (character
    spans over the text) once it is ready; until then the text is drawn plain. ``fit`` makes a
    one-row block whose text is chosen per width from items ranked by importance.
    """

    __slots__ = (
        "role",
        "content",
        "lead",
        "spans",
        "span_starts",
        "span_reach",
        "visible",
        "version",
        "fit",
        "_fit_width",
        "style_with",
        "bands",
    )

    def __init__(self, role: str, text: str = "", *, visible: bool = True) -> None:
        self.role = role
        self.content = WrappedText(text)
        self.lead = 0
        self.spans: list[Span] | None = None
        self.span_starts: list[int] = []
        self.span_reach = 0  # the longest span: how far back a row must look for spans
        self.visible = visible
        # Bumped when drawn rows may change other than by text growing at the end (new text,
        # a role, styles); an append leaves it alone: the transcript keys each drawn row on
        # its own text, so a streaming flush redraws only the tail row, not the whole block.
        self.version = 0
        self.fit: list[tuple[int, str]] | None = None
        self._fit_width = 0
        # (render, offset): the finished text waits to be styled by ``render`` (in a thread,
        # when the block is first drawn); its result applies from character ``offset`` on.
        self.style_with: tuple[Callable[[str], Any], int] | None = None
        # Token probability bands over the text (an output block whose choice has logprobs);
        # drawn only while the transcript's probability view is on.
        self.bands: TokenBands | None = None

    def set_text(self, text: str) -> None:
        self.content = WrappedText(text)
        self.spans = None
        self.visible = bool(text) or self.role == "blank"
        self.version += 1

    def append(self, text: str) -> None:
        self.content.append(text)

    def set_fit(self, items: list[tuple[int, str]]) -> None:
        self.fit = items
        self._fit_width = 0
        self.visible = bool(items)
        self.version += 1

    def row_count(self, width: int, exact: bool = True) -> int:
        if not self.visible:
            return 0
        if self.fit is not None:
            if self._fit_width != width:
                self.content = WrappedText(fit_items(self.fit, width))
                self._fit_width = width
                self.version += 1
            return self.content.row_count(width)
        if exact:
            return self.content.row_count(width)
        return self.content.estimated_rows(width)


class Entry:
    """Something the transcript shows: a list of blocks and the gutter drawn beside them."""

    gutter = "none"

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.transcript: Transcript | None = None

    @property
    def is_attached(self) -> bool:
        return self.transcript is not None

    def changed(self) -> None:
        """Tell the transcript this entry's rows changed (it re-measures and redraws it)."""
        if self.transcript is not None:
            self.transcript.entry_changed(self)

    def row_count(self, width: int, exact: bool = True) -> int:
        return sum(block.row_count(width, exact) for block in self.blocks)

    def locate(self, row: int, width: int) -> tuple[Block, int] | None:
        """The block and its row number for row ``row`` of this entry (wrapped at ``width``)."""
        for block in self.blocks:
            count = block.row_count(width)
            if row < count:
                return block, row
            row -= count
        return None

    def shown_text(self, width: int) -> str:
        """Every visible block's text (unwrapped) at ``width``, one block a line: what the
        screen shows, for tests and search."""
        return "\n".join(
            block.content.text for block in self.blocks if block.row_count(width, exact=False)
        )

    def plain_lines(self, width: int) -> list[str]:
        """The rows as drawn, without styles (tests and search read these)."""
        lines: list[str] = []
        for block in self.blocks:
            if block.row_count(width):
                lines.extend(block.content.rows(width))
        return lines


class Hint(Entry):
    """A line of advice above the exchanges (offline mode)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.blocks = [Block("hint", display_text(text)), Block("blank")]


class ChoiceOutput:
    """The shown text of one choice (what the transcript draws: controls made visible)."""

    __slots__ = ("block", "lead")

    def __init__(self, block: Block, lead: int) -> None:
        self.block = block
        self.lead = lead

    @property
    def text(self) -> str:
        return self.block.content.text[self.lead :]

    @property
    def length(self) -> int:
        """Characters shown so far (cheap; the benchmark polls it)."""
        return self.block.content.length - self.lead


class ChoiceView:
    """One choice: optional label, the echoed prompt (styled apart), the text, the finish."""

    def __init__(
        self,
        index: int,
        label: str | None,
        echo_expected: str | None,
        raw_tokens: bool,
        *,
        joined_prompt: str | None = None,
        show_finish: bool = True,
    ) -> None:
        self.index = index
        self._echo_expected = echo_expected
        self._echo_seen = ""
        self.raw_tokens = raw_tokens
        self.logprobs: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self._show_finish = show_finish
        # The text exactly as received (the transcript shows a terminal-safe version of it).
        self._raw: list[str] = []
        self.label_block = Block("label", display_text(label or ""), visible=bool(label))
        self.echo_block = Block("echo", visible=False)
        output = Block("output")
        lead = 0
        if joined_prompt is not None:
            # The completion continues the prompt's last line (issue 9): one block, the
            # prompt's characters drawn in the prompt's role.
            output.append(joined_prompt)
            output.lead = lead = len(joined_prompt)
        self.output = ChoiceOutput(output, lead)
        if not raw_tokens and echo_expected is None:
            # Token boundaries follow the text only when the output is the generated text
            # itself (not token ids, not behind an echoed prompt).
            output.bands = TokenBands(lambda: self.logprobs, lead)
        self.finish_block = Block("finish", visible=False)
        self.blocks = [self.label_block, self.echo_block, output, self.finish_block]

    @property
    def echo_text(self) -> str:
        """The echoed prompt as received ("" when there was none)."""
        return self._echo_seen

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
            self.echo_block.set_text("echo: " + display_text(self._echo_seen))
        if text:
            self._raw.append(text)
            self.output.block.append(display_text(text))

    def set_finish(self, reason: str | None) -> None:
        self.finish_reason = reason
        if reason and self._show_finish:
            self.finish_block.set_text(f"finish: {display_text(reason)}")

    def finalize(self, render: Callable[[str], Any] | None) -> None:
        """Stream over: fix a misread echo, then ask for the highlighted rendering."""
        if self._echo_expected is not None and self._echo_seen != self._echo_expected:
            # The server did not echo the prompt verbatim: show everything as output.
            full = self.text
            self._echo_seen = ""
            self._raw = [full]
            self.echo_block.set_text("")
            block = self.output.block
            block.set_text(block.content.text[: self.output.lead] + display_text(full))
        if render is None or self.raw_tokens or not self.output.length:
            return
        self.output.block.style_with = (render, self.output.lead)


class ExchangeView(Entry):
    """A request and everything that came back for it, as blocks of the transcript."""

    gutter = "exchange"

    def __init__(
        self,
        request: CompletionRequest,
        *,
        flush_hz: float = 60.0,
        hold: Callable[[], bool] | None = None,
        started_at: datetime | None = None,
        number: int = 0,
    ) -> None:
        super().__init__()
        # Asked before each timed flush: True skips that tick (the user is typing, and the
        # frame that shows their key should not also carry transcript work).
        self._hold = hold
        self.request = request
        self.status: ExchangeStatus = "streaming"
        self.result: CompletionResult | None = None
        self.error: str | None = None
        self.started_at = started_at
        self._flush_interval = 1.0 / max(1.0, flush_hz)
        self._pending: dict[int, list[str]] = {}
        self.choices: dict[int, ChoiceView] = {}
        self.chunks_received = 0
        self.header = Block("header")
        self.number = number
        self.outcome = Block("outcome-error", visible=False)
        self.metrics = Block("metrics", visible=False)
        self._build()

    # -- structure ----------------------------------------------------------------------------

    @property
    def number(self) -> int:
        """The exchange's place in its session, from 1 (what ``export --exchange N`` takes)."""
        return self._number

    @number.setter
    def number(self, value: int) -> None:
        self._number = value
        self.header.set_fit([(0, display_text(header_text(value, self.request, self.started_at)))])

    def _joined_prompt(self) -> str | None:
        """The shown prompt when the completion can continue it on the same line: one text
        prompt, one choice, no echo, text (not token ids) coming back, shown unclipped."""
        request = self.request
        if prompt_kind(request.prompt) != "text" or request.choice_count != 1:
            return None
        if request.echo or request.return_raw_tokens:
            return None
        prompt = str(request.prompt)
        if clip_prompt(prompt) != prompt:
            return None
        return display_text(PROMPT_MARK + prompt)

    def _build(self) -> None:
        joined = self._joined_prompt()
        blocks = [self.header]
        if joined is None:
            labels = prompt_labels(self.request.prompt)
            kind = prompt_kind(self.request.prompt)
            mark = PROMPT_MARK + ("tokens " if kind in ("tokens", "token_batches") else "")
            if len(labels) == 1:
                shown = mark + clip_prompt(labels[0])
            else:
                lines = [f"{PROMPT_MARK}batch of {len(labels)} prompts"]
                lines += [f"  [{n}] {_shorten(label)}" for n, label in enumerate(labels)]
                shown = "\n".join(lines)
            blocks.append(Block("prompt", display_text(shown)))
        for index in range(self.request.choice_count):
            blocks += self._add_choice(index, joined).blocks
        self.blocks = [*blocks, self.outcome, self.metrics, Block("blank")]

    def _add_choice(self, index: int, joined: str | None = None) -> ChoiceView:
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
        # One choice: its finish reason is on the metrics line only (issue 9: not twice).
        view = ChoiceView(
            index,
            label,
            echo,
            bool(self.request.return_raw_tokens),
            joined_prompt=joined,
            show_finish=many,
        )
        self.choices[index] = view
        return view

    def _choice(self, index: int) -> ChoiceView:
        view = self.choices.get(index)
        if view is None:  # a choice we did not expect (server-side n, say): add it live
            view = self._add_choice(index)
            for choice in self.choices.values():  # every choice labelled from now on
                choice._show_finish = True
            at = self.blocks.index(self.outcome)
            self.blocks[at:at] = view.blocks
        return view

    # -- streaming ----------------------------------------------------------------------------

    def timed_flush(self) -> None:
        """The transcript's timer: flush unless the user just pressed a key."""
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
            view.logprobs = extend_logprobs(view.logprobs, delta.logprobs)
            bands = view.output.block.bands
            if bands is not None and self.transcript is not None and self.transcript.show_probabilities:
                # Band the tokens as they arrive, between frames: the frame that shows the
                # last token then has only the last chunk's tokens left to band.
                bands.catch_up()

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for index, pieces in pending.items():
            self._choice(index).feed("".join(pieces))
        self.changed()

    def set_finish(self, index: int, reason: str | None) -> None:
        # The choice's last text is drawn now, not at the next flush tick: this is the moment
        # the user waits for (docs/benchmarks.md, display lag).
        self.flush()
        self._choice(index).set_finish(reason)
        self.changed()

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
        if status == "cancelled":
            self.outcome.role = "outcome-cancelled"
            received = sum(view.output.length for view in self.choices.values())
            self.outcome.set_text(
                f"⏹ cancelled after {_tokens_received(result, self.choices.values(), received)}"
                " — the partial text above is kept"
            )
        elif status == "error":
            self.outcome.role = "outcome-error"
            self.outcome.set_text("✖ " + display_text(error or "failed"))
        items = metrics_items(result) if result is not None else [(0, "no response")]
        if len(self.choices) > 1:  # each choice has its own finish line
            items = [(rank, text) for rank, text in items if not text.startswith("finish")]
        self.metrics.set_fit([(rank, display_text(text)) for rank, text in items])
        self.changed()
        if self.transcript is not None:
            self.transcript.exchange_finished(self)

