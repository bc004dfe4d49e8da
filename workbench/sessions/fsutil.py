"""Crash-safe file writes: a reader only ever sees the old file or the whole new one."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"


def fsync_dir(directory: Path) -> None:
    """Make a rename/link durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes | list[bytes], *, exclusive: bool = False, durable: bool = True
) -> None:
    """Write ``data`` (bytes, or a list of byte chunks written in order: no joined copy of a
    big payload) to ``path`` via a temp file in the same folder.

    ``exclusive``: fail with FileExistsError instead of replacing an existing file. It links the
    finished temp file to the final name, so the name appears with its whole content at once
    and a second writer can never take it over.
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines([data] if isinstance(data, bytes) else data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(temp, path)
            except (AttributeError, NotImplementedError, PermissionError):
                # No hard links on this file system: reserve the name, then replace it.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                os.replace(temp, path)
            else:
                temp.unlink()
        else:
            os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if durable:
        fsync_dir(directory)


def move_no_clobber(source: Path, target: Path) -> None:
    """Move a file without ever replacing ``target`` (FileExistsError if it exists)."""
    try:
        os.link(source, target)
    except (AttributeError, NotImplementedError, PermissionError):
        if target.exists():
            raise FileExistsError(target) from None
        os.rename(source, target)
    else:
        source.unlink()
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


@contextlib.contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """An advisory lock on the folder (POSIX flock), held while comparing then writing."""
    try:
        import fcntl
    except ImportError:  # Windows: the compare-then-replace window stays (very small).
        yield
        return
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# -- reading untrusted paths ---------------------------------------------------------------------

#: Bytes at the end of a file that are hashed to recognise "the file we last wrote" without
#: reading it all (with its size, inode and mtime).
TAIL_BYTES = 4096


class NotARegularFileError(OSError):
    """A directory, FIFO, socket or device where a session file was expected."""


class FileTooLargeError(OSError):
    """A file bigger than the caller is willing to read."""


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def open_regular(path: Path, flags: int = os.O_RDONLY) -> int:
    """A descriptor for ``path`` that is certainly a regular file.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer (then the
    fstat check refuses it); symlinks are followed, a dangling one is reported as such.
    """
    extra = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | extra)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(
                errno.ENOENT, "a symbolic link to a file that does not exist", str(path)
            ) from None
        raise
    except IsADirectoryError:
        raise NotARegularFileError(errno.EISDIR, "is a folder, not a file", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(errno.EINVAL, f"is {_kind_of(mode)}, not a file", str(path))
        if flags & os.O_ACCMODE == os.O_RDONLY:
            os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_start(path: Path, limit: int) -> bytes:
    """The first ``limit + 1`` bytes of a regular file (one more than allowed, so the caller
    can tell "larger than" apart); a FIFO, device or folder raises at once (open_regular)."""
    with os.fdopen(open_regular(path), "rb") as handle:
        return handle.read(limit + 1)


def read_regular(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """The whole content of a regular file of at most ``limit`` bytes, and its stat (taken on
    the descriptor that was read, so the two always agree)."""
    fd = open_regular(path)
    try:
        info = os.fstat(fd)
        if info.st_size > limit:
            raise FileTooLargeError(
                errno.EFBIG,
                f"is {info.st_size / 2**20:,.0f} MB; session files are read up to "
                f"{limit // 2**20} MB",
                str(path),
            )
        chunks = []
        remaining = limit + 1  # a file growing while read is still cut at the limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise FileTooLargeError(errno.EFBIG, f"grew past {limit // 2**20} MB", str(path))
        return data, info
    finally:
        os.close(fd)


def read_tail(fd: int, size: int) -> bytes:
    """The last :data:`TAIL_BYTES` of a file of ``size`` bytes."""
    start = max(0, size - TAIL_BYTES)
    return os.pread(fd, size - start, start)


def append_durably(path: Path, data: bytes, *, size: int, inode: int) -> os.stat_result:
    """Append ``data`` to ``path`` if it is still the file (inode) of ``size`` bytes the caller
    expects, fsync it, and return its new stat. Raises FileChangedError otherwise.

    A failed or short write (disk full) is undone by truncating back to ``size``, so an error
    never leaves part of a chunk behind. Only power loss in the middle of the write can; the
    reader recognises that case by the chunk's framing lines.
    """
    fd = open_regular(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if info.st_ino != inode or info.st_size != size:
            raise FileChangedError(errno.ESTALE, "changed on disk", str(path))
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                os.fsync(fd)
            raise
        return os.fstat(fd)
    finally:
        os.close(fd)


class FileChangedError(OSError):
    """The file is not the one the caller last saw (someone else wrote or replaced it)."""

