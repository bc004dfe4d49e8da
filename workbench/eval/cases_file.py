"""Cases from a CSV or JSONL file next to the eval file (``cases_file = "cases.csv"``).

* CSV: the header row names the variables; each further row is a case. A column ``__name``
  names the case (otherwise it is ``<file>:<line>``); other columns starting with ``__`` are
  refused, so a typo in a reserved name does not silently become a variable.
* JSONL: one JSON object per line. ``{"name": …, "vars": {…}, "assert": […]}`` is a full case;
  any other object is a case's variables (``"__name"`` naming it, as in CSV). Blank lines are
  skipped.

Every problem is reported as ``file:line``. Sizes are bounded: the whole file, the number of
cases and each value.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.sessions.fsutil import read_start

MAX_CASES_FILE_BYTES = 50 * 1024 * 1024
MAX_CASES = 100_000
MAX_VALUE_CHARS = 1_000_000
NAME_COLUMN = "__name"


class CasesFileError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(slots=True)
class RawCase:
    """A case as read, before the eval file's checks (variables, assertions)."""

    name: str | None
    vars: dict[str, Any]
    line: int
    asserts: list[Any] = field(default_factory=list)
    assert_lines: list[int] = field(default_factory=list)


def read_cases_file(path: Path) -> list[RawCase]:
    """Read ``path`` (CSV or JSONL by its suffix); OSError and CasesFileError propagate."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise CasesFileError(f"cases_file must end in .csv or .jsonl, not {path.name!r}", 1)
    data = read_start(path, MAX_CASES_FILE_BYTES)  # never a FIFO: it would wait for a writer
    if len(data) > MAX_CASES_FILE_BYTES:
        raise CasesFileError(f"larger than {MAX_CASES_FILE_BYTES // (1024 * 1024)} MB", 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CasesFileError("not valid UTF-8", line) from None
    if suffix == ".csv":
        return _read_csv(text, path.name)
    return _read_jsonl(text)


def _check_value(name: str, value: Any, line: int) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise CasesFileError(f"variable {name!r} must be a string or a number", line)
    if len(value) > MAX_VALUE_CHARS:
        raise CasesFileError(f"variable {name!r} is longer than {MAX_VALUE_CHARS:,} characters", line)
    return value


def _read_csv(text: str, file_name: str) -> list[RawCase]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CasesFileError(f"CSV: {error}", reader.line_num or 1) from None
    if header is None:
        return []
    header = [column.strip() for column in header]
    for column in header:
        if not column:
            raise CasesFileError("an empty column name in the header row", 1)
        if column.startswith("__") and column != NAME_COLUMN:
            raise CasesFileError(f"unknown reserved column {column!r} (only {NAME_COLUMN!r})", 1)
    if len(set(header)) != len(header):
        duplicate = next(c for c in header if header.count(c) > 1)
        raise CasesFileError(f"column {duplicate!r} appears twice in the header row", 1)
    cases: list[RawCase] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader, None)
        except csv.Error as error:
            raise CasesFileError(f"CSV: {error}", reader.line_num) from None
        if row is None:
            return cases
        line = start
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            raise CasesFileError(f"{len(row)} values for {len(header)} columns", line)
        values = {name: _check_value(name, value, line) for name, value in zip(header, row)}
        name = values.pop(NAME_COLUMN, None) or f"{file_name}:{line}"
        cases.append(RawCase(name, values, line))
        if len(cases) > MAX_CASES:
            raise CasesFileError(f"more than {MAX_CASES:,} cases", line)


def _read_jsonl(text: str) -> list[RawCase]:
    cases: list[RawCase] = []
    # Only \n ends a line: a JSON string may hold U+2028 or U+0085, which splitlines() splits at.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise CasesFileError(f"not valid JSON: {error}", number) from None
        if not isinstance(data, dict):
            raise CasesFileError("each line must be a JSON object", number)
        if "vars" in data:
            unknown = set(data) - {"name", "vars", "assert"}
            if unknown:
                raise CasesFileError(
                    f"unknown key {sorted(unknown)[0]!r} (a case has name, vars and assert)", number
                )
            variables = data["vars"]
            if not isinstance(variables, dict):
                raise CasesFileError("vars must be an object", number)
            name = data.get("name")
            if name is not None and not isinstance(name, str):
                raise CasesFileError("name must be a string", number)
            asserts = data.get("assert", [])
            if not isinstance(asserts, list):
                raise CasesFileError("assert must be a list of assertions", number)
        else:
            variables = dict(data)
            name = variables.pop(NAME_COLUMN, None)
            if name is not None and not isinstance(name, str):
                raise CasesFileError(f"{NAME_COLUMN} must be a string", number)
            asserts = []
        values = {str(k): _check_value(str(k), v, number) for k, v in variables.items()}
        cases.append(RawCase(name, values, number, list(asserts), [number] * len(asserts)))
        if len(cases) > MAX_CASES:
            raise CasesFileError(f"more than {MAX_CASES:,} cases", number)
    return cases
