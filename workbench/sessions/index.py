"""Summary and search indexes: list 10,000 sessions without parsing 10,000 TOML files.

Two JSON caches live in ``<store>/.index/``, both keyed by file name and validated against the
file's (mtime_ns, size, inode), so a stale or foreign entry is simply recomputed:

* ``summaries.json`` — title, model, exchange count, times (≈200 bytes a session). Read on every
  listing; only files whose stat changed are parsed again.
* ``search.json`` — a lowercase text of title, prompts and outputs (capped per session). It is
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

from workbench.sessions.fsutil import atomic_write
from workbench.sessions.model import Session

INDEX_VERSION = 1
INDEX_DIR = ".index"
#: Per-session cap of searchable text: keeps the search index bounded if a session holds
#: megabytes of output (text past the cap is not found by search).
SEARCH_TEXT_LIMIT = 64 * 1024

StatKey = tuple[int, int, int]


def stat_key(stat: os.stat_result) -> StatKey:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the session list; ``error`` is set for an unreadable file."""

    path: Path
    id: str | None
    title: str
    model: str
    exchanges: int
    created: datetime | None
    updated: datetime
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

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
        path=path,
        id=session.id,
        title=session.display_title,
        model=session.model,
        exchanges=len(session.exchanges),
        created=session.created,
        updated=session.updated,
    )


def unreadable(path: Path, reason: str, mtime_ns: int) -> SessionSummary:
    return SessionSummary(
        path=path,
        id=None,
        title=path.name,
        model="",
        exchanges=0,
        created=None,
        updated=datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc),
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
    return "\n".join(parts)[:SEARCH_TEXT_LIMIT].lower()


def _summary_to_json(key: StatKey, summary: SessionSummary) -> dict[str, Any]:
    return {
        "key": list(key),
        "id": summary.id,
        "title": summary.title,
        "model": summary.model,
        "exchanges": summary.exchanges,
        "created": summary.created.isoformat() if summary.created else None,
        "updated": summary.updated.isoformat(),
        "error": summary.error,
    }


def _summary_from_json(path: Path, data: dict[str, Any]) -> SessionSummary:
    created = data.get("created")
    return SessionSummary(
        path=path,
        id=data.get("id"),
        title=data["title"],
        model=data.get("model", ""),
        exchanges=int(data.get("exchanges", 0)),
        created=datetime.fromisoformat(created) if created else None,
        updated=datetime.fromisoformat(data["updated"]),
        error=data.get("error"),
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_json(path: Path, files: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(exist_ok=True)
        payload = json.dumps({"version": INDEX_VERSION, "files": files}, ensure_ascii=False)
        # A cache: atomic (never half-written) but not worth an fsync.
        atomic_write(path, payload.encode("utf-8"), durable=False)
    except OSError:
        pass  # read-only folder: work from memory


class SummaryCache:
    """In-memory summaries of the folder, persisted to ``summaries.json``."""

    def __init__(self, directory: Path) -> None:
        self.file = directory / INDEX_DIR / "summaries.json"
        self._loaded = False
        self._entries: dict[str, tuple[StatKey, SessionSummary]] = {}
        self._raw: dict[str, Any] = {}
        self._dirty = False

    def _load(self) -> None:
        if not self._loaded:
            self._raw = _read_json(self.file)
            self._loaded = True

    def get(self, path: Path, key: StatKey) -> SessionSummary | None:
        self._load()
        name = path.name
        cached = self._entries.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        raw = self._raw.get(name)
        if isinstance(raw, dict) and raw.get("key") == list(key):
            try:
                summary = _summary_from_json(path, raw)
            except (KeyError, TypeError, ValueError):
                return None
            self._entries[name] = (key, summary)
            return summary
        return None

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
    """Lowercase searchable text per file, persisted to ``search.json``."""

    def __init__(self, directory: Path) -> None:
        self.file = directory / INDEX_DIR / "search.json"
        self.loaded = False
        self._texts: dict[str, tuple[list[int], str]] = {}
        self._dirty = False

    def load(self) -> None:
        if self.loaded:
            return
        for name, entry in _read_json(self.file).items():
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
                self._texts.setdefault(name, (entry[0], entry[1]))
        self.loaded = True

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

    def flush(self) -> None:
        if self._dirty and self.loaded:
            _write_json(self.file, {n: [k, t] for n, (k, t) in self._texts.items()})
            self._dirty = False
