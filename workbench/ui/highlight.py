"""Syntax highlighting of code fences in a finished completion, in the theme's pygments style.

Highlighting is for completed text only: the output view shows plain text while a stream is
running (re-lexing a growing text per token is what makes other clients fall behind, see
``shared/design.md``) and calls :func:`highlight_completion` once, when the stream has ended.

:func:`split_fences` cuts a text into prose and fenced-code segments such that joining the
segments' ``text`` gives back the original exactly; highlighting never changes a character
either (``highlight_completion(text).plain == text`` up to the control codes BEL, BS, VT, FF
and CR, which Rich drops from anything it displays), so copying the output is unaffected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, guess_lexer
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound
from rich.control import strip_control_codes
from rich.style import Style
from rich.syntax import Syntax, SyntaxTheme
from rich.text import Span, Text

# pygments' guess_lexer always returns *something*; on prose and on code it cannot place it
# returns lexers scoring 0.01 (measured: a Python function → "Tera Term macro" 0.01, Rust →
# "Text only" 0.01), while right guesses scored 0.1 (C) to 1.0 (Python, Bash). Below this
# score a guess is treated as no guess at all.
MIN_GUESS_CONFIDENCE = 0.1

# CommonMark fences: up to three spaces, then at least three backticks or tildes.
_OPENING_FENCE = re.compile(r"(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)")
FENCE_STYLE = Style(dim=True)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a completion: prose, or one fenced code block (fence lines included)."""

    kind: Literal["prose", "code"]
    text: str
    # For code: the info string's first word ("python"), the code between the fences, and
    # whether a closing fence was found (a completion cut off by max_tokens often lacks it).
    language: str = ""
    code: str = ""
    closed: bool = True


def _lines(text: str) -> list[str]:
    # Only "\n" ends a line here; a Markdown fence never follows "\r" or U+2028.
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _closes(line: str, fence: str) -> bool:
    stripped = line.rstrip("\n")
    body = stripped.lstrip(" ")
    if len(stripped) - len(body) > 3:
        return False
    run = len(body) - len(body.lstrip(fence[0]))
    return run >= len(fence) and not body[run:].strip(" \t")


def split_fences(text: str) -> list[Segment]:
    """Prose and fenced-code segments of ``text``; ``"".join(s.text for s in ...) == text``."""
    segments: list[Segment] = []
    prose: list[str] = []
    lines = _lines(text)
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _OPENING_FENCE.fullmatch(line.rstrip("\n"))
        # A backtick fence's info string may not contain backticks (that is inline code).
        if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
            prose.append(line)
            index += 1
            continue
        if prose:
            segments.append(Segment("prose", "".join(prose)))
            prose = []
        fence = match["fence"]
        body: list[str] = []
        index += 1
        closing = ""
        while index < len(lines):
            if _closes(lines[index], fence):
                closing = lines[index]
                index += 1
                break
            body.append(lines[index])
            index += 1
        info = match["info"].strip().split()
        segments.append(
            Segment(
                "code",
                line + "".join(body) + closing,
                language=info[0] if info else "",
                code="".join(body),
                closed=bool(closing),
            )
        )
    if prose:
        segments.append(Segment("prose", "".join(prose)))
    return segments


def join_segments(segments: list[Segment]) -> str:
    return "".join(segment.text for segment in segments)


@lru_cache(maxsize=64)
def _lexer_by_name(name: str) -> Lexer | None:
    try:
        # stripnl/ensurenl off: the highlighted text must keep every character of the code.
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def guess_language(code: str) -> str | None:
    """A pygments lexer alias for unlabelled code, or None when no guess is believable."""
    stripped = code.strip()
    if not stripped:
        return None
    if stripped[0] in "[{":
        try:
            json.loads(stripped)
        except ValueError:
            pass
        else:
            return "json"
    try:
        lexer = guess_lexer(code)
    except ClassNotFound:
        return None
    if isinstance(lexer, TextLexer) or not lexer.aliases:
        return None
    if type(lexer).analyse_text(code) < MIN_GUESS_CONFIDENCE:
        return None
    return lexer.aliases[0]


def lexer_for(language: str, code: str) -> Lexer | None:
    """The lexer named by a fence's info string, or a confident guess when it names none."""
    if language:
        return _lexer_by_name(language.lower())
    guessed = guess_language(code)
    return _lexer_by_name(guessed) if guessed else None


@lru_cache(maxsize=16)
def syntax_theme(style_name: str) -> SyntaxTheme:
    """A Rich syntax theme for a pygments style name (or Rich's ``ansi_dark``/``ansi_light``)."""
    try:
        return Syntax.get_theme(style_name)
    except Exception:  # pygments raises its own ClassNotFound for unknown styles
        return Syntax.get_theme("monokai")


@lru_cache(maxsize=4096)
def _token_style(style_name: str, token_type: Any) -> Style | None:
    """The style for one pygments token type, foreground only (None when it has none).

    The pygments style's background would paint only behind characters (ragged blocks) and
    fight the Textual theme's background, so code keeps the view's background. Cached: a
    long block has tens of thousands of tokens but only a few dozen token types.
    """
    style = syntax_theme(style_name).get_style_for_token(token_type)
    plain = Style(
        color=style.color,
        bold=style.bold,
        italic=style.italic,
        underline=style.underline,
        dim=style.dim,
    )
    return None if not plain else plain


def highlight_code(code: str, language: str, style_name: str) -> Text:
    """``code`` as Rich ``Text`` highlighted in ``style_name``. ``language`` is a pygments
    name or alias; empty means "guess". Plain text when the language is unknown or the guess
    is not believable. ``result.plain == code`` always."""
    # Rich drops these control codes from anything it displays; dropping them before lexing
    # keeps the span offsets in step with the text.
    code = strip_control_codes(code)
    lexer = lexer_for(language, code)
    if lexer is None:
        return Text(code)
    # Spans are built directly (runs of one style merged) rather than through Text.append,
    # which cost more than the lexing itself. Measured here: ~2,000 tokens of Python in
    # 0.03 s, 16,000 lines in 0.7 s (pygments' lexing is then nearly all of it).
    pieces: list[str] = []
    spans: list[Span] = []
    offset = 0
    run_start, run_style = 0, None
    for token_type, value in lexer.get_tokens(code):
        style = _token_style(style_name, token_type)
        if style != run_style:
            if run_style is not None and offset > run_start:
                spans.append(Span(run_start, offset, run_style))
            run_start, run_style = offset, style
        pieces.append(value)
        offset += len(value)
    if run_style is not None and offset > run_start:
        spans.append(Span(run_start, offset, run_style))
    plain = "".join(pieces)
    if plain != code:  # a lexer that rewrote its input: show it untouched
        return Text(code)
    return Text(plain, spans=spans)


def highlight_completion(text: str, style_name: str) -> Text:
    """A finished completion with every fenced code block highlighted; prose stays plain."""
    result = Text()
    for segment in split_fences(text):
        if segment.kind == "prose":
            result.append(segment.text)
            continue
        opening, _, _ = segment.text.partition("\n")
        result.append(opening + ("\n" if "\n" in segment.text else ""), FENCE_STYLE)
        result.append_text(highlight_code(segment.code, segment.language, style_name))
        closing = (
            segment.text[len(opening) + 1 + len(segment.code) :] if "\n" in segment.text else ""
        )
        if closing:
            result.append(closing, FENCE_STYLE)
    return result


def has_code_fence(text: str) -> bool:
    """Cheap check, so the view can skip highlighting prose-only completions."""
    return any(segment.kind == "code" for segment in split_fences(text))
