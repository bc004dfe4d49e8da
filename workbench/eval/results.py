"""The results file: one TOML record per cell, written atomically while the run goes on.

Written next to the eval file (``french.toml`` → ``french.results.toml``; a shard writes
``french.results.2-of-4.toml``) unless ``--out`` says otherwise. Records come in plan order
(cases in file order, then variants), long outputs as multi-line strings, so two runs diff line
by line. ``complete = false`` marks a run that was interrupted (or is still going):
``--resume`` keeps its finished cells whose request is unchanged and sends the rest.

Rewriting the whole file after every cell would cost O(cells²) for a large run, so the runner
rewrites it at most every few seconds (less often as it grows; see :class:`ResultsWriter`).
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import tomli_w

from workbench.eval.assertions import Observed
from workbench.eval.plan import CellKey, Shard
from workbench.sessions.fsutil import atomic_write

RESULTS_SCHEMA_VERSION = 1
RESULTS_KIND = "workbench-eval-results"
STATUSES = ("pass", "fail", "error")
MAX_RESULTS_FILE_BYTES = 512 * 1024 * 1024
# Shortest pause between two rewrites of the file, and how many times the last write's
# duration to wait at least (so writing never takes more than ~1/8 of the run).
MIN_FLUSH_INTERVAL_S = 2.0
FLUSH_COST_FACTOR = 8.0


class ResultsFileError(ValueError):
    """A results file that cannot be read (it is then never overwritten by --resume)."""


@dataclass(slots=True)
class CellRecord:
    """What one cell sent and got, and what the assertions said."""

    case: str
    variant: str
    digest: str  # plan.request_digest of the request sent
    status: str  # pass | fail | error
    request: dict[str, Any] = field(default_factory=dict)  # the JSON body
    outputs: list[str] = field(default_factory=list)  # one per choice
    finish_reasons: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # ttft_s, tokens_per_s, …
    failures: list[dict[str, str]] = field(default_factory=list)  # {assertion, message}
    error: str | None = None
    error_kind: str | None = None  # "api" | "network" when status is error
    attempts: int = 1
    rate_limited: int = 0  # 429s this cell waited through

    @property
    def key(self) -> CellKey:
        return (self.case, self.variant)

    @property
    def output(self) -> str:
        return "\n".join(self.outputs) if len(self.outputs) != 1 else self.outputs[0]

    def observed(self) -> Observed:
        return Observed(
            tuple(self.outputs) or ("",),
            tuple(self.finish_reasons),
            self.usage.get("completion_tokens"),
        )

    # -- TOML ---------------------------------------------------------------------------

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "case": self.case,
            "variant": self.variant,
            "status": self.status,
            "digest": self.digest,
        }
        if self.error is not None:
            out["error"] = _one_line(self.error)
            if self.error_kind:
                out["error_kind"] = self.error_kind
        if len(self.outputs) == 1:
            out["output"] = _text(self.outputs[0])
        elif self.outputs:
            out["outputs"] = [_text(text) for text in self.outputs]
        if self.finish_reasons:
            out["finish_reasons"] = list(self.finish_reasons)
        if self.failures:
            out["failures"] = [
                {"assertion": _one_line(f["assertion"]), "message": _one_line(f["message"])}
                for f in self.failures
            ]
        if self.attempts != 1:
            out["attempts"] = self.attempts
        if self.rate_limited:
            out["rate_limited"] = self.rate_limited
        out["request"] = _tomlable(self.request)
        if self.usage:
            out["usage"] = dict(self.usage)
        if self.metrics:
            # Tenths of a millisecond: enough, and fewer changing digits in a diff.
            out["metrics"] = {k: round(v, 4) for k, v in self.metrics.items()}
        return out

    @classmethod
    def from_toml(cls, data: Any) -> CellRecord:
        if not isinstance(data, dict):
            raise ResultsFileError("a cell is not a table")
        try:
            case, variant, status, digest = (data[k] for k in ("case", "variant", "status", "digest"))
        except KeyError as missing:
            raise ResultsFileError(f"a cell lacks {missing}") from None
        if not all(isinstance(v, str) for v in (case, variant, status, digest)) or status not in STATUSES:
            raise ResultsFileError("a cell has a bad case, variant, status or digest")
        outputs = data.get("outputs", [data["output"]] if "output" in data else [])
        if not isinstance(outputs, list) or not all(isinstance(t, str) for t in outputs):
            raise ResultsFileError(f"cell {case!r} × {variant!r}: bad output")
        return cls(
            case=case,
            variant=variant,
            digest=digest,
            status=status,
            request=_from_tomlable(data.get("request", {})),
            outputs=outputs,
            finish_reasons=[r for r in data.get("finish_reasons", []) if isinstance(r, str)],
            usage={k: v for k, v in data.get("usage", {}).items() if isinstance(v, int)},
            metrics={k: float(v) for k, v in data.get("metrics", {}).items() if isinstance(v, (int, float))},
            failures=[f for f in data.get("failures", []) if isinstance(f, dict)],
            error=data.get("error") if isinstance(data.get("error"), str) else None,
            error_kind=data.get("error_kind") if isinstance(data.get("error_kind"), str) else None,
            attempts=data.get("attempts", 1) if isinstance(data.get("attempts"), int) else 1,
            rate_limited=data.get("rate_limited", 0) if isinstance(data.get("rate_limited"), int) else 0,
        )


class _OneLine(str):
    """A string tomli_w must keep on one line (it would turn ``\\r\\n`` into ``\\n``)."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:  # tomli_w asks `"\n" in s`
        return False if item == "\n" else str.__contains__(self, item)  # type: ignore[operator]


def _text(text: str) -> str:
    # Multi-line strings read and diff best, but cannot hold \r\n exactly.
    return _OneLine(text) if "\r" in text or len(text) < 40 else text


def _one_line(text: str) -> str:
    return _OneLine(text)


def _tomlable(value: Any) -> Any:
    """TOML has no null: a request value holding one is kept as JSON text instead."""
    if isinstance(value, dict):
        return {str(k): _tomlable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if any(item is None for item in value):
            return {"json": json.dumps(value)}
        return [_tomlable(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    return value


def _from_tomlable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"json"} and isinstance(value["json"], str):
            try:
                return json.loads(value["json"])
            except ValueError:
                return value
        return {k: _from_tomlable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_tomlable(v) for v in value]
    return value


# -- paths ------------------------------------------------------------------------------------


def default_results_path(eval_path: Path, shard: Shard | None = None) -> Path:
    stem = eval_path.name[: -len(".toml")] if eval_path.name.endswith(".toml") else eval_path.name
    tail = f".results.{shard.index}-of-{shard.count}.toml" if shard else ".results.toml"
    return eval_path.with_name(stem + tail)


# -- the whole file ---------------------------------------------------------------------------


@dataclass(slots=True)
class ResultsFile:
    eval_file: str
    title: str
    records: list[CellRecord]
    complete: bool
    started: datetime
    finished: datetime | None = None
    shard: str | None = None
    cells_planned: int = 0

    def by_key(self) -> dict[CellKey, CellRecord]:
        return {record.key: record for record in self.records}

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "kind": RESULTS_KIND,
            "eval_file": self.eval_file,
            "title": _one_line(self.title),
            "complete": self.complete,
            "started": self.started,
        }
        if self.finished is not None:
            doc["finished"] = self.finished
        if self.shard is not None:
            doc["shard"] = self.shard
        doc["cells_planned"] = self.cells_planned
        doc["cells"] = [record.to_toml() for record in self.records]
        return tomli_w.dumps(doc, multiline_strings=True).encode("utf-8", "surrogatepass")


def read_results(path: Path) -> ResultsFile | None:
    """The results file at ``path``; None when there is none. ResultsFileError when it
    exists but cannot be used."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RESULTS_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ResultsFileError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_RESULTS_FILE_BYTES:
        raise ResultsFileError(f"{path}: larger than {MAX_RESULTS_FILE_BYTES // 2**20} MB")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        raise ResultsFileError(f"{path}: not a results file ({error})") from None
    if doc.get("kind") != RESULTS_KIND:
        raise ResultsFileError(f"{path}: not a workbench eval results file")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > RESULTS_SCHEMA_VERSION:
        raise ResultsFileError(f"{path}: written by a newer workbench (schema_version {version})")
    cells = doc.get("cells", [])
    if not isinstance(cells, list):
        raise ResultsFileError(f"{path}: cells is not a list")
    try:
        records = [CellRecord.from_toml(cell) for cell in cells]
    except ResultsFileError as error:
        raise ResultsFileError(f"{path}: {error}") from None
    started = doc.get("started")
    finished = doc.get("finished")
    return ResultsFile(
        eval_file=str(doc.get("eval_file", "")),
        title=str(doc.get("title", "")),
        records=records,
        complete=doc.get("complete") is True,
        started=started if isinstance(started, datetime) else datetime.now(timezone.utc),
        finished=finished if isinstance(finished, datetime) else None,
        shard=doc.get("shard") if isinstance(doc.get("shard"), str) else None,
        cells_planned=doc.get("cells_planned", 0) if isinstance(doc.get("cells_planned"), int) else 0,
    )


class ResultsWriter:
    """Keeps the file on disk up to date with the cells finished so far.

    ``add`` is cheap; the file is rewritten (atomically: a reader sees the old file or the new
    one) when enough time has passed, and by ``flush`` at the end or on ctrl+c.
    """

    def __init__(
        self,
        path: Path,
        header: ResultsFile,
        order: Iterable[CellKey],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.header = header
        self._rank = {key: index for index, key in enumerate(order)}
        self._records: dict[CellKey, CellRecord] = {}
        self._clock = clock
        self._last_flush = clock()
        self._interval = MIN_FLUSH_INTERVAL_S
        self.dirty = False

    @property
    def records(self) -> list[CellRecord]:
        far = len(self._rank)
        return sorted(self._records.values(), key=lambda r: self._rank.get(r.key, far))

    def add(self, record: CellRecord) -> None:
        self._records[record.key] = record
        self.dirty = True
        if self._clock() - self._last_flush >= self._interval:
            self.flush(durable=False)

    def flush(self, *, complete: bool = False, durable: bool = True) -> None:
        started = self._clock()
        self.header.records = self.records
        self.header.complete = complete
        self.header.finished = datetime.now(timezone.utc).replace(microsecond=0) if complete else None
        atomic_write(self.path, self.header.to_bytes(), durable=durable)
        self.dirty = False
        now = self._clock()
        self._last_flush = now
        self._interval = max(MIN_FLUSH_INTERVAL_S, (now - started) * FLUSH_COST_FACTOR)
