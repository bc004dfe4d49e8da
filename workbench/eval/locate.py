"""Line numbers for the keys of a TOML document.

``tomllib`` reports lines only for syntax errors; an eval file whose syntax is fine but whose
third case has a bad assertion must still say *which line*. This scanner walks text that
``tomllib`` has already accepted and records, for every key, array item and table header, the
line where it starts, under a path such as ``("cases", 2, "assert", 0)`` — the same path the
parsed data has. Table arrays (``[[cases]]``) count their elements the way TOML does.

Linear in the text and never recursive beyond the nesting of the document itself (which
``tomllib`` already bounded by parsing it).
"""

from __future__ import annotations

from typing import Hashable

Path = tuple[Hashable, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self._table_array_counts: dict[Path, int] = {}

    # -- characters ---------------------------------------------------------------------

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def advance(self, count: int = 1) -> None:
        chunk = self.text[self.pos : self.pos + count]
        self.line += chunk.count("\n")
        self.pos += len(chunk)

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end

    def skip_blank(self) -> None:
        """Spaces, newlines and comments (inside arrays, and between statements)."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in (" ", "\t", "\r"):
                self.pos += 1
            elif char == "\n":
                self.advance()
            elif char == "#":
                self.skip_comment()
            else:
                return

    def record(self, path: Path, line: int | None = None) -> None:
        """Note where ``path`` starts, and its ancestors when this is the first sign of them
        (a ``[a.b]`` header or a dotted key ``a.b = 1`` defines ``a`` implicitly)."""
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], self.line if line is None else line)

    # -- tokens -------------------------------------------------------------------------

    def read_string(self) -> str:
        """A basic, literal or multi-line string at the cursor; returns its raw inside."""
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                start = self.pos + 3
                search = start
                while True:
                    end = self.text.find(quote, search)
                    if end < 0:
                        end = len(self.text)
                        break
                    if quote == '"""' and _escaped(self.text, end, start):
                        search = end + 1
                        continue
                    break
                # Up to two quotes may directly precede the closing three.
                while self.text[end + 3 : end + 4] == quote[0]:
                    end += 1
                self.advance(end + 3 - self.pos)
                return self.text[start:end]
        quote = self.peek()
        start = self.pos + 1
        position = start
        while position < len(self.text):
            char = self.text[position]
            if quote == '"' and char == "\\":
                position += 2
                continue
            if char == quote or char == "\n":
                break
            position += 1
        raw = self.text[start:position]
        self.advance(position + 1 - self.pos)
        return _unescape(raw) if quote == '"' else raw

    def read_key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_spaces()
            if self.peek() in ('"', "'"):
                parts.append(self.read_string())
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE_KEY_CHARS:
                    self.pos += 1
                parts.append(self.text[start : self.pos])
            self.skip_spaces()
            if self.peek() != ".":
                return parts
            self.pos += 1

    # -- structure ----------------------------------------------------------------------

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return self.lines
            if self.peek(2) == "[[":
                self.pos += 2
                parts = self.read_key()
                self.pos += 2  # "]]"
                table = self._header_path(parts, is_array=True)
                self.record(table)
            elif self.peek() == "[":
                self.pos += 1
                parts = self.read_key()
                self.pos += 1  # "]"
                table = self._header_path(parts, is_array=False)
                self.record(table)
            else:
                self.key_value(table)
            self.skip_spaces()
            self.skip_comment()

    def _header_path(self, parts: list[str], *, is_array: bool) -> Path:
        path: Path = ()
        for index, part in enumerate(parts):
            path += (part,)
            if is_array and index == len(parts) - 1:
                count = self._table_array_counts.get(path, -1) + 1
                self._table_array_counts[path] = count
                path += (count,)
            elif path in self._table_array_counts:
                path += (self._table_array_counts[path],)
        return path

    def key_value(self, table: Path) -> None:
        line = self.line
        path = table + tuple(self.read_key())
        self.record(path, line)
        self.skip_spaces()
        self.pos += 1  # "="
        self.skip_spaces()
        self.value(path)

    def value(self, path: Path) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.read_string()
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip_blank()
                if self.peek() in ("]", ""):
                    self.pos += 1
                    return
                self.record(path + (index,))
                self.value(path + (index,))
                self.skip_blank()
                if self.peek() == ",":
                    self.pos += 1
                    index += 1
        elif char == "{":
            self.pos += 1
            while True:
                self.skip_spaces()
                if self.peek() in ("}", ""):
                    self.pos += 1
                    return
                self.key_value(path)
                self.skip_spaces()
                if self.peek() == ",":
                    self.pos += 1
        else:
            # Numbers, booleans, dates: none contains a delimiter.
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1


def _escaped(text: str, at: int, start: int) -> bool:
    """Whether the quote at ``at`` is preceded by an odd number of backslashes."""
    count = 0
    position = at - 1
    while position >= start and text[position] == "\\":
        count += 1
        position -= 1
    return count % 2 == 1


def _unescape(raw: str) -> str:
    # Keys are nearly always bare; a quoted key with escapes only needs to match itself.
    if "\\" not in raw:
        return raw
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return raw


class KeyLines:
    """Where each key of a (valid) TOML text starts: ``line(path)`` with the nearest known
    ancestor's line when the exact path was not recorded (a value built by a dotted header)."""

    def __init__(self, text: str) -> None:
        try:
            self._lines = _Scanner(text).document()
        except (IndexError, ValueError, RecursionError):  # pragma: no cover - tomllib read it
            self._lines = {}

    def line(self, *path: Hashable) -> int:
        key: Path = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1
