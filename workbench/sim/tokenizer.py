"""A small lossless word-level tokenizer for the simulator.

Text is cut into pieces (a word with its leading space, one digit, one punctuation mark with its
leading space, one whitespace character). A piece found in the vocabulary is one token; any
other piece is cut greedily into the longest vocabulary entries it starts with (ASCII letter
pairs and triples are in the vocabulary, so an unknown English word costs about one token per
three letters, near a real tokenizer's rate), and a character nothing covers falls back to one
token per UTF-8 byte. So every string — any Unicode, control characters, lone surrogates —
encodes, counts and decodes back to itself, and token-id prompts decode whatever ids they name.

Id layout: 0 is the end-of-text token, 1–256 are the bytes 0x00–0xFF, then the corpus pieces in
order of first appearance, then the sub-word entries in sorted order (so ids never depend on
hash order and stay stable across runs).
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from importlib import resources
from typing import Iterable

END_OF_TEXT = 0
END_OF_TEXT_TEXT = "<|endoftext|>"
_BYTE_BASE = 1
_FIRST_PIECE_ID = _BYTE_BASE + 256

# Every alternative consumes at least one character and the last one matches anything, so the
# pieces of a string always concatenate back to the string.
_PIECE = re.compile(r" ?[^\W\d_]+| ?\d| ?[^\w\s]|\s|.", re.DOTALL)

CORPUS_FILE = "pride_and_prejudice.txt"
# Longest sub-word match tried inside a piece that is not itself in the vocabulary.
MAX_SUBWORD_CHARS = 12


def split_pieces(text: str) -> list[str]:
    """The pieces ``text`` is cut into before vocabulary look-up."""
    return _PIECE.findall(text)


def _encode_bytes(piece: str) -> list[int]:
    # surrogatepass keeps lone surrogates (legal in a Python str) lossless too.
    return [_BYTE_BASE + b for b in piece.encode("utf-8", "surrogatepass")]


def _decode_bytes(data: bytearray) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        # Token ids chosen by a caller may name a broken byte sequence: show it, don't fail.
        return data.decode("utf-8", "replace")


class Tokenizer:
    """Encode text to ids and back; ``vocab_size`` bounds valid ids."""

    def __init__(self, pieces: Iterable[str]) -> None:
        self._id_to_piece: list[str] = [END_OF_TEXT_TEXT] + [""] * 256
        self._piece_to_id: dict[str, int] = {}
        for piece in pieces:
            if piece not in self._piece_to_id:
                self._piece_to_id[piece] = len(self._id_to_piece)
                self._id_to_piece.append(piece)

    @property
    def vocab_size(self) -> int:
        return len(self._id_to_piece)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        lookup = self._piece_to_id.get
        for piece in _PIECE.findall(text):
            token = lookup(piece)
            if token is None:
                ids.extend(self._encode_unknown(piece))
            else:
                ids.append(token)
        return ids

    def _encode_unknown(self, piece: str) -> list[int]:
        """Greedy longest match against the vocabulary, bytes for what nothing covers."""
        lookup = self._piece_to_id.get
        ids: list[int] = []
        start = 0
        while start < len(piece):
            for end in range(min(len(piece), start + MAX_SUBWORD_CHARS), start, -1):
                token = lookup(piece[start:end])
                if token is not None:
                    ids.append(token)
                    start = end
                    break
            else:
                ids.extend(_encode_bytes(piece[start]))
                start += 1
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; the end-of-text token decodes to nothing."""
        parts: list[str] = []
        pending = bytearray()
        for token in ids:
            if _BYTE_BASE <= token < _FIRST_PIECE_ID:
                pending.append(token - _BYTE_BASE)
                continue
            if pending:
                parts.append(_decode_bytes(pending))
                pending.clear()
            if token != END_OF_TEXT:
                parts.append(self._id_to_piece[token])
        if pending:
            parts.append(_decode_bytes(pending))
        return "".join(parts)

    def piece(self, token: int) -> str:
        """Display text of one token (byte tokens as ``bytes:\\xNN``, the OpenAI convention)."""
        if _BYTE_BASE <= token < _FIRST_PIECE_ID:
            return f"bytes:\\x{token - _BYTE_BASE:02x}"
        return self._id_to_piece[token]

    def is_valid(self, token: int) -> bool:
        return 0 <= token < self.vocab_size


def corpus_text() -> str:
    return resources.files("workbench.sim").joinpath("data", CORPUS_FILE).read_text("utf-8")


def subword_entries() -> list[str]:
    """ASCII characters, letter pairs and lower-case triples, alone or after a space, sorted."""
    lower = string.ascii_lowercase
    singles = string.ascii_letters + string.digits + string.punctuation
    entries = set(singles)
    entries.update(a + b for a in string.ascii_letters for b in lower)
    entries.update(a + b + c for a in lower for b in lower for c in lower)
    entries.update([" " + entry for entry in entries])
    return sorted(entries)


@lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    """The tokenizer whose vocabulary is the shipped corpus's pieces plus sub-word entries."""
    return Tokenizer([*split_pieces(corpus_text()), *subword_entries()])
