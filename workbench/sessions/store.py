"""The session folder: one TOML file per session, atomic saves, no clobbering, a trash.

Saving is append-only when it can be: if the file is still the one this instance last wrote
(same inode and size, same last 4 KB) and only exchanges were added, their tables are appended
and fsync'ed — O(size of the new exchanges), whatever the session's length. Anything else
(a title change, a version-1 file, a file changed by someone else) rewrites the whole file
atomically, as below.

Concurrency policy (two app instances on one folder):

* A new session gets its own file by linking a finished temp file to a fresh name; the link
  fails if the name exists, so two instances never share a file.
* On save, the file's stat and tail are compared with what this instance last read or wrote.
  If it changed, the on-disk version is loaded and **merged**: its exchanges are kept in their order
  and our exchanges that are new since we last read it are appended (title/profile/base URL:
  ours when we changed them, theirs otherwise). The caller's session object is updated to the
  merged state. A file that became unreadable, or was rewritten by a newer schema, is never
  overwritten: :class:`SessionConflictError` says so (the caller can ``save_as_new``).
* The compare-then-replace runs under an advisory lock on the folder (POSIX ``flock``).

Unreadable files (bad TOML, wrong types, newer ``schema_version``, too big, not a regular
file) are listed with the reason and never written, moved or deleted by the app. Every
file-system failure (full disk, read-only folder, a sessions path that is a file) is raised
as :class:`SessionFileError` with a one-line message.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.sessions.codec import (
    MAX_SESSION_BYTES,
    SessionFormatError,
    decode,
    decode_document,
    encode,
    encode_appended,
)
from workbench.sessions.doccache import MIN_CACHED_BYTES, DocumentCache
from workbench.sessions.fsutil import (
    TAIL_BYTES,
    TEMP_PREFIX,
    FileChangedError,
    atomic_write,
    append_durably,
    folder_lock,
    move_no_clobber,
    open_regular,
    read_regular,
    read_tail,
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
from workbench.sessions.model import SCHEMA_VERSION, Session, scrub_base_url

TRASH_DIR = ".trash"
# A temp file older than this belongs to a writer that died; younger ones may be in flight.
STALE_TEMP_SECONDS = 3600


class SessionStoreError(Exception):
    """Base of the store's errors; the message is meant for the user."""


class SessionConflictError(SessionStoreError):
    """Saving would overwrite something we must not (unreadable or foreign file)."""


class SessionNotFoundError(SessionStoreError, LookupError):
    pass


class SessionFileError(SessionStoreError):
    """The file system refused (full disk, read-only or missing folder, not a regular file)."""


class SessionTooLargeError(SessionStoreError):
    """Saving would make the file bigger than the store will ever read back."""


class UnreadableSessionError(SessionStoreError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """What this instance last read from or wrote to the session's file."""

    path: Path
    #: (mtime_ns, size, inode) and a SHA-256 of the last TAIL_BYTES: "is it still our file?"
    #: without reading it all.
    stat: StatKey
    tail_digest: str
    #: the exchanges in the file, in order
    exchange_ids: tuple[str, ...]
    title: str
    profile: str | None
    base_url: str | None
    created: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    #: schema_version of the file; an older one is rewritten (as the current one) on the next
    #: save that changes something, never on a save that changes nothing
    schema_version: int = SCHEMA_VERSION
    #: False when the file must be rewritten whole before anything is appended (it was read
    #: with a repair, or does not end the way an append needs)
    appendable: bool = True

    @property
    def exchange_id_set(self) -> frozenset[str]:
        return frozenset(self.exchange_ids)


@dataclass(frozen=True, slots=True)
class SaveResult:
    path: Path
    created: bool
    #: exchanges another instance had added on disk, now merged into the session
    merged_from_disk: int = 0
    #: how it was written: "created", "appended", "rewritten", or "unchanged" (nothing to do)
    mode: str = "rewritten"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tail_digest(data: bytes) -> str:
    return _digest(data[-TAIL_BYTES:])


def _os_message(error: OSError, action: str, path: Path | str) -> str:
    """One line for a file-system failure: what, where, and the system's reason."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"cannot {action} {path}: {reason[:1].lower() + reason[1:]}"


def _utc_timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc).timestamp()
    return moment.timestamp()


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
        self._documents = DocumentCache(self.directory)

    # -- listing ---------------------------------------------------------------------------

    def list_cached(self) -> list[SessionSummary]:
        """The listing as the index last recorded it, newest first, without looking at the
        files: instant but possibly stale. Show it, then replace it with :meth:`list`."""
        with self._mutex:
            summaries = self._summaries.all()
        summaries.sort(key=lambda s: s.updated_ts, reverse=True)
        return summaries

    def list(self) -> list[SessionSummary]:
        """Every session file, newest first; unreadable files included with ``error`` set
        (so are folders, FIFOs and dangling links named like a session: they are never opened
        for reading)."""
        # The lock is held only to consult and update the caches, never while files are
        # parsed: a cold listing of thousands of files must not block the app's autosave.
        entries = self._scan()
        stats: list[tuple[str, StatKey]] = []
        special: list[SessionSummary] = []
        now = time.time()
        for entry in entries:
            name = entry.name
            if name.startswith(TEMP_PREFIX):
                self._remove_if_stale(entry, now)
                continue
            if name.startswith(".") or not name.endswith(SESSION_SUFFIX):
                continue
            try:
                if entry.is_file():
                    stats.append((name, stat_key(entry.stat())))
                    continue
            except OSError:
                pass
            special.append(self._not_a_file(entry))
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
            for summary, key, text in parsed:
                if key is not None:  # an OS error is not cached: it may go away
                    self._summaries.put(key, summary)
                    if text is not None:
                        self._put_search(summary.name, key, text)
                found[summary.name] = (summary, key or (0, 0, 0))
            self._summaries.forget_missing(found)
            self._keys = {name: key for name, (_, key) in found.items()}
            self._listed = True
            self._summaries.flush()
        self._documents.forget_missing(set(found))
        summaries = [summary for summary, _ in found.values()] + special
        summaries.sort(key=lambda s: s.updated_ts, reverse=True)
        return summaries

    def _scan(self) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.directory) as scan:
                return list(scan)
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise SessionFileError(
                f"the session folder {self.directory} is a file, not a folder"
            ) from None
        except OSError as error:
            raise SessionFileError(_os_message(error, "list", self.directory)) from None

    @staticmethod
    def _not_a_file(entry: os.DirEntry[str]) -> SessionSummary:
        """The listing row of something named like a session that is not a regular file."""
        path = Path(entry.path)
        try:
            info = entry.stat(follow_symlinks=False)
            mtime_ns = info.st_mtime_ns
        except OSError:
            info, mtime_ns = None, 0
        if entry.is_symlink() and not os.path.exists(path):
            reason = "a symbolic link to a file that does not exist"
        else:
            try:
                fd = open_regular(path)
            except OSError as error:
                reason = error.strerror or "not a regular file"
            else:  # became a file since the scan: the next listing parses it
                os.close(fd)
                reason = "changed while listing"
        return unreadable(path, reason, mtime_ns)

    def _remove_if_stale(self, entry: os.DirEntry[str], now: float) -> None:
        try:
            if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
        except OSError:
            pass

    @staticmethod
    def _parse_file(path: Path) -> tuple[SessionSummary, StatKey | None, str | None]:
        """Summary, stat key and search text of one file (no shared state touched). A file
        that cannot be read is summarised as unreadable, with no key (not to be cached)."""
        try:
            data, info = read_regular(path, MAX_SESSION_BYTES)
        except OSError as error:
            try:
                mtime_ns = os.lstat(path).st_mtime_ns
            except OSError:
                mtime_ns = 0
            reason = error.strerror or str(error)
            if isinstance(error, PermissionError):
                reason = f"cannot be read ({reason})"
            return unreadable(path, reason, mtime_ns), None, None
        key = stat_key(info)
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
                _, parsed_key, parsed_text = self._parse_file(summary.path)
                if parsed_key is None or parsed_text is None:
                    text = summary.title.lower()
                else:
                    key, text = parsed_key, parsed_text
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
        """A path for an id, an id prefix, a file name in the store, or a path. Whatever is
        there is returned (a FIFO too): reading it is what says why it is not a session."""
        text = str(ref)
        candidate = Path(text).expanduser()
        if isinstance(ref, Path) or os.sep in text or "/" in text or text.endswith(SESSION_SUFFIX):
            for path in (candidate, self.directory / text):
                if os.path.lexists(path):
                    return path
            raise SessionNotFoundError(f"no session file {text}")
        names = [
            entry.name
            for entry in self._scan()
            if entry.name.startswith(text) and entry.name.endswith(SESSION_SUFFIX)
        ]
        if not names:
            raise SessionNotFoundError(f"no session with id {text} in {self.directory}")
        if len(names) > 1:
            raise SessionNotFoundError(
                f"id {text} is ambiguous: " + ", ".join(sorted(names)[:5])
            )
        return self.directory / names[0]

    def read_bytes(self, ref: str | Path) -> tuple[Path, bytes]:
        """The file's bytes as stored (bounded; never blocks on a FIFO)."""
        path = self.resolve(ref)
        return path, self._read(path)[0]

    def _read(self, path: Path) -> tuple[bytes, os.stat_result]:
        try:
            return read_regular(path, MAX_SESSION_BYTES)
        except FileNotFoundError as error:
            raise SessionNotFoundError(f"{path}: {error.strerror}") from None
        except OSError as error:
            if isinstance(error, PermissionError):
                raise SessionFileError(_os_message(error, "read", path)) from None
            raise UnreadableSessionError(path, error.strerror or str(error)) from None

    def load(self, ref: str | Path) -> Session:
        path = self.resolve(ref)
        data, info = self._read(path)
        owned = self._owns(path)
        prefix = None
        if owned and len(data) >= MIN_CACHED_BYTES:
            prefix = self._documents.prefix(path.name, data)
        try:
            try:
                session, version, doc = decode_document(data, prefix)
            except SessionFormatError:
                if prefix is None:
                    raise
                prefix = None  # the cache is only a shortcut: judge the file on its own
                session, version, doc = decode_document(data)
        except SessionFormatError as error:
            raise UnreadableSessionError(path, str(error)) from None
        uncached = len(data) - (prefix[1] if prefix else 0)
        if owned and session.recovered is None and uncached > max(MIN_CACHED_BYTES, len(data) // 4):
            # Worth keeping: the next open parses only what is appended from now on.
            self._documents.put(path.name, data, doc)
        if owned:
            appendable = session.recovered is None and data.endswith(b"\n") and (
                b"\n[[exchanges]]\n" in data
            )
            self._remember(
                session, path, stat_key(info), _tail_digest(data), version, appendable
            )
        return session

    # -- writing ---------------------------------------------------------------------------

    def _ensure_folder(self) -> None:
        """Create the folder (0700: sessions hold prompts and outputs) or say why not."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError:
            raise SessionFileError(
                f"the session folder {self.directory} is a file, not a folder"
            ) from None
        except OSError as error:
            raise SessionFileError(_os_message(error, "create", self.directory)) from None
        if not self.directory.is_dir():
            raise SessionFileError(f"the session folder {self.directory} is not a folder")

    def save(self, session: Session, *, touch: bool = True) -> SaveResult:
        """Write the session: append its new exchanges when the file is still ours, else
        rewrite it atomically, merging what another writer added (see the module docstring).
        A save that would change nothing writes nothing (a version-1 file stays as it is)."""
        self._ensure_folder()
        session.base_url = scrub_base_url(session.base_url)
        try:
            with self._mutex, folder_lock(self.directory):
                return self._save_locked(session, touch)
        except OSError as error:
            where = getattr(session.storage, "path", None) or self.directory
            raise SessionFileError(_os_message(error, "save", where)) from None

    def _save_locked(self, session: Session, touch: bool) -> SaveResult:
        info = session.storage
        if not isinstance(info, StorageInfo) or not self._owns(info.path):
            return self._create(session, touch)
        path = info.path
        state, tail = self._state_of(path, info)
        current: bytes | None = None
        merged = 0
        if state == "ours":
            new = self._added_exchanges(session, info)
            metadata_same = self._metadata_same(session, info)
            if new is not None and metadata_same:
                if not new:
                    return SaveResult(path=path, created=False, mode="unchanged")
                if info.appendable and info.schema_version == SCHEMA_VERSION:
                    try:
                        return self._append(session, info, new, tail, touch)
                    except FileChangedError:
                        state = "changed"  # lost a race with a writer outside the lock
        if state == "changed":
            current, _ = self._read_for_merge(path, info)
            merged = self._merge_from_disk(session, current, info)
        if touch:
            session.touch()
        data = encode(session)
        self._check_size(len(data))
        if state == "ours" and session.recovered is not None:
            self._keep_torn_copy(path)
        atomic_write(path, data, exclusive=state == "missing")
        session.recovered = None
        self._remember_written(session, path, data)
        created = state == "missing"
        return SaveResult(
            path=path,
            created=created,
            merged_from_disk=merged,
            mode="created" if created else "rewritten",
        )

    def _state_of(self, path: Path, info: StorageInfo) -> tuple[str, bytes]:
        """"ours" (the file we last read or wrote: same stat and tail), "changed" or
        "missing"; and the tail that was compared. Reads at most TAIL_BYTES."""
        try:
            lstat = os.lstat(path)
        except FileNotFoundError:
            return "missing", b""  # deleted elsewhere while we kept working: write it again
        if stat_key(lstat) != info.stat:
            return "changed", b""
        fd = open_regular(path)
        try:
            tail = read_tail(fd, lstat.st_size)
        finally:
            os.close(fd)
        return ("ours" if _digest(tail) == info.tail_digest else "changed"), tail

    def _read_for_merge(self, path: Path, info: StorageInfo) -> tuple[bytes, os.stat_result]:
        try:
            return read_regular(path, MAX_SESSION_BYTES)
        except FileNotFoundError:
            raise
        except OSError as error:
            if isinstance(error, PermissionError):
                raise
            raise SessionConflictError(
                f"{info.path.name} was changed on disk and cannot be read any more "
                f"({error.strerror}); it was not overwritten. Save this session as a new one."
            ) from None

    def _keep_torn_copy(self, path: Path) -> None:
        """Before the first rewrite of a file read with a repair, keep it as it was in
        ``.trash/<name>.torn`` (not a ``.toml``: it is evidence, not a session to restore)."""
        self.trash_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data, _ = read_regular(path, MAX_SESSION_BYTES)
        for counter in range(1000):
            suffix = f".torn-{counter}" if counter else ".torn"
            try:
                atomic_write(self.trash_dir / (path.name + suffix), data, exclusive=True)
                return
            except FileExistsError:
                continue

    @staticmethod
    def _added_exchanges(session: Session, info: StorageInfo) -> list[Any] | None:
        """The exchanges added since the file was last read or written, or None when the
        known ones are not an unchanged prefix (then only a rewrite can save the session)."""
        known = info.exchange_ids
        exchanges = session.exchanges
        if len(exchanges) < len(known):
            return None
        for exchange, exchange_id in zip(exchanges, known):
            if exchange.id != exchange_id:
                return None
        return exchanges[len(known):]

    @staticmethod
    def _metadata_same(session: Session, info: StorageInfo) -> bool:
        return (
            session.title == info.title
            and session.profile == info.profile
            and session.base_url == info.base_url
            and session.created == info.created
            and session.extra == info.extra
        )

    @staticmethod
    def _check_size(size: int) -> None:
        if size > MAX_SESSION_BYTES:
            raise SessionTooLargeError(
                f"the session file would be {size / 2**20:.0f} MB, more than the "
                f"{MAX_SESSION_BYTES // 2**20} MB a session may have; start a new session "
                "(the exchanges on screen are not saved)"
            )

    def _append(
        self, session: Session, info: StorageInfo, new: list[Any], tail: bytes, touch: bool
    ) -> SaveResult:
        if touch:
            session.touch()
        chunk = encode_appended(new, session.updated)
        size = info.stat[1]
        self._check_size(size + len(chunk))
        written = append_durably(info.path, chunk, size=size, inode=info.stat[2])
        self._remember(
            session,
            info.path,
            stat_key(written),
            _tail_digest(tail + chunk),
            SCHEMA_VERSION,
            appendable=True,
        )
        return SaveResult(path=info.path, created=False, mode="appended")

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
            self._check_size(len(data))
            try:
                atomic_write(path, data, exclusive=True)
            except FileExistsError:
                session.id = new_id()  # someone else holds this id: take another
                continue
            self._remember_written(session, path, data)
            return SaveResult(path=path, created=True, mode="created")
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
        known = info.exchange_id_set
        ours_new = [
            exchange
            for exchange in session.exchanges
            if exchange.id not in known and exchange.id not in on_disk
        ]
        merged_from_disk = sum(1 for exchange in disk.exchanges if exchange.id not in ours)
        session.exchanges = list(disk.exchanges) + ours_new
        for attr in ("title", "profile", "base_url"):
            if getattr(session, attr) == getattr(info, attr):
                setattr(session, attr, getattr(disk, attr))
        session.created = min(session.created, disk.created, key=_utc_timestamp)
        session.extra = {**disk.extra, **session.extra}
        return merged_from_disk

    def _remember_written(self, session: Session, path: Path, data: bytes) -> None:
        """After a whole-file write: the file ends with an exchange table when it has any."""
        self._remember(
            session,
            path,
            stat_key(os.stat(path)),
            _tail_digest(data),
            SCHEMA_VERSION,
            appendable=b"\n[[exchanges]]\n" in data,
        )

    def _remember(
        self,
        session: Session,
        path: Path,
        key: StatKey,
        tail_digest: str,
        version: int,
        appendable: bool,
    ) -> None:
        session.storage = StorageInfo(
            path=path,
            stat=key,
            tail_digest=tail_digest,
            exchange_ids=tuple(exchange.id for exchange in session.exchanges),
            title=session.title,
            profile=session.profile,
            base_url=session.base_url,
            created=session.created,
            extra=copy.deepcopy(session.extra),
            schema_version=version,
            appendable=appendable,
        )
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
        if not self._owns(path):
            raise SessionStoreError(f"{path} is not in the session folder {self.directory}")
        self._documents.forget(path.name)
        try:
            data, _ = self._read(path)
            decode(data)
        except (SessionFormatError, UnreadableSessionError) as error:
            reason = error.reason if isinstance(error, UnreadableSessionError) else error
            raise SessionConflictError(
                f"{path.name} is unreadable ({reason}); the app leaves it alone"
            ) from None
        try:
            self.trash_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = self.trash_dir / path.name
            counter = 1
            while os.path.lexists(target):
                target = self.trash_dir / f"{path.stem}-{counter}{SESSION_SUFFIX}"
                counter += 1
            with self._mutex, folder_lock(self.directory):
                move_no_clobber(path, target)
        except OSError as error:
            raise SessionFileError(_os_message(error, "move to the trash", path)) from None
        return target

    def trash(self) -> list[Path]:
        """Files in the trash, most recently deleted first."""
        try:
            paths = [p for p in self.trash_dir.iterdir() if p.suffix == SESSION_SUFFIX]
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            if os.path.isfile(self.directory):
                raise SessionFileError(
                    f"the session folder {self.directory} is a file, not a folder"
                ) from None
            raise SessionFileError(f"the trash {self.trash_dir} is not a folder") from None
        except OSError as error:
            raise SessionFileError(_os_message(error, "list", self.trash_dir)) from None

        def deleted_at(path: Path) -> int:
            try:
                return os.lstat(path).st_ctime_ns
            except OSError:
                return 0

        return sorted(paths, key=deleted_at, reverse=True)

    def restore(self, trashed: str | Path) -> Path:
        """Bring a trashed file back under its original name."""
        source = Path(trashed)
        if not source.is_absolute() or source.parent != self.trash_dir:
            source = self.trash_dir / source.name
        if not source.is_file():
            raise SessionNotFoundError(f"{source.name} is not in the trash")
        target = self.directory / source.name
        try:
            with self._mutex, folder_lock(self.directory):
                move_no_clobber(source, target)
        except FileExistsError:
            raise SessionConflictError(
                f"{target.name} exists in the session folder; not overwritten"
            ) from None
        except OSError as error:
            raise SessionFileError(_os_message(error, "restore", source)) from None
        return target
