"""The simulator's language model: a deterministic word-level Markov chain.

Trained at import time on the opening of Jane Austen's *Pride and Prejudice* (1813, public
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
from dataclasses import dataclass, field
from functools import lru_cache

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


@dataclass(slots=True)
class Generation:
    """One choice's completion: ``tokens`` were generated, ``pieces`` is their visible text
    (cut at a stop sequence), ``finish_reason`` is "stop" or "length"."""

    tokens: list[int]
    pieces: list[str]
    finish_reason: str
    logprobs: list[TokenLogprob] | None = None
    visible_tokens: int = 0  # tokens whose text is (at least partly) shown
    text: str = field(default="")


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

    # -- sampling -------------------------------------------------------------------------

    def _sample(
        self,
        dist: Distribution,
        rng: random.Random,
        temperature: float,
        top_p: float,
        forbid_end: bool,
    ) -> tuple[int, Distribution]:
        if forbid_end and END_OF_TEXT in dist.ids:
            if len(dist.ids) == 1:
                dist = self.start  # the text ended here: keep going from a paragraph start
            else:
                dist = Distribution.from_weights(
                    {t: p for t, p in zip(dist.ids, dist.probs) if t != END_OF_TEXT}
                )
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

    def generate(
        self,
        prompt: list[int],
        *,
        rng: random.Random,
        max_tokens: int,
        min_tokens: int = 0,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        logprobs: int | None = None,
    ) -> Generation:
        """Generate up to ``max_tokens``; ``min_tokens`` -1 means never end before max_tokens."""
        fill = min_tokens == -1
        context = tuple(prompt[-2:])
        tokens: list[int] = []
        pieces: list[str] = []
        entries: list[TokenLogprob] | None = [] if logprobs is not None else None
        stops = [s for s in (stop or []) if s]
        longest_stop = max((len(s) for s in stops), default=0)
        tail = ""
        emitted_chars = 0
        stop_at: int | None = None  # absolute char offset where a stop sequence begins
        finish_reason = "length"
        piece_of = self.tokenizer.piece
        while len(tokens) < max_tokens:
            dist = self.distribution(context)
            forbid_end = fill or len(tokens) < min_tokens
            token, used = self._sample(dist, rng, temperature, top_p, forbid_end)
            if token == END_OF_TEXT:
                finish_reason = "stop"
                break
            piece = piece_of(token)
            if entries is not None:
                entries.append(self._logprob_entry(token, used, logprobs or 0))
            tokens.append(token)
            pieces.append(piece)
            context = (context + (token,))[-2:]
            if stops:
                window = tail + piece
                found = [window.find(s) for s in stops]
                hits = [index for index in found if index >= 0]
                if hits:
                    stop_at = emitted_chars - len(tail) + min(hits)
                    finish_reason = "stop"
                    break
                tail = window[-(longest_stop - 1) :] if longest_stop > 1 else ""
            emitted_chars += len(piece)
        generation = Generation(tokens, pieces, finish_reason, entries)
        if stop_at is not None:
            _cut_at(generation, stop_at)
        generation.visible_tokens = len(generation.pieces)
        generation.text = "".join(generation.pieces)
        return generation

    @staticmethod
    def _logprob_entry(token: int, dist: Distribution, top_n: int) -> TokenLogprob:
        p = dist.prob(token)
        logprob = math.log(p) if p > 0 else -9999.0
        top = tuple(
            (alt, math.log(prob)) for alt, prob in zip(dist.ids[:top_n], dist.probs[:top_n])
        )
        return TokenLogprob(token, logprob, top)


def _cut_at(generation: Generation, stop_at: int) -> None:
    """Drop the stop sequence and anything after it from the visible pieces."""
    kept: list[str] = []
    offset = 0
    for piece in generation.pieces:
        if offset + len(piece) <= stop_at:
            kept.append(piece)
            offset += len(piece)
            continue
        if offset < stop_at:
            kept.append(piece[: stop_at - offset])
        break
    generation.pieces = kept
    if generation.logprobs is not None:
        generation.logprobs = generation.logprobs[: len(kept)]


@lru_cache(maxsize=1)
def default_model() -> MarkovModel:
    return MarkovModel(default_tokenizer(), corpus_text())
