"""The session folder: one TOML file per session, atomic saves, no clobbering, a trash.

Concurrency policy (two app instances on one folder):

* A new session gets its own file by linking a finished temp file to a fresh name; the link
  fails if the name exists, so two instances never share a file.
* On save, the file's SHA-256 is compared with what this instance last read or wrote. If it
  changed, the on-disk version is loaded and **merged**: its exchanges are kept in their order
  and our exchanges that are new since we last read it are appended (title/profile/base URL:
  ours when we changed them, theirs otherwise). The caller's session object is updated to the
  merged state. A file that became unreadable, or was rewritten by a newer schema, is never
  overwritten: :class:`SessionConflictError` says so (the caller can ``save_as_new``).
* The compare-then-replace runs under an advisory lock on the folder (POSIX ``flock``).

Unreadable files (bad TOML, wrong types, newer ``schema_version``) are listed with the reason
and never written, moved or deleted by the app.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.sessions.codec import SessionFormatError, decode, encode
from workbench.sessions.fsutil import (
    TEMP_PREFIX,
    atomic_write,
    folder_lock,
    move_no_clobber,
)
from workbench.sessions.ids import SESSION_SUFFIX, file_name, is_valid_id, new_id
from workbench.sessions.index import (
    SearchCache,
    SessionSummary,
    StatKey,
    SummaryCache,
    search_text,
    stat_key,
    summarize,
    unreadable,
)
from workbench.sessions.model import Session, scrub_base_url

TRASH_DIR = ".trash"
# A temp file older than this belongs to a writer that died; younger ones may be in flight.
STALE_TEMP_SECONDS = 3600


class SessionStoreError(Exception):
    """Base of the store's errors; the message is meant for the user."""


class SessionConflictError(SessionStoreError):
    """Saving would overwrite something we must not (unreadable or foreign file)."""


class SessionNotFoundError(SessionStoreError, LookupError):
    pass


class UnreadableSessionError(SessionStoreError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """What this instance last read from or wrote to the session's file."""

    path: Path
    digest: str
    exchange_ids: frozenset[str]
    title: str
    profile: str | None
    base_url: str | None


@dataclass(frozen=True, slots=True)
class SaveResult:
    path: Path
    created: bool
    #: exchanges another instance had added on disk, now merged into the session
    merged_from_disk: int = 0


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SearchIndex:
    """The searchable text of a listing, filtered in memory."""

    def __init__(self, rows: list[tuple[SessionSummary, str]]) -> None:
        self._rows = rows
        self._last_query: tuple[str, ...] = ()
        self._last_rows = rows

    def filter(self, query: str) -> list[SessionSummary]:
        """Sessions whose title, prompts or outputs contain every word (case-insensitive)."""
        words = tuple(query.lower().split())
        if not words:
            return [summary for summary, _ in self._rows]
        # Typing extends the query: narrow the previous result instead of scanning everything.
        previous = self._last_query
        extends = previous and all(any(p in w for w in words) for p in previous)
        rows = self._last_rows if extends else self._rows
        matched = [row for row in rows if all(word in row[1] for word in words)]
        self._last_query, self._last_rows = words, matched
        return [summary for summary, _ in matched]


class SessionStore:
    def __init__(self, directory: Path | str | None = None) -> None:
        if directory is None:
            from workbench.sessions.location import resolve_sessions_dir

            directory = resolve_sessions_dir()
        self.directory = Path(directory).expanduser()
        self.trash_dir = self.directory / TRASH_DIR
        self._mutex = threading.RLock()
        self._summaries = SummaryCache(self.directory)
        self._search = SearchCache(self.directory)
        # search texts computed while the search cache was not loaded yet
        self._pending_search: dict[str, tuple[StatKey, str]] = {}
        self._keys: dict[str, StatKey] = {}
        self._listed = False

    # -- listing ---------------------------------------------------------------------------

    def list_cached(self) -> list[SessionSummary]:
        """The listing as the index last recorded it, newest first, without looking at the
        files: instant but possibly stale. Show it, then replace it with :meth:`list`."""
        with self._mutex:
            summaries = self._summaries.all()
        summaries.sort(key=lambda s: s.updated_ts, reverse=True)
        return summaries

    def list(self) -> list[SessionSummary]:
        """Every session file, newest first; unreadable files included with ``error`` set."""
        # The lock is held only to consult and update the caches, never while files are
        # parsed: a cold listing of thousands of files must not block the app's autosave.
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return []
        stats: list[tuple[str, StatKey]] = []
        now = time.time()
        for entry in entries:
            name = entry.name
            if name.startswith(TEMP_PREFIX):
                self._remove_if_stale(entry, now)
                continue
            if name.startswith(".") or not name.endswith(SESSION_SUFFIX):
                continue
            try:
                if not entry.is_file():
                    continue
                stats.append((name, stat_key(entry.stat())))
            except OSError:
                continue
        missing: list[str] = []
        found: dict[str, tuple[SessionSummary, StatKey]] = {}
        with self._mutex:
            for name, key in stats:
                summary = self._summaries.get(name, key)
                if summary is None:
                    missing.append(name)
                else:
                    found[name] = (summary, key)
        parsed = [self._parse_file(self.directory / name) for name in missing]
        with self._mutex:
            for result in parsed:
                if result is None:
                    continue
                summary, key, text = result
                self._summaries.put(key, summary)
                if text is not None:
                    self._put_search(summary.name, key, text)
                found[summary.name] = (summary, key)
            self._summaries.forget_missing(found)
            self._keys = {name: key for name, (_, key) in found.items()}
            self._listed = True
            self._summaries.flush()
        summaries = [summary for summary, _ in found.values()]
        summaries.sort(key=lambda s: s.updated_ts, reverse=True)
        return summaries

    def _remove_if_stale(self, entry: os.DirEntry[str], now: float) -> None:
        try:
            if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
        except OSError:
            pass

    @staticmethod
    def _parse_file(path: Path) -> tuple[SessionSummary, StatKey, str | None] | None:
        """Summary, stat key and search text of one file (no shared state touched)."""
        try:
            with open(path, "rb") as handle:
                key = stat_key(os.fstat(handle.fileno()))
                data = handle.read()
        except OSError:
            return None
        try:
            session = decode(data)
        except SessionFormatError as error:
            return unreadable(path, str(error), key[0]), key, None
        return summarize(path, session), key, search_text(session)

    def _put_search(self, name: str, key: StatKey, text: str) -> None:
        if self._search.loaded:
            self._search.put(name, key, text)
        else:
            self._pending_search[name] = (key, text)

    def search_index(self, summaries: list[SessionSummary]) -> SearchIndex:
        """Load (or build) the searchable text for these rows; run it off the UI thread.

        The search cache file is read, missing texts are parsed, and the file is written back
        outside the lock; the lock only guards merging into the in-memory cache."""
        loaded = self._search.read_file() if not self._search.loaded else None
        with self._mutex:
            if loaded is not None and not self._search.loaded:
                self._search.adopt(loaded)
            for name, (key, text) in self._pending_search.items():
                self._search.put(name, key, text)
            self._pending_search.clear()
            plan: list[tuple[SessionSummary, StatKey | None, str | None]] = []
            for summary in summaries:
                key = self._keys.get(summary.name)
                text = self._search.get(summary.name, key) if key is not None else None
                plan.append((summary, key, text))
        rows: list[tuple[SessionSummary, str]] = []
        fresh: list[tuple[str, StatKey, str]] = []
        for summary, key, text in plan:
            if not summary.readable:
                rows.append((summary, f"{summary.title}\n{summary.error}".lower()))
                continue
            if text is None:
                result = self._parse_file(summary.path)
                if result is None or result[2] is None:
                    text = summary.title.lower()
                else:
                    key, text = result[1], result[2]
                    fresh.append((summary.name, key, text))
            rows.append((summary, text))
        with self._mutex:
            for name, key, text in fresh:
                self._search.put(name, key, text)
                self._keys.setdefault(name, key)
            if self._listed:  # only a full listing knows which files are gone
                self._search.forget_missing(self._keys)
            payload = self._search.take_payload()
        if payload is not None:
            self._search.write(payload)
        return SearchIndex(rows)

    def search(self, query: str) -> list[SessionSummary]:
        return self.search_index(self.list()).filter(query)

    # -- reading ---------------------------------------------------------------------------

    def resolve(self, ref: str | Path) -> Path:
        """A path for an id, an id prefix, a file name in the store, or a path."""
        text = str(ref)
        candidate = Path(text).expanduser()
        if isinstance(ref, Path) or os.sep in text or "/" in text or text.endswith(SESSION_SUFFIX):
            for path in (candidate, self.directory / text):
                if path.is_file():
                    return path
            raise SessionNotFoundError(f"no session file {text}")
        try:
            names = [
                e.name
                for e in os.scandir(self.directory)
                if e.name.startswith(text) and e.name.endswith(SESSION_SUFFIX)
            ]
        except FileNotFoundError:
            names = []
        if not names:
            raise SessionNotFoundError(f"no session with id {text} in {self.directory}")
        if len(names) > 1:
            raise SessionNotFoundError(
                f"id {text} is ambiguous: " + ", ".join(sorted(names)[:5])
            )
        return self.directory / names[0]

    def load(self, ref: str | Path) -> Session:
        path = self.resolve(ref)
        data = path.read_bytes()
        try:
            session = decode(data)
        except SessionFormatError as error:
            raise UnreadableSessionError(path, str(error)) from None
        if path.parent.resolve() == self.directory.resolve():
            self._remember(session, path, data)
        return session

    # -- writing ---------------------------------------------------------------------------

    def save(self, session: Session, *, touch: bool = True) -> SaveResult:
        """Write the session atomically (see the module docstring for the merge policy)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        session.base_url = scrub_base_url(session.base_url)
        with self._mutex, folder_lock(self.directory):
            info = session.storage
            if not isinstance(info, StorageInfo) or not self._owns(info.path):
                return self._create(session, touch)
            path = info.path
            try:
                current: bytes | None = path.read_bytes()
            except FileNotFoundError:
                current = None  # deleted elsewhere while we kept working: write it again
            merged = 0
            if current is not None and _digest(current) != info.digest:
                merged = self._merge_from_disk(session, current, info)
            if touch:
                session.touch()
            data = encode(session)
            atomic_write(path, data, exclusive=current is None)
            self._remember(session, path, data)
            return SaveResult(path=path, created=current is None, merged_from_disk=merged)

    def _owns(self, path: Path) -> bool:
        """Is ``path`` a file of this folder (however either was spelled)?"""
        if path.parent == self.directory:
            return True
        try:
            return path.parent.resolve() == self.directory.resolve()
        except OSError:
            return False

    def save_as_new(self, session: Session) -> SaveResult:
        """Save under a fresh id and file (e.g. after a conflict, or a replay result)."""
        session.id = new_id()
        session.storage = None
        return self.save(session)

    def _create(self, session: Session, touch: bool) -> SaveResult:
        if not is_valid_id(session.id):
            session.id = new_id()
        if touch:
            session.touch()
        for _ in range(20):
            path = self.directory / file_name(session.id, session.display_title)
            data = encode(session)
            try:
                atomic_write(path, data, exclusive=True)
            except FileExistsError:
                session.id = new_id()  # someone else holds this id: take another
                continue
            self._remember(session, path, data)
            return SaveResult(path=path, created=True)
        raise SessionStoreError("could not find a free file name for the session")

    def _merge_from_disk(self, session: Session, current: bytes, info: StorageInfo) -> int:
        try:
            disk = decode(current)
        except SessionFormatError as error:
            raise SessionConflictError(
                f"{info.path.name} was changed on disk and cannot be read any more "
                f"({error}); it was not overwritten. Save this session as a new one."
            ) from None
        if disk.id != session.id:
            raise SessionConflictError(
                f"{info.path.name} now holds another session ({disk.id}); it was not "
                "overwritten. Save this session as a new one."
            )
        ours = {exchange.id for exchange in session.exchanges}
        on_disk = {exchange.id for exchange in disk.exchanges}
        ours_new = [
            exchange
            for exchange in session.exchanges
            if exchange.id not in info.exchange_ids and exchange.id not in on_disk
        ]
        merged_from_disk = sum(1 for exchange in disk.exchanges if exchange.id not in ours)
        session.exchanges = list(disk.exchanges) + ours_new
        for attr in ("title", "profile", "base_url"):
            if getattr(session, attr) == getattr(info, attr):
                setattr(session, attr, getattr(disk, attr))
        session.created = min(session.created, disk.created)
        session.extra = {**disk.extra, **session.extra}
        return merged_from_disk

    def _remember(self, session: Session, path: Path, data: bytes) -> None:
        session.storage = StorageInfo(
            path=path,
            digest=_digest(data),
            exchange_ids=frozenset(exchange.id for exchange in session.exchanges),
            title=session.title,
            profile=session.profile,
            base_url=session.base_url,
        )
        try:
            key = stat_key(path.stat())
        except OSError:
            return
        with self._mutex:
            summary = summarize(path, session)
            self._summaries.put(key, summary)
            self._keys[path.name] = key
            self._put_search(path.name, key, search_text(session))

    # -- editing -------------------------------------------------------------------------------

    def rename(self, ref: str | Path, title: str) -> Session:
        """Change the title (the file keeps its name: other instances may hold its path)."""
        session = self.load(ref)
        session.title = title
        self.save(session)
        return session

    def duplicate(self, ref: str | Path, title: str | None = None) -> Session:
        source = self.load(ref)
        duplicate = Session.new(
            title=title if title is not None else f"{source.display_title} (copy)",
            profile=source.profile,
            base_url=source.base_url,
        )
        duplicate.exchanges = copy.deepcopy(source.exchanges)
        self.save(duplicate)
        return duplicate

    def delete(self, ref: str | Path) -> Path:
        """Move the session to ``.trash/`` (undo with :meth:`restore`); returns its trash path."""
        path = self.resolve(ref)
        if path.parent.resolve() != self.directory.resolve():
            raise SessionStoreError(f"{path} is not in the session folder {self.directory}")
        try:
            decode(path.read_bytes())
        except SessionFormatError as error:
            raise SessionConflictError(
                f"{path.name} is unreadable ({error}); the app leaves it alone"
            ) from None
        self.trash_dir.mkdir(parents=True, exist_ok=True)
        target = self.trash_dir / path.name
        counter = 1
        while target.exists():
            target = self.trash_dir / f"{path.stem}-{counter}{SESSION_SUFFIX}"
            counter += 1
        with self._mutex, folder_lock(self.directory):
            move_no_clobber(path, target)
        return target

    def trash(self) -> list[Path]:
        """Files in the trash, most recently deleted first."""
        try:
            paths = [p for p in self.trash_dir.iterdir() if p.suffix == SESSION_SUFFIX]
        except FileNotFoundError:
            return []
        return sorted(paths, key=lambda p: p.stat().st_ctime_ns, reverse=True)

    def restore(self, trashed: str | Path) -> Path:
        """Bring a trashed file back under its original name."""
        source = Path(trashed)
        if not source.is_absolute() or source.parent != self.trash_dir:
            source = self.trash_dir / source.name
        if not source.is_file():
            raise SessionNotFoundError(f"{source.name} is not in the trash")
        target = self.directory / source.name
        with self._mutex, folder_lock(self.directory):
            try:
                move_no_clobber(source, target)
            except FileExistsError:
                raise SessionConflictError(
                    f"{target.name} exists in the session folder; not overwritten"
                ) from None
        return target
