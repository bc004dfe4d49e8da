"""Folding chunks into a result, and the client metrics, on a fake clock."""

from __future__ import annotations

import pytest

from workbench.api.accumulate import ResultBuilder
from workbench.api.types import ChoiceFinished, RateLimits, TextDelta


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def chunk(index: int, text: str = "", finish: str | None = None, **top: object) -> dict:
    return {"id": "chatcmpl-1", "choices": [{"index": index, "text": text, "finish_reason": finish}], **top}


def test_stream_chunks_accumulate_per_choice_with_metrics() -> None:
    clock = FakeClock()
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=clock.now, clock=clock)
    clock.now = 100.2
    assert builder.add(chunk(0)) == []  # Cerebras opens with an empty chunk: not a token
    assert not builder.delivered_anything
    clock.now = 100.3
    assert builder.add(chunk(1, "B1")) == [TextDelta(index=1, text="B1")]
    clock.now = 100.4
    builder.add(chunk(0, "A1"))
    clock.now = 100.7
    events = builder.add(chunk(0, " A2", "length"))
    assert events == [TextDelta(index=0, text=" A2"), ChoiceFinished(index=0, finish_reason="length")]
    clock.now = 100.8
    events = builder.add(
        {"choices": [{"index": 1, "text": "", "finish_reason": "stop"},
                     {"index": 0, "text": "", "finish_reason": "length"}],
         "usage": {"prompt_tokens": 3, "completion_tokens": 8, "total_tokens": 11},
         "time_info": {"completion_time": 0.004}}
    )
    assert events == [ChoiceFinished(index=1, finish_reason="stop")]  # index 0 only once
    clock.now = 101.0
    result = builder.finish()
    assert [(c.index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "A1 A2", "length"), (1, "B1", "stop")]
    metrics = result.metrics
    assert metrics.time_to_first_token_s == pytest.approx(0.3)
    assert metrics.wall_time_s == pytest.approx(1.0)
    assert metrics.completion_tokens == 8
    assert metrics.client_tokens_per_s == pytest.approx(8 / 0.4)  # first to last token
    assert metrics.server_tokens_per_s == pytest.approx(2000)
    assert result.id == "chatcmpl-1" and result.usage.total_tokens == 11


def test_single_body_uses_wall_time_for_client_speed() -> None:
    clock = FakeClock()
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=clock.now, clock=clock)
    clock.now = 100.5
    builder.add({"choices": [{"index": 0, "text": "Hello", "finish_reason": "stop"}],
                 "usage": {"completion_tokens": 5}})
    metrics = builder.finish().metrics
    assert metrics.client_tokens_per_s == pytest.approx(10.0)
    assert metrics.server_tokens_per_s is None  # no time_info: nothing invented


def test_raw_tokens_and_logprobs_are_concatenated() -> None:
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0)
    builder.add({"choices": [{"index": 0, "text": "", "tokens": [1, 2],
                              "logprobs": {"tokens": ["a", "b"], "token_logprobs": [-0.1, -0.2]}}]})
    builder.add({"choices": [{"index": 0, "text": "", "tokens": [3],
                              "logprobs": {"tokens": ["c"], "token_logprobs": [-0.3]}}]})
    result = builder.finish()
    assert result.choices[0].tokens == [1, 2, 3]
    assert result.choices[0].logprobs == {"tokens": ["a", "b", "c"], "token_logprobs": [-0.1, -0.2, -0.3]}
    assert result.metrics.completion_tokens == 3  # counted from the ids when usage is missing


def test_unknown_fields_kept_and_garbage_choices_skipped() -> None:
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0)
    builder.add({"object": "text_completion", "x_new": 1, "choices": ["junk", {"text": "t"}],
                 "created": 1.7e9, "model": "m"})
    result = builder.finish()
    assert result.raw["x_new"] == 1 and result.created == 1_700_000_000 and result.model == "m"
    assert [(c.index, c.text) for c in result.choices] == [(1, "t")]  # position when no index
