"""Hypothesis strategies for sessions: any Unicode, every parameter and prompt form."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from workbench.api.request import GRAMMAR_ROOTS, CompletionRequest
from workbench.api.types import Choice, ClientMetrics, TimeInfo, Usage
from workbench.sessions.model import MAX_LANES, STATUSES, Exchange, Session

# Strings TOML writers get wrong: line endings, NUL, quotes and backslashes at the edges.
TRICKY = ["'''", "'", "\r\n", "\r", "\n", "\x00", '"', '"""', "\\", "\\\n", "\t", "\x7f", "\x1b[31m", "\u2028"]

any_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(TRICKY) | st.text(max_size=5), max_size=12).map("".join),
    # very long strings, with and without newlines
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(500, 4000)),
)
int64 = st.integers(-(2**63), 2**63 - 1)
small_text = st.text(max_size=20)
finite_or_inf = st.floats(allow_nan=False)

json_values = st.recursive(
    st.none() | st.booleans() | int64 | finite_or_inf | any_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(small_text, children, max_size=4),
    max_leaves=12,
)

prompts = st.one_of(
    any_text,
    st.lists(any_text, max_size=4),
    st.lists(st.integers(0, 2**31), max_size=20),
    st.lists(st.lists(st.integers(0, 2**31), min_size=1, max_size=6), max_size=4),
)

EXTRA_NAMES = [
    "best_of", "suffix", "frequency_penalty", "presence_penalty", "logit_bias",
    "stream_options", "prompt_cache_key", "anything else",
]

requests = st.builds(
    CompletionRequest,
    model=any_text,
    prompt=prompts,
    stream=st.none() | st.booleans(),
    return_raw_tokens=st.none() | st.booleans(),
    max_tokens=st.none() | int64,
    min_tokens=st.none() | int64,
    grammar_root=st.none() | st.sampled_from(GRAMMAR_ROOTS),
    seed=st.none() | int64,
    stop=st.none() | any_text | st.lists(any_text, max_size=4),
    temperature=st.none() | finite_or_inf,
    top_p=st.none() | finite_or_inf,
    echo=st.none() | st.booleans(),
    user=st.none() | any_text,
    logprobs=st.none() | int64,
    n=st.none() | int64,
    extra=st.dictionaries(st.sampled_from(EXTRA_NAMES), json_values.filter(lambda v: v is not None), max_size=3),
)

choices = st.builds(
    Choice,
    index=st.integers(0, 64),
    text=any_text,
    tokens=st.none() | st.lists(int64, max_size=10),
    finish_reason=st.none() | st.sampled_from(["stop", "length", "content_filter"]) | small_text,
    logprobs=st.none() | st.dictionaries(small_text, json_values, max_size=4),
)

usage = st.none() | st.dictionaries(
    st.sampled_from(["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "x"]),
    json_values,
).map(Usage.from_json)
time_info = st.none() | st.dictionaries(
    st.sampled_from(["queue_time", "prompt_time", "completion_time", "total_time", "created", "y"]),
    json_values,
).map(TimeInfo.from_json)
metrics = st.none() | st.builds(
    ClientMetrics,
    time_to_first_token_s=st.none() | finite_or_inf,
    wall_time_s=st.none() | finite_or_inf,
    completion_tokens=st.none() | int64,
    client_tokens_per_s=st.none() | finite_or_inf,
    server_tokens_per_s=st.none() | finite_or_inf,
)
timestamps = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9000, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30))]),
)

# A compare lane's overrides: registry fields with values of their type.
variants = st.dictionaries(
    st.sampled_from(["model", "temperature", "seed", "max_tokens", "stop", "echo", "grammar_root"]),
    st.none(),
    max_size=3,
).flatmap(
    lambda keys: st.fixed_dictionaries(
        {
            key: {
                "model": small_text,
                "temperature": st.floats(0, 1.5),
                "seed": int64,
                "max_tokens": st.integers(1, 10**6),
                "stop": st.lists(small_text, max_size=4),
                "echo": st.booleans(),
                "grammar_root": st.sampled_from(GRAMMAR_ROOTS),
            }[key]
            for key in keys
        }
    )
)

exchanges = st.builds(
    Exchange,
    request=requests,
    status=st.sampled_from(STATUSES),
    error=st.none() | any_text,
    started_at=timestamps,
    finished_at=st.none() | timestamps,
    choices=st.lists(choices, max_size=3, unique_by=lambda choice: choice.index),
    usage=usage,
    time_info=time_info,
    metrics=metrics,
    response_id=st.none() | small_text,
    response_model=st.none() | small_text,
    response_created=st.none() | int64,
    system_fingerprint=st.none() | small_text,
    id=small_text,
    http_status=st.none() | st.integers(100, 599),
    server_message=st.none() | any_text,
    group=st.none() | small_text,
    lane=st.none(),
    variant=variants,
    label=st.none() | any_text,
).map(lambda e: _with_lane(e))


def _with_lane(exchange: Exchange) -> Exchange:
    """A lane number only where there is a group (the format requires one for the other)."""
    if exchange.group is not None:
        exchange.lane = len(exchange.id) % MAX_LANES
    return exchange

sessions = st.builds(
    Session,
    id=small_text,
    title=any_text,
    created=timestamps,
    updated=timestamps,
    profile=st.none() | any_text,
    base_url=st.none() | small_text,
    exchanges=st.lists(exchanges, max_size=3),
)
