"""A parsed-document cache that makes re-opening a long session cheap.

``tomllib`` is pure Python: a 1,000-exchange session (about 11 MB) takes it 0.2 s on an idle
2-core machine and over 1 s on a loaded one, while ``json.loads`` reads the same document ~30x
faster. So after a big file has been parsed, its TOML document is kept as JSON in
``<store>/.index/docs/<file name>.json``, with the size and SHA-256 of the bytes it was parsed
from. Session files only grow by appended chunks, so the next open can use the cached document
for the unchanged prefix (checked by hashing it: ~10 ms for 11 MB) and parse only the chunks
appended since with ``tomllib``.

The cache holds the raw document, not a session: what comes out of it goes through the same
field-by-field validation as a fresh parse, so a damaged or forged cache can at worst cost a
re-parse. It is a cache: deleting ``.index/`` costs time, never data.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from workbench.sessions.fsutil import atomic_write, open_regular

CACHE_VERSION = 1
CACHE_DIR = "docs"
#: Smaller files are parsed directly: the cache would not pay for its own write.
MIN_CACHED_BYTES = 512 * 1024
#: A cache file bigger than this is ignored (JSON of a 64 MB session stays well below it).
MAX_CACHE_BYTES = 256 * 1024 * 1024

# TOML values JSON has no type for, tagged as one-key objects whose key starts with NUL. A real
# key starting with NUL (possible in TOML) gets one more NUL, so no data can pass for a tag.
_DATETIME, _DATE, _TIME, _FLOAT = "\x00dt", "\x00d", "\x00t", "\x00f"
_ESCAPE = "\x00"


def _to_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            (_ESCAPE + key if key.startswith(_ESCAPE) else key): _to_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, time):
        return {_TIME: value.isoformat()}
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT: repr(value)}  # 'nan', 'inf', '-inf': strict JSON has no such numbers
    return value


def _tagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        [(key, text)] = value.items()
        if key == _DATETIME:
            return datetime.fromisoformat(text)
        if key == _DATE:
            return date.fromisoformat(text)
        if key == _TIME:
            return time.fromisoformat(text)
        if key == _FLOAT:
            return float(text)
    if any(key.startswith(_ESCAPE) for key in value):
        return {(key[1:] if key.startswith(_ESCAPE) else key): item for key, item in value.items()}
    return value


def _digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentCache:
    def __init__(self, store_directory: Path) -> None:
        self.directory = store_directory / ".index" / CACHE_DIR

    def _file(self, name: str) -> Path:
        return self.directory / (name + ".json")

    def prefix(self, name: str, data: bytes) -> tuple[dict[str, Any], int] | None:
        """The cached document of ``data[:size]`` and that size, when the file still starts
        with exactly the bytes it was parsed from; else None."""
        try:
            fd = open_regular(self._file(name))  # a FIFO planted here must not hang an open
            with os.fdopen(fd, "rb") as handle:
                if os.fstat(fd).st_size > MAX_CACHE_BYTES:
                    return None
                header = json.loads(handle.readline(4096))
                size = header["size"]
                if (
                    header.get("version") != CACHE_VERSION
                    or not isinstance(size, int)
                    or not 0 < size <= len(data)
                    or header.get("sha256") != _digest(memoryview(data)[:size])
                ):
                    return None
                # Read after the header line: no second copy of an 11 MB body in memory.
                doc = json.loads(handle.read(), object_hook=_tagged)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None
        return (doc, size) if isinstance(doc, dict) else None

    def put(self, name: str, data: bytes, doc: dict[str, Any]) -> None:
        """Remember ``doc`` as the parse of ``data`` (best effort: a read-only folder simply
        has no cache)."""
        if len(data) < MIN_CACHED_BYTES:
            return
        try:
            header = json.dumps({"version": CACHE_VERSION, "size": len(data), "sha256": _digest(data)})
            body = json.dumps(_to_json(doc), ensure_ascii=False, allow_nan=False).encode("utf-8")
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(self._file(name), [header.encode() + b"\n", body], durable=False)
        except (OSError, ValueError, RecursionError):
            pass

    def forget(self, name: str) -> None:
        try:
            self._file(name).unlink()
        except OSError:
            pass

    def forget_missing(self, present: set[str]) -> None:
        """Drop the caches of sessions that are gone (deleted outside the app, say)."""
        try:
            with os.scandir(self.directory) as entries:
                stale = [
                    entry.path
                    for entry in entries
                    if entry.name.endswith(".json") and entry.name[: -len(".json")] not in present
                ]
        except OSError:
            return
        for path in stale:
            try:
                os.unlink(path)
            except OSError:
                pass
