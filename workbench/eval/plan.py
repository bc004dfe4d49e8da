"""Cells — one case sent with one variant — their identity, and the ``--shard K/N`` split.

A cell is known by ``(case name, variant name)``: that key lines results up across runs and
shards. Its *digest* is a hash of the exact request body, so ``--resume`` re-sends a cell whose
request changed (a new default, an edited prompt) instead of trusting an old answer.

Sharding hashes the key, not the position: adding a case moves no other cell to another shard,
every cell lands in exactly one of the N shards, and the split is the same on every machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass

from workbench.api.request import CompletionRequest
from workbench.eval.spec import Case, EvalSpec, Variant

CellKey = tuple[str, str]  # (case name, variant name)
MAX_SHARDS = 1000


@dataclass(frozen=True, slots=True)
class Cell:
    case: Case
    variant: Variant
    request: CompletionRequest

    @property
    def key(self) -> CellKey:
        return (self.case.name, self.variant.name)


def request_digest(request: CompletionRequest) -> str:
    body = request.to_body()
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def shard_of(key: CellKey, count: int) -> int:
    """0-based shard of a cell among ``count``: a stable hash of its names."""
    # JSON keeps the two names apart whatever characters they contain.
    data = json.dumps(list(key), ensure_ascii=True).encode("ascii")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big") % count


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 1-based, as written: K of K/N
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, key: CellKey) -> bool:
        return shard_of(key, self.count) == self.index - 1


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → Shard(2, 4); ValueError with a readable message otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise ValueError(f"--shard must look like K/N (e.g. 1/4), not {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"--shard: N must be from 1 to {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise ValueError(f"--shard: K must be from 1 to N ({count})")
    return Shard(index, count)


def plan_cells(spec: EvalSpec, shard: Shard | None = None) -> list[Cell]:
    """Every cell in a stable order (cases in file order, then variants), or one shard's."""
    cells: list[Cell] = []
    for case in spec.cases:
        for variant in spec.variants:
            if shard is not None and not shard.holds((case.name, variant.name)):
                continue
            cells.append(Cell(case, variant, dataclasses.replace(variant.request, prompt=case.prompt)))
    return cells
