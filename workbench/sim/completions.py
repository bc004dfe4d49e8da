"""From a request body to generated choices, and from those to Cerebras-shaped JSON.

No I/O here: :func:`plan_completion` validates the request and sets up one
:class:`~workbench.sim.model.Generation` per choice; the server advances them in slices as it
answers (so a stream's first token never waits for its last one, and a huge request does not
hold up other connections), and decides *when* each piece goes out.

A request without ``seed`` gets a random one, so repeated requests vary like the real service;
with a seed the text depends only on the seed, the prompt, the sampling parameters and the copy
number under ``n``, so a prompt gives the same completion alone or inside a batch.

Validation reuses :meth:`CompletionRequest.validate`, so the simulator refuses exactly what the
client refuses, plus the rules only a server can check (model, context length, token ids).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from workbench.api.request import SEED_MODELS, CompletionRequest
from workbench.sim.faults import error_body
from workbench.sim.model import Generation, MarkovModel
from workbench.sim.tokenizer import Tokenizer

DEFAULT_CONTEXT_LENGTH = 8192
# Used when a request sends no max_tokens (the API's own default is not documented).
DEFAULT_MAX_TOKENS = 256
SYSTEM_FINGERPRINT = "fp_sim_5b0e5c1d"
CACHE_BLOCK_TOKENS = 128

MODEL_CONTEXT: dict[str, int] = {model: DEFAULT_CONTEXT_LENGTH for model in SEED_MODELS}
# Created timestamps for /v1/models (fixed so the list is stable).
MODEL_CREATED = 1_735_689_600  # 2025-01-01T00:00:00Z


class SimHTTPError(Exception):
    """A request the simulator refuses: the status and flat JSON body to answer with."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def invalid(param: str | None, message: str, code: str = "wrong_api_format") -> SimHTTPError:
    return SimHTTPError(400, error_body(message, "invalid_request_error", param, code))


def model_not_found(model: str) -> SimHTTPError:
    return SimHTTPError(
        404,
        error_body(
            f"Model {model} does not exist or you do not have access to it.",
            "not_found_error",
            "model",
            "model_not_found",
        ),
    )


def dumps(value: Any) -> str:
    """Compact JSON with real UTF-8 characters, as Cerebras sends it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class PromptCache:
    """Prefix cache in 128-token blocks, so ``cached_tokens`` grows when a prompt is resent."""

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def lookup_and_store(self, ids: list[int]) -> int:
        cached = 0
        for end in range(CACHE_BLOCK_TOKENS, len(ids), CACHE_BLOCK_TOKENS):
            key = hash(tuple(ids[:end]))
            if key in self._seen and cached == end - CACHE_BLOCK_TOKENS:
                cached = end
            self._seen.add(key)
        return cached


@dataclass(slots=True)
class ChoicePlan:
    index: int
    prompt_text: str
    generation: Generation


@dataclass(slots=True)
class CompletionPlan:
    id: str
    created: int
    model: str
    request: CompletionRequest
    choices: list[ChoicePlan]
    prompt_tokens: int
    cached_tokens: int
    echo: bool
    raw: bool
    logprobs: int | None
    tokenizer: Tokenizer
    started_at: float = 0.0  # perf_counter when the server began working on it
    setup_time: float = 0.0  # reading and encoding the prompts (the unpaced prompt_time)
    chunk_prefix_bytes: bytes = b""

    @property
    def completion_tokens(self) -> int:
        return sum(len(choice.generation.tokens) for choice in self.choices)

    @property
    def stream(self) -> bool:
        return bool(self.request.stream)

    # -- JSON shapes ----------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        completion = self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

    def choice_json(
        self,
        choice: ChoicePlan,
        start: int,
        end: int,
        *,
        finish_reason: str | None,
        prefix: str = "",
    ) -> dict[str, Any]:
        """Choice ``choice`` carrying its pieces ``start:end`` (after ``prefix`` text)."""
        generation = choice.generation
        if self.raw:
            text, tokens = "", generation.tokens[start:end]
        else:
            text, tokens = prefix + "".join(generation.pieces[start:end]), None
        return {
            "index": choice.index,
            "text": text,
            "finish_reason": finish_reason,
            "logprobs": self._logprobs_json(choice, start, end),
            "tokens": tokens,
        }

    def _logprobs_json(self, choice: ChoicePlan, start: int, end: int) -> dict[str, Any] | None:
        entries = choice.generation.logprobs
        if self.logprobs is None or entries is None:
            return None
        pieces = choice.generation.pieces
        offset = (len(choice.prompt_text) if self.echo else 0) + sum(map(len, pieces[:start]))
        offsets = []
        for piece in pieces[start:end]:
            offsets.append(offset)
            offset += len(piece)
        piece_of = self.tokenizer.piece
        return {
            "tokens": pieces[start:end],
            "token_logprobs": [entry.logprob for entry in entries[start:end]],
            "top_logprobs": [
                {piece_of(token): logprob for token, logprob in entry.top}
                for entry in entries[start:end]
            ],
            "text_offset": offsets,
        }

    def response(self, time_info: dict[str, Any]) -> dict[str, Any]:
        """The whole non-streaming response."""
        choices = [
            self.choice_json(
                choice,
                0,
                len(choice.generation.pieces),
                finish_reason=choice.generation.finish_reason,
                prefix=choice.prompt_text if self.echo else "",
            )
            for choice in self.choices
        ]
        return {
            **self.envelope(),
            "choices": choices,
            "usage": self.usage(),
            "time_info": time_info,
        }

    def first_chunk(self) -> dict[str, Any]:
        choices = [
            {"index": c.index, "text": "", "finish_reason": None, "logprobs": None, "tokens": None}
            for c in self.choices
        ]
        return {**self.envelope(), "choices": choices}

    def last_chunk(self, time_info: dict[str, Any]) -> dict[str, Any]:
        choices = [
            {
                "index": c.index,
                "text": "",
                "finish_reason": c.generation.finish_reason,
                "logprobs": None,
                "tokens": None,
            }
            for c in self.choices
        ]
        return {
            **self.envelope(),
            "choices": choices,
            "usage": self.usage(),
            "time_info": time_info,
        }

    def chunk_prefix(self) -> bytes:
        """``data: {<envelope>,"choices":[`` — content chunks only differ after it."""
        envelope = dumps(self.envelope())
        return f'data: {envelope[:-1]},"choices":['.encode()

    def content_event(self, choice: ChoicePlan, start: int, end: int, prefix: str = "") -> bytes:
        body = dumps(self.choice_json(choice, start, end, finish_reason=None, prefix=prefix))
        return self.chunk_prefix_bytes + body.encode() + b"]}\n\n"


def _prompts(request: CompletionRequest, tokenizer: Tokenizer) -> list[tuple[str, list[int]]]:
    kind = request.kind
    prompt = request.prompt
    if kind == "text":
        texts_or_ids: list[Any] = [prompt]
    elif kind in ("texts", "token_batches"):
        texts_or_ids = list(prompt)  # type: ignore[arg-type]
    else:
        texts_or_ids = [prompt]
    result = []
    for item in texts_or_ids:
        if isinstance(item, str):
            result.append((item, tokenizer.encode(item)))
            continue
        bad = [token for token in item if not tokenizer.is_valid(token)]
        if bad:
            raise invalid(
                "prompt",
                f"prompt: token id {bad[0]} is outside the vocabulary "
                f"(0-{tokenizer.vocab_size - 1})",
            )
        result.append((tokenizer.decode(item), list(item)))
    return result


def plan_completion(
    body: Any,
    *,
    tokenizer: Tokenizer,
    model: MarkovModel,
    models: dict[str, int],
    cache: PromptCache | None = None,
    min_tokens_floor: int = 0,
    lead_token: int | None = None,
) -> CompletionPlan:
    """Validate ``body`` and generate every choice; raises :class:`SimHTTPError` when refused.

    ``min_tokens_floor`` and ``lead_token`` exist for fault modes: a mid-stream fault needs
    enough tokens to break after, and ``split-utf8`` needs a multi-byte character to split.
    """
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.")
    request = CompletionRequest.from_body(body)
    errors = request.validate()
    if errors:
        raise invalid(errors[0].field, "; ".join(str(error) for error in errors))
    if request.model not in models:
        raise model_not_found(request.model)
    context_length = models[request.model]
    prompts = _prompts(request, tokenizer)
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    n = request.n or 1
    base_seed = request.seed if request.seed is not None else int.from_bytes(os.urandom(8), "big")
    started = time.perf_counter()
    choices: list[ChoicePlan] = []
    prompt_tokens = 0
    cached_tokens = 0
    for prompt_index, (prompt_text, ids) in enumerate(prompts):
        if len(ids) >= context_length:
            raise invalid(
                "prompt",
                f"Please reduce the length of the prompt: it has {len(ids)} tokens while the "
                f"context length of {request.model} is {context_length}.",
                "context_length_exceeded",
            )
        room = context_length - len(ids)
        if request.max_tokens is not None:
            if request.max_tokens > room:
                raise invalid(
                    "max_tokens",
                    f"max_tokens ({request.max_tokens}) plus the prompt ({len(ids)} tokens) "
                    f"exceeds the context length of {request.model} ({context_length}).",
                    "context_length_exceeded",
                )
            max_tokens = request.max_tokens
        elif request.min_tokens == -1:
            max_tokens = room
        else:
            max_tokens = min(room, max(DEFAULT_MAX_TOKENS, request.min_tokens or 0))
        min_tokens = request.min_tokens or 0
        if min_tokens != -1:
            min_tokens = min(max(min_tokens, min_tokens_floor), max_tokens)
        prompt_tokens += len(ids)
        if cache is not None:
            cached_tokens += cache.lookup_and_store(ids)
        for copy in range(n):
            # Seeded per prompt and copy: a prompt gives the same text alone or inside a batch.
            # A stream generates as it sends (see the server); a whole response generates now.
            generation = Generation(
                model,
                ids,
                rng=random.Random(f"{base_seed}/{copy}/{ids}"),
                max_tokens=max_tokens,
                min_tokens=min_tokens,
                temperature=float(request.temperature if request.temperature is not None else 1.0),
                top_p=float(request.top_p if request.top_p is not None else 1.0),
                stop=stops,
                logprobs=request.logprobs,
                forced=[lead_token] if lead_token is not None else None,
            )
            choices.append(ChoicePlan(prompt_index * n + copy, prompt_text, generation))
    plan = CompletionPlan(
        id=f"chatcmpl-{uuid.uuid4()}",
        created=int(time.time()),
        model=request.model,
        request=request,
        choices=choices,
        prompt_tokens=prompt_tokens,
        cached_tokens=cached_tokens,
        echo=bool(request.echo),
        raw=bool(request.return_raw_tokens),
        logprobs=request.logprobs,
        tokenizer=tokenizer,
        started_at=started,
        setup_time=time.perf_counter() - started,
    )
    plan.chunk_prefix_bytes = plan.chunk_prefix()
    return plan


def models_json(models: dict[str, int]) -> dict[str, Any]:
    return {"object": "list", "data": [model_json(model) for model in models]}


def model_json(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": MODEL_CREATED, "owned_by": "Cerebras"}
