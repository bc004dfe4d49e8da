"""Crash-safe file writes: a reader only ever sees the old file or the whole new one."""

from __future__ import annotations

import contextlib
import os
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


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False, durable: bool = True) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder.

    ``exclusive``: fail with FileExistsError instead of replacing an existing file. It links the
    finished temp file to the final name, so the name appears with its whole content at once
    and a second writer can never take it over.
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
