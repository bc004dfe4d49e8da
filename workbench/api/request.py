"""The request model for ``POST /v1/completions`` and its validation.

Validation happens before anything is sent: the server would refuse these requests anyway, but
only after a round trip, and with a message that does not point at a field in our sidebar.
Every rule here is documented in ``shared/cerebras-api.md`` / the seed reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Union

from workbench.api.errors import WorkbenchAPIError

GRAMMAR_ROOTS: tuple[str, ...] = (
    "root",
    "fcall",
    "nofcall",
    "insidevalue",
    "value",
    "object",
    "array",
    "string",
    "number",
    "funcarray",
    "func",
    "ws",
)

TEMPERATURE_RANGE = (0.0, 1.5)
TOP_P_RANGE = (0.0, 1.0)
MAX_STOP_SEQUENCES = 4
MAX_LOGPROBS = 20
# n completions per prompt: the server charges and streams every one, so an unbounded n is a
# way to ask for minutes of work by accident. 16 covers every sampling use we know of.
MAX_N = 16
# The server keeps seeds in a signed 64-bit integer.
SEED_RANGE = (-(2**63), 2**63 - 1)

# The seed's model list: only an offline fallback, the catalogue churns (list /v1/models live).
SEED_MODELS: tuple[str, ...] = (
    "llama-4-scout-17b-16e-instruct",
    "llama3.1-8b",
    "llama-3.3-70b",
    "llama-4-maverick-17b-128e",
    "qwen-3-32b",
    "qwen-3-235b-a22b",
    "deepseek-r1-distill-llama-70b",
)

Prompt = Union[str, list[str], list[int], list[list[int]]]
PromptKind = Literal["text", "texts", "tokens", "token_batches"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule, attached to the request field the user has to change."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RequestValidationError(WorkbenchAPIError, ValueError):
    """Raised by :meth:`CompletionRequest.check` when one or more rules are broken (nothing
    was sent). A :class:`WorkbenchAPIError` like everything else the client raises."""

    label = "invalid request"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but `true` is never a valid token id or token count.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def prompt_kind(prompt: Any) -> PromptKind | None:
    """Which of the four documented prompt forms ``prompt`` has, or None when it has none."""
    if isinstance(prompt, str):
        return "text"
    if not isinstance(prompt, list) or not prompt:
        return None
    if all(isinstance(item, str) for item in prompt):
        return "texts"
    if all(_is_int(item) for item in prompt):
        return "tokens"
    if all(isinstance(item, list) and all(_is_int(t) for t in item) for item in prompt):
        return "token_batches"
    return None


def prompt_count(prompt: Prompt) -> int:
    """How many choices a request with this prompt yields (one per prompt of a batch)."""
    kind = prompt_kind(prompt)
    if kind in ("texts", "token_batches"):
        return len(prompt)  # type: ignore[arg-type]
    return 1


def _prompt_errors(prompt: Any) -> list[FieldError]:
    kind = prompt_kind(prompt)
    if kind is None:
        if isinstance(prompt, list) and not prompt:
            return [FieldError("prompt", "a prompt array must not be empty")]
        return [
            FieldError(
                "prompt",
                "must be a string, an array of strings, an array of token ids "
                "or an array of token-id arrays (no mixing)",
            )
        ]
    if kind == "tokens" and any(t < 0 for t in prompt):
        return [FieldError("prompt", "token ids must be non-negative integers")]
    if kind == "token_batches":
        for position, tokens in enumerate(prompt):
            if not tokens:
                return [FieldError("prompt", f"token array {position + 1} is empty")]
            if any(t < 0 for t in tokens):
                return [
                    FieldError(
                        "prompt", f"token array {position + 1}: token ids must be non-negative"
                    )
                ]
    return []


@dataclass(slots=True)
class CompletionRequest:
    """Every field of the completions request. ``None`` means "not set": it is not sent.

    ``extra`` carries fields the SDK also accepts (``best_of``, ``suffix``, ``logit_bias`` …)
    so that a saved session replays exactly what was sent, even fields this model does not name.
    """

    model: str = ""
    prompt: Prompt = ""
    stream: bool | None = None
    return_raw_tokens: bool | None = None
    max_tokens: int | None = None
    min_tokens: int | None = None
    grammar_root: str | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    echo: bool | None = None
    user: str | None = None
    logprobs: int | None = None
    n: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- validation ---------------------------------------------------------------------

    def validate(self) -> list[FieldError]:
        """Every broken rule, in field order; an empty list means the request can be sent."""
        errors: list[FieldError] = []
        add = errors.append

        if not isinstance(self.model, str) or not self.model.strip():
            add(FieldError("model", "a model id is required"))
        errors.extend(_prompt_errors(self.prompt))
        for name in ("stream", "return_raw_tokens", "echo"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                add(FieldError(name, "must be true or false"))

        if self.max_tokens is not None:
            if not _is_int(self.max_tokens):
                add(FieldError("max_tokens", "must be a whole number"))
            elif self.max_tokens < 1:
                add(FieldError("max_tokens", "must be at least 1"))
        if self.min_tokens is not None:
            if not _is_int(self.min_tokens):
                add(FieldError("min_tokens", "must be a whole number"))
            elif self.min_tokens < -1:
                add(FieldError("min_tokens", "must be -1 (fill to max length), 0 or more"))
            elif (
                _is_int(self.max_tokens)
                and self.max_tokens >= 1
                and self.min_tokens > self.max_tokens
            ):
                add(
                    FieldError(
                        "min_tokens",
                        f"must not exceed max_tokens ({self.max_tokens})",
                    )
                )

        if self.grammar_root is not None and self.grammar_root not in GRAMMAR_ROOTS:
            add(FieldError("grammar_root", "must be one of " + ", ".join(GRAMMAR_ROOTS)))

        if self.seed is not None:
            if not _is_int(self.seed):
                add(FieldError("seed", "must be a whole number"))
            elif not SEED_RANGE[0] <= self.seed <= SEED_RANGE[1]:
                add(FieldError("seed", "must fit in a signed 64-bit integer"))

        errors.extend(_stop_errors(self.stop))

        for name, (low, high) in (("temperature", TEMPERATURE_RANGE), ("top_p", TOP_P_RANGE)):
            value = getattr(self, name)
            if value is None:
                continue
            if not _is_number(value):
                add(FieldError(name, "must be a number"))
            elif not low <= value <= high:
                add(FieldError(name, f"must be between {low:g} and {high:g}"))

        if self.echo and self.return_raw_tokens:
            add(FieldError("echo", "echo cannot be combined with return_raw_tokens"))

        if self.user is not None and not isinstance(self.user, str):
            add(FieldError("user", "must be a string"))
        if self.logprobs is not None:
            if not _is_int(self.logprobs) or not 0 <= self.logprobs <= MAX_LOGPROBS:
                add(FieldError("logprobs", f"must be a whole number from 0 to {MAX_LOGPROBS}"))
        if self.n is not None:
            if not _is_int(self.n) or not 1 <= self.n <= MAX_N:
                add(FieldError("n", f"must be a whole number from 1 to {MAX_N}"))
        return errors

    def check(self) -> None:
        """Raise :class:`RequestValidationError` when any rule is broken."""
        errors = self.validate()
        if errors:
            raise RequestValidationError(errors)

    # -- wire form ----------------------------------------------------------------------

    def to_body(self, *, stream: bool | None = None) -> dict[str, Any]:
        """The JSON body: unset fields are left out; ``stream`` overrides the field when given."""
        body: dict[str, Any] = {}
        for spec in fields(self):
            if spec.name == "extra":
                continue
            value = getattr(self, spec.name)
            if value is not None:
                body[spec.name] = value
        for key, value in self.extra.items():
            if value is not None and key not in body:
                body[key] = value
        if stream is not None:
            body["stream"] = stream
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> CompletionRequest:
        """Rebuild a request from a JSON body (null treated as absent, unknown keys kept)."""
        known = {spec.name for spec in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in body.items() if k in known and v is not None}
        extra = {k: v for k, v in body.items() if k not in known and v is not None}
        return cls(**kwargs, extra=extra)

    @property
    def kind(self) -> PromptKind | None:
        return prompt_kind(self.prompt)

    @property
    def choice_count(self) -> int:
        """Choices the response should carry: one per prompt of a batch, times ``n``."""
        return prompt_count(self.prompt) * (self.n or 1)


def _stop_errors(stop: Any) -> list[FieldError]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [] if stop else [FieldError("stop", "a stop sequence must not be empty")]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        return [FieldError("stop", "must be a string or a list of strings")]
    if len(stop) > MAX_STOP_SEQUENCES:
        return [FieldError("stop", f"at most {MAX_STOP_SEQUENCES} stop sequences")]
    if any(not s for s in stop):
        return [FieldError("stop", "a stop sequence must not be empty")]
    return []
