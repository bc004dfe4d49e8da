"""Summary and search indexes: list 10,000 sessions without parsing 10,000 TOML files.

Two JSON caches live in ``<store>/.index/``, both keyed by file name and validated against the
file's (mtime_ns, size, inode), so a stale or foreign entry is simply recomputed:

* ``summaries.json`` — title, model, exchange count, times (≈200 bytes a session). Read on every
  listing; only files whose stat changed are parsed again.
* ``search.dat`` — a lowercase text of title, prompts and outputs (capped per session). It is
  much bigger, so it is loaded separately, on the first search or by a background worker while
  the list is already on screen; searching is then a substring scan in memory.

Both are caches: losing or corrupting them costs time, never data. Two app instances may race
writing them; each write is atomic and the loser's entries are recomputed later.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from workbench.sessions.fsutil import atomic_write, read_regular
from workbench.sessions.model import Session

INDEX_VERSION = 3
INDEX_DIR = ".index"
#: Per-session cap of searchable text: keeps the search index bounded if a session holds
#: megabytes of output (text past the cap is not found by search).
SEARCH_TEXT_LIMIT = 64 * 1024
#: An index file bigger than this is ignored and rebuilt (10,000 sessions index to ~30 MB).
MAX_INDEX_BYTES = 1024 * 1024 * 1024

StatKey = tuple[int, int, int]


def stat_key(stat: os.stat_result) -> StatKey:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _timestamp(moment: datetime) -> float:
    # Hand-edited files may carry local (naive) times: read them as UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@dataclass(slots=True)
class SessionSummary:
    """One row of the session list; ``error`` is set for an unreadable file.

    Times are kept as POSIX timestamps and turned into datetimes only when shown: a listing
    of 10,000 rows should not build 20,000 datetime objects.
    """

    folder: Path
    name: str
    id: str | None
    title: str
    model: str
    exchanges: int
    created_ts: float | None
    updated_ts: float
    error: str | None = None

    @property
    def created(self) -> datetime | None:
        if self.created_ts is None:
            return None
        return datetime.fromtimestamp(self.created_ts, timezone.utc)

    @property
    def updated(self) -> datetime:
        return datetime.fromtimestamp(self.updated_ts, timezone.utc)

    @property
    def path(self) -> Path:
        # Built on demand: 10,000 Path objects would cost more than the whole index read.
        return self.folder / self.name

    @property
    def readable(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "path": str(self.path),
            "id": self.id,
            "title": self.title,
            "model": self.model,
            "exchanges": self.exchanges,
            "created": self.created.isoformat() if self.created else None,
            "updated": self.updated.isoformat(),
            "error": self.error,
        }


def summarize(path: Path, session: Session) -> SessionSummary:
    return SessionSummary(
        folder=path.parent,
        name=path.name,
        id=session.id,
        title=session.display_title,
        model=session.model,
        exchanges=len(session.exchanges),
        created_ts=_timestamp(session.created),
        updated_ts=_timestamp(session.updated),
    )


def unreadable(path: Path, reason: str, mtime_ns: int) -> SessionSummary:
    return SessionSummary(
        folder=path.parent,
        name=path.name,
        id=None,
        title=path.name,
        model="",
        exchanges=0,
        created_ts=None,
        updated_ts=mtime_ns / 1e9,
        error=reason,
    )


def search_text(session: Session) -> str:
    """Lowercase title + prompts + outputs, capped at :data:`SEARCH_TEXT_LIMIT`."""
    parts = [session.title]
    size = len(session.title)
    for exchange in session.exchanges:
        for text in (exchange.prompt_text, exchange.output_text):
            parts.append(text)
            size += len(text)
        if size >= SEARCH_TEXT_LIMIT:
            break
    # NUL separates records in search.dat; nobody searches for it.
    return "\n".join(parts)[:SEARCH_TEXT_LIMIT].lower().replace("\x00", " ")


# An index entry is a flat JSON array (parses faster than an object, and 10,000 of them are
# read on every listing): stat key (mtime_ns, size, inode), then the summary fields in order.
_FIELDS = ("id", "title", "model", "exchanges", "created_ts", "updated_ts", "error")


def _summary_to_json(key: StatKey, summary: SessionSummary) -> list[Any]:
    return [*key, *(getattr(summary, name) for name in _FIELDS)]


def _summary_from_json(folder: Path, name: str, data: list[Any]) -> SessionSummary:
    summary = SessionSummary(folder, name, *data[3:])
    if not isinstance(summary.title, str) or not isinstance(summary.updated_ts, (int, float)):
        raise TypeError("bad index entry")
    return summary


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_regular(path, MAX_INDEX_BYTES)[0])  # never blocks on a FIFO
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_json(path: Path, files: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        payload = json.dumps({"version": INDEX_VERSION, "files": files}, ensure_ascii=False)
        # A cache: atomic (never half-written) but not worth an fsync.
        atomic_write(path, payload.encode("utf-8"), durable=False)
    except OSError:
        pass  # read-only folder: work from memory


class SummaryCache:
    """In-memory summaries of the folder, persisted to ``summaries.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.file = directory / INDEX_DIR / "summaries.json"
        self._loaded = False
        self._entries: dict[str, tuple[StatKey, SessionSummary]] = {}
        self._raw: dict[str, Any] = {}
        self._dirty = False

    def _load(self) -> None:
        if not self._loaded:
            self._raw = _read_json(self.file)
            self._loaded = True

    def get(self, name: str, key: StatKey) -> SessionSummary | None:
        self._load()
        cached = self._entries.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        raw = self._raw.get(name)
        if (
            type(raw) is list
            and len(raw) == 3 + len(_FIELDS)
            and raw[0] == key[0]
            and raw[1] == key[1]
            and raw[2] == key[2]
        ):
            try:
                summary = _summary_from_json(self.directory, name, raw)
            except (KeyError, TypeError, ValueError):
                return None
            self._entries[name] = (key, summary)
            return summary
        return None

    def all(self) -> list[SessionSummary]:
        """Every summary in the index, without looking at the files (may be stale)."""
        self._load()
        summaries = []
        for name, raw in self._raw.items():
            cached = self._entries.get(name)
            if cached is not None:
                summaries.append(cached[1])
                continue
            if type(raw) is not list or len(raw) != 3 + len(_FIELDS):
                continue
            try:
                summary = _summary_from_json(self.directory, name, raw)
            except (TypeError, ValueError):
                continue
            self._entries[name] = ((raw[0], raw[1], raw[2]), summary)
            summaries.append(summary)
        return summaries

    def put(self, key: StatKey, summary: SessionSummary) -> None:
        self._load()
        self._entries[summary.name] = (key, summary)
        self._raw[summary.name] = _summary_to_json(key, summary)
        self._dirty = True

    def forget_missing(self, present: Iterable[str]) -> None:
        self._load()
        keep = set(present)
        for name in [n for n in self._raw if n not in keep]:
            del self._raw[name]
            self._dirty = True
        for name in [n for n in self._entries if n not in keep]:
            del self._entries[name]

    def flush(self) -> None:
        if self._dirty:
            _write_json(self.file, self._raw)
            self._dirty = False


class SearchCache:
    """Lowercase searchable text per file, persisted to ``search.dat``.

    Not JSON: 10,000 sessions make tens of MB of text, and ``json.loads`` of that holds the
    interpreter for a noticeable time. The file is one JSON header line (file names and stat
    keys) followed by the texts separated by NUL, which reads with one decode and one split.
    """

    def __init__(self, directory: Path) -> None:
        self.file = directory / INDEX_DIR / "search.dat"
        self.loaded = False
        self._texts: dict[str, tuple[list[int], str]] = {}
        self._dirty = False

    def read_file(self) -> dict[str, tuple[list[int], str]]:
        """The cached texts on disk ({} when missing or not ours); touches no state."""
        try:
            data = read_regular(self.file, MAX_INDEX_BYTES)[0].decode("utf-8")
            header_text, _, body = data.partition("\n")
            header = json.loads(header_text)
            if header.get("version") != INDEX_VERSION:
                return {}
            entries = header["entries"]
            texts = body.split("\x00")
            if len(texts) != len(entries):
                return {}
            return {entry[0]: (entry[1:], text) for entry, text in zip(entries, texts)}
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError):
            return {}

    def adopt(self, texts: dict[str, tuple[list[int], str]]) -> None:
        """Take what :meth:`read_file` returned; entries already in memory are newer."""
        for name, entry in texts.items():
            self._texts.setdefault(name, entry)
        self.loaded = True

    def load(self) -> None:
        if not self.loaded:
            self.adopt(self.read_file())

    def get(self, name: str, key: StatKey) -> str | None:
        entry = self._texts.get(name)
        return entry[1] if entry is not None and entry[0] == list(key) else None

    def put(self, name: str, key: StatKey, text: str) -> None:
        self._texts[name] = (list(key), text)
        self._dirty = True

    def forget_missing(self, present: Iterable[str]) -> None:
        keep = set(present)
        for name in [n for n in self._texts if n not in keep]:
            del self._texts[name]
            self._dirty = True

    def take_payload(self) -> bytes | None:
        """The file content to write when something changed (build it under the lock)."""
        if not (self._dirty and self.loaded):
            return None
        names = list(self._texts)
        header = json.dumps(
            {"version": INDEX_VERSION, "entries": [[n, *self._texts[n][0]] for n in names]},
            ensure_ascii=False,
        )
        self._dirty = False
        return (header + "\n" + "\x00".join(self._texts[n][1] for n in names)).encode("utf-8")

    def write(self, payload: bytes) -> None:
        try:
            self.file.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write(self.file, payload, durable=False)
        except OSError:
            self._dirty = True  # try again next time
