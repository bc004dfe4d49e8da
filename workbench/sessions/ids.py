"""Session ids and file names.

An id is time-sortable text (UTC, millisecond resolution, then random hex so two sessions
started in the same millisecond by two app instances still differ). The file name is the id
plus a slug of the title; the slug keeps only ``[a-z0-9-]``, so no title can produce a path
outside the store folder (no ``/``, ``..``, drive letters or reserved characters survive).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timezone

SESSION_SUFFIX = ".toml"
# The separator between id and slug; never produced inside an id or a slug.
NAME_SEPARATOR = "--"
MAX_SLUG_LENGTH = 40

_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-\d{3}-[0-9a-f]{6}$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def new_id(now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-mmm-rrrrrr``: sorts by creation time as plain text."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = moment.strftime("%Y%m%d-%H%M%S") + f"-{moment.microsecond // 1000:03d}"
    return f"{stamp}-{secrets.token_hex(3)}"


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))


def slugify(title: str) -> str:
    """A short ASCII slug of the title, or ``untitled``."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    return slug or "untitled"


def file_name(session_id: str, title: str) -> str:
    if not is_valid_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return f"{session_id}{NAME_SEPARATOR}{slugify(title)}{SESSION_SUFFIX}"


def id_from_file_name(name: str) -> str | None:
    """The id a file name starts with, or None for a file the store did not name."""
    if not name.endswith(SESSION_SUFFIX):
        return None
    candidate = name.split(NAME_SEPARATOR, 1)[0].removesuffix(SESSION_SUFFIX)
    return candidate if is_valid_id(candidate) else None
