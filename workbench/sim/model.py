"""The simulator's language model: a deterministic word-level Markov chain.

Trained on first use on the opening of Jane Austen's *Pride and Prejudice* (1813, public
domain; chapter 1 and the start of chapter 2, typed from memory, in ``data/``). The next-token
distribution mixes the order-2 context (75 %) with the order-1 context (25 %), so the output
mostly reads like the book but wanders between its sentences; an unknown context restarts at
the beginning of a paragraph. The end-of-text token follows the last sentence of the text, so a
sentence end occasionally ends a completion naturally (finish_reason "stop").

Sampling follows the usual order: temperature (0 = greedy, ties broken by lowest id), then
top_p nucleus, then a draw from a ``random.Random`` the caller seeds.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from workbench.sim.tokenizer import END_OF_TEXT, Tokenizer, corpus_text, default_tokenizer

ORDER2_WEIGHT = 0.75


@dataclass(frozen=True, slots=True)
class Distribution:
    """Next-token probabilities, most likely first (ties: lowest id first)."""

    ids: tuple[int, ...]
    probs: tuple[float, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def from_weights(cls, weights: dict[int, float]) -> Distribution:
        total = sum(weights.values())
        ordered = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
        ids = tuple(token for token, _ in ordered)
        probs = tuple(weight / total for _, weight in ordered)
        running = 0.0
        cumulative = []
        for p in probs:
            running += p
            cumulative.append(running)
        return cls(ids, probs, tuple(cumulative))

    def prob(self, token: int) -> float:
        try:
            return self.probs[self.ids.index(token)]
        except ValueError:
            return 0.0


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: int
    logprob: float
    top: tuple[tuple[int, float], ...]


class Generation:
    """One choice's completion, produced incrementally by :meth:`advance`.

    ``tokens`` were generated; ``pieces`` is their visible text (cut at a stop sequence) and
    ``logprobs`` (when asked for) has one entry per piece. While a stop sequence could still
    begin in the last few characters, :meth:`releasable` holds those pieces back, so a stream
    never shows text it would have to take back.
    """

    def __init__(
        self,
        model: MarkovModel,
        prompt: list[int],
        *,
        rng: random.Random,
        max_tokens: int,
        min_tokens: int = 0,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        logprobs: int | None = None,
        forced: list[int] | None = None,
    ) -> None:
        self._model = model
        self._rng = rng
        self._context = tuple(prompt[-2:])
        self._max_tokens = max_tokens
        self._fill = min_tokens == -1
        self._min_tokens = min_tokens
        self._temperature = temperature
        self._top_p = top_p
        self._top_n = logprobs
        self._forced = list(forced or [])
        self._stops = [s for s in (stop or []) if s]
        self._holdback = max((len(s) for s in self._stops), default=1) - 1
        self._tail = ""
        self._chars = 0
        self._piece_ends: list[int] = []  # cumulative character offsets of the pieces
        self.tokens: list[int] = []
        self.pieces: list[str] = []
        self.logprobs: list[TokenLogprob] | None = [] if logprobs is not None else None
        self.finish_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def releasable(self) -> int:
        """How many pieces can be shown now without risking a later stop-sequence cut."""
        if self.done or not self._holdback:
            return len(self.pieces)
        return bisect.bisect_right(self._piece_ends, self._chars - self._holdback)

    def advance(self, count: int) -> Generation:
        """Generate up to ``count`` more tokens (fewer when the completion ends)."""
        model = self._model
        piece_of = model.tokenizer.piece
        for _ in range(count):
            if self.done:
                break
            if len(self.tokens) >= self._max_tokens:
                self.finish_reason = "length"
                break
            dist = model.distribution(self._context)
            if self._forced:
                token, used = self._forced.pop(0), dist
            else:
                forbid_end = self._fill or len(self.tokens) < self._min_tokens
                token, used = model.sample(
                    dist, self._rng, self._temperature, self._top_p, forbid_end
                )
            if token == END_OF_TEXT:
                self.finish_reason = "stop"
                break
            piece = piece_of(token)
            self.tokens.append(token)
            self._context = (self._context + (token,))[-2:]
            stop_at = self._find_stop(piece) if self._stops else None
            self._append(piece, token, used)
            if stop_at is not None:
                self._truncate(stop_at)
                self.finish_reason = "stop"
                break
        if not self.done and len(self.tokens) >= self._max_tokens:
            self.finish_reason = "length"
        return self

    def advance_to_end(self) -> Generation:
        while not self.done:
            self.advance(1024)
        return self

    def _append(self, piece: str, token: int, used: Distribution) -> None:
        self.pieces.append(piece)
        self._chars += len(piece)
        self._piece_ends.append(self._chars)
        if self.logprobs is not None:
            self.logprobs.append(_logprob_entry(token, used, self._top_n or 0))

    def _find_stop(self, piece: str) -> int | None:
        """Offset where a stop sequence completed by ``piece`` begins (None: no stop)."""
        window = self._tail + piece
        hits = [index for index in (window.find(s) for s in self._stops) if index >= 0]
        if not hits:
            self._tail = window[-self._holdback :] if self._holdback else ""
            return None
        return self._chars - len(self._tail) + min(hits)

    def _truncate(self, cut_at: int) -> None:
        """Keep only the text before character ``cut_at`` (a token may be shown in part)."""
        while self.pieces and self._piece_ends[-1] > cut_at:
            piece = self.pieces[-1]
            start = self._piece_ends[-1] - len(piece)
            if start < cut_at:
                self.pieces[-1] = piece[: cut_at - start]
                self._piece_ends[-1] = cut_at
                break
            self.pieces.pop()
            self._piece_ends.pop()
            if self.logprobs is not None:
                self.logprobs.pop()
        self._chars = cut_at


class MarkovModel:
    def __init__(self, tokenizer: Tokenizer, text: str) -> None:
        self.tokenizer = tokenizer
        ids = tokenizer.encode(text.strip()) + [END_OF_TEXT]
        order1: dict[int, Counter[int]] = defaultdict(Counter)
        order2: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
        starts: Counter[int] = Counter([ids[0]])
        newline = tokenizer.encode("\n")[0]
        for i, token in enumerate(ids[:-1]):
            following = ids[i + 1]
            order1[token][following] += 1
            if i >= 1:
                order2[(ids[i - 1], token)][following] += 1
            if token == newline and following != newline:
                starts[following] += 1
        self._order1 = dict(order1)
        self._order2 = dict(order2)
        self.start = Distribution.from_weights({k: float(v) for k, v in starts.items()})
        self._cache: dict[tuple[int, ...], Distribution] = {}
        self._no_end_cache: dict[int, tuple[Distribution, Distribution]] = {}

    def distribution(self, context: tuple[int, ...]) -> Distribution:
        """Next-token distribution after ``context`` (only the last two tokens matter)."""
        key = context[-2:]
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        last = key[-1] if key else None
        one = self._order1.get(last) if last is not None else None
        two = self._order2.get(key) if len(key) == 2 else None  # type: ignore[arg-type]
        if one is None:
            result = self.start
        else:
            weights: dict[int, float] = {}
            one_total = sum(one.values())
            one_share = 1.0 - ORDER2_WEIGHT if two else 1.0
            for token, count in one.items():
                weights[token] = one_share * count / one_total
            if two:
                two_total = sum(two.values())
                for token, count in two.items():
                    weights[token] = weights.get(token, 0.0) + ORDER2_WEIGHT * count / two_total
            result = Distribution.from_weights(weights)
        self._cache[key] = result
        return result

    def _without_end(self, dist: Distribution) -> Distribution:
        """``dist`` with end-of-text removed (cached: min_tokens asks for it at every "."")."""
        entry = self._no_end_cache.get(id(dist))
        if entry is None:
            if len(dist.ids) == 1:
                masked = self.start  # the text ended here: keep going from a paragraph start
            else:
                masked = Distribution.from_weights(
                    {t: p for t, p in zip(dist.ids, dist.probs) if t != END_OF_TEXT}
                )
            # Keep ``dist`` referenced so its id() cannot be reused by another object.
            entry = self._no_end_cache[id(dist)] = (dist, masked)
        return entry[1]

    # -- sampling -------------------------------------------------------------------------

    def sample(
        self,
        dist: Distribution,
        rng: random.Random,
        temperature: float,
        top_p: float,
        forbid_end: bool,
    ) -> tuple[int, Distribution]:
        if forbid_end and END_OF_TEXT in dist.ids:
            dist = self._without_end(dist)
        if temperature == 0:
            return dist.ids[0], dist
        if temperature == 1.0 and top_p >= 1.0:
            # The common case stays cheap: one draw against precomputed cumulative weights.
            index = bisect.bisect_left(dist.cumulative, rng.random() * dist.cumulative[-1])
            return dist.ids[min(index, len(dist.ids) - 1)], dist
        if temperature == 1.0:
            weights = list(dist.probs)
        else:
            # p ** (1/T), computed in log space so small T does not underflow to all zeros.
            logs = [math.log(p) / temperature for p in dist.probs]
            top = logs[0]
            weights = [math.exp(value - top) for value in logs]
        total = sum(weights)
        if top_p < 1.0:
            kept, running = 0, 0.0
            for weight in weights:
                kept += 1
                running += weight / total
                if running >= top_p:
                    break
            weights = weights[:kept]
            total = sum(weights)
        draw = rng.random() * total
        running = 0.0
        for token, weight in zip(dist.ids, weights):
            running += weight
            if draw < running:
                return token, dist
        return dist.ids[len(weights) - 1], dist

    def generate(self, prompt: list[int], **options: Any) -> Generation:
        """The whole completion at once (options as for :class:`Generation`)."""
        return Generation(self, prompt, **options).advance_to_end()


def _logprob_entry(token: int, dist: Distribution, top_n: int) -> TokenLogprob:
    p = dist.prob(token)
    logprob = math.log(p) if p > 0 else -9999.0
    top = tuple((alt, math.log(prob)) for alt, prob in zip(dist.ids[:top_n], dist.probs[:top_n]))
    return TokenLogprob(token, logprob, top)


@lru_cache(maxsize=1)
def default_model() -> MarkovModel:
    return MarkovModel(default_tokenizer(), corpus_text())
