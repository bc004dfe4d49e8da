"""The eval files kept with the sessions: ``evals/`` inside the session folder (no Textual).

The session browser lists them (title, cases, variants, modified time); the eval screen saves
there unless told otherwise. Every file is checked with the same loader as ``workbench eval``,
so a file listed as readable is one the command would run, and one that is not carries the
loader's own one-line reason. Listing only reads: nothing here ever writes an eval file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.eval.spec import MAX_EVAL_FILE_BYTES, EvalFileError, load_eval_data
from workbench.sessions.fsutil import read_start

EVALS_DIR = "evals"
EVAL_SUFFIX = ".eval.toml"
#: Newest files loaded per listing: bounds the time a folder of thousands of evals can take.
MAX_LISTED = 1000
# Results files live next to the eval files they belong to; they are not eval files.
_RESULTS_NAME = re.compile(r"\.results(\.\d+-of-\d+)?\.toml$")


def evals_folder(sessions_dir: Path) -> Path:
    return Path(sessions_dir) / EVALS_DIR


def ensure_evals_folder(sessions_dir: Path) -> Path:
    """Create ``evals/`` (and the session folder) as 0700: evals hold prompts, like sessions.
    OSError says why it could not be made."""
    folder = evals_folder(sessions_dir)
    Path(sessions_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    return folder


def is_eval_name(name: str) -> bool:
    """A file name the listing shows: TOML, not hidden (temp files), not a results file."""
    return name.endswith(".toml") and not name.startswith(".") and not _RESULTS_NAME.search(name)


def suggested_name(title: str, folder: Path | None) -> str:
    """``title`` as a file name (``french-greetings.eval.toml``) not yet taken in ``folder``."""
    stem = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "eval"
    name, number = stem + EVAL_SUFFIX, 2
    while folder is not None and (folder / name).exists():
        name, number = f"{stem}-{number}{EVAL_SUFFIX}", number + 1
    return name


@dataclass(frozen=True, slots=True)
class EvalSummary:
    """One row of the eval listing; ``error`` (one line) is set for a file that does not load."""

    path: Path
    title: str
    cases: int
    variants: int
    modified_ts: float
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def readable(self) -> bool:
        return self.error is None


def summarise_eval(path: Path, modified_ts: float = 0.0) -> EvalSummary:
    """Load one eval file (never following it into a FIFO or a device) and summarise it."""
    try:
        data = read_start(path, MAX_EVAL_FILE_BYTES)  # the loader reports "larger than"
        spec = load_eval_data(data, path)
    except EvalFileError as error:
        # The line in this file, or the file it names (prompt_file, cases_file) and its line.
        where = "line" if Path(error.path) == path else Path(error.path).name + ", line"
        reason = f"{where} {error.line}: {error.message}"
        return EvalSummary(path, path.name, 0, 0, modified_ts, " ".join(reason.split()))
    except OSError as error:
        reason = f"cannot read: {error.strerror or error}"
        return EvalSummary(path, path.name, 0, 0, modified_ts, reason)
    return EvalSummary(path, spec.title, len(spec.cases), len(spec.variants), modified_ts)


def list_evals(folder: Path, limit: int = MAX_LISTED) -> tuple[list[EvalSummary], int]:
    """The eval files in ``folder``, newest first (at most ``limit`` loaded), and how many
    there are in all. A missing folder is an empty list; other OS errors are raised."""
    found: list[tuple[float, Path]] = []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if not is_eval_name(entry.name):
                    continue
                try:
                    modified = entry.stat().st_mtime
                except OSError:  # a dangling link: listed, with the reason, below
                    modified = 0.0
                found.append((modified, Path(entry.path)))
    except FileNotFoundError:
        return [], 0
    found.sort(key=lambda item: (-item[0], item[1].name))
    return [summarise_eval(path, modified) for modified, path in found[:limit]], len(found)


def matches(summary: EvalSummary, query: str) -> bool:
    """Every word of ``query`` in the title or the file name, any case."""
    haystack = f"{summary.title}\n{summary.path.name}".lower()
    return all(word in haystack for word in query.lower().split())
