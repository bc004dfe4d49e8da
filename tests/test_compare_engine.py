"""The compare engine without a screen: variants, the concurrent runner against the simulator
on a real socket (cancel one lane, a 429 on one lane), the ranking and the word diff."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.fields import parse_overrides
from workbench.api.request import CompletionRequest
from workbench.api.types import ClientMetrics, CompletionResult, Usage
from workbench.compare.diff import changed_words, lane_segments
from workbench.compare.metrics import rankings, summary_line, table_rows
from workbench.compare.runner import CompareRun, LaneState
from workbench.compare.variants import (
    Variant,
    VariantError,
    describe,
    lane_requests,
    parse_variant,
)

BASE = CompletionRequest(model="llama3.1-8b", prompt="It was a dark and stormy night", max_tokens=20)


def client_for(sim, **options) -> CompletionClient:
    return CompletionClient(Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={}), **options)


async def until(condition) -> None:
    """Poll a condition (the lanes' text has no event of its own); bounded, never a timing bet."""
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.005)


# -- variants -----------------------------------------------------------------------------------


def test_lane_request_is_base_plus_overrides_and_none_unsets() -> None:
    variants = [parse_variant("temperature=0.3,stop=END"), parse_variant("max_tokens=none,model=qwen-3-32b")]
    first, second = lane_requests(BASE, variants)
    assert first.temperature == 0.3 and first.stop == ["END"] and first.max_tokens == 20
    assert second.model == "qwen-3-32b" and second.max_tokens is None
    assert BASE.temperature is None  # the base is never changed


def test_an_invalid_combination_names_the_lane_and_field() -> None:
    with pytest.raises(VariantError) as caught:
        lane_requests(BASE, [Variant(), parse_variant("min_tokens=50")])
    assert caught.value.lane == 1 and caught.value.field == "min_tokens"
    assert str(caught.value) == "lane 2: min_tokens: must not exceed max_tokens (20)"


_values = st.one_of(
    st.builds(lambda v: f"temperature={v}", st.floats(0, 1.5).map(lambda f: round(f, 3))),
    st.builds(lambda v: f"seed={v}", st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: f"stop={v}", st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4).map(lambda l: __import__("json").dumps(l))),
    st.builds(lambda v: f"echo={v}", st.sampled_from(["true", "false"])),
    st.builds(lambda v: f"model={v}", st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,20}", fullmatch=True)),
)


@given(st.lists(_values, min_size=1, max_size=5))
def test_describe_gives_back_text_that_parses_to_the_same_overrides(parts) -> None:
    overrides = parse_overrides(",".join(parts))
    assert parse_overrides(describe(overrides)) == overrides


# -- the runner against the simulator -------------------------------------------------------------


async def test_lanes_run_at_once_and_each_records_its_result(sim) -> None:
    variants = [parse_variant("seed=1"), parse_variant("seed=2,model=qwen-3-32b")]
    run = CompareRun(lane_requests(BASE, variants), variants)
    async with client_for(sim) as client:
        lanes = await run.run(client)
    assert [lane.status for lane in lanes] == ["complete", "complete"]
    assert all(lane.text and lane.result.usage.completion_tokens <= 20 for lane in lanes)
    assert [r.body["model"] for r in sim.requests] .count("qwen-3-32b") == 1
    drained = lanes[0].take_pending()
    assert "".join(text for _, text in drained) == lanes[0].text
    assert lanes[0].take_pending() == []


async def test_cancel_one_lane_keeps_its_partial_text_and_the_other_goes_on(sim_factory) -> None:
    sim = await sim_factory(rate=200)  # slow enough that lane 1 is still streaming
    variants = [parse_variant("max_tokens=5000,min_tokens=4000"), parse_variant("max_tokens=10")]
    run = CompareRun(lane_requests(BASE, variants), variants)

    async def cancel_when_text_arrives() -> None:
        await until(lambda: run.lanes[0].text)
        assert run.cancel(0)

    async with client_for(sim) as client:
        canceller = asyncio.create_task(cancel_when_text_arrives())
        lanes = await run.run(client)
        await canceller
    assert lanes[0].status == "cancelled" and lanes[0].text
    assert lanes[1].status == "complete"
    assert run.cancel(0) is False  # already over
    assert await sim.wait_for_disconnect() >= 1


async def test_a_429_on_one_lane_waits_as_retry_after_says_while_the_other_streams(sim_factory) -> None:
    sim = await sim_factory(fault="rate-limit", fault_times=1)
    variants = [parse_variant("seed=1"), parse_variant("seed=2")]
    run = CompareRun(lane_requests(BASE, variants), variants)
    waits: list[tuple[int, float, str]] = []
    other_done = asyncio.Event()

    async def sleep(seconds: float) -> None:
        # The lane that was told to wait stays waiting until the other lane has finished.
        await other_done.wait()

    def changed(lane: LaneState) -> None:
        if lane.status == "waiting":
            waits.append((lane.index, lane.wait_s, lane.wait_reason))
        if lane.status == "complete" and waits and lane.index != waits[0][0]:
            other_done.set()

    async with client_for(sim, max_retries=2) as client:
        lanes = await run.run(client, sleep=sleep, on_change=changed)
    assert len(waits) == 1
    waited, seconds, reason = waits[0]
    assert seconds == 0.05 and reason == "rate limited (429)"  # retry-after-ms: 50
    assert lanes[waited].retries == 1
    assert [lane.status for lane in lanes] == ["complete", "complete"]


async def test_no_retries_left_records_the_429(sim_factory) -> None:
    sim = await sim_factory(fault="rate-limit")
    variants = [Variant(), parse_variant("seed=3")]
    run = CompareRun(lane_requests(BASE, variants), variants)
    async with client_for(sim, max_retries=0) as client:
        lanes = await run.run(client)
    assert [lane.status for lane in lanes] == ["error", "error"]
    assert "HTTP 429" in lanes[0].error_message


async def test_cancelling_the_whole_run_cancels_every_lane(sim_factory) -> None:
    sim = await sim_factory(rate=100)
    variants = [parse_variant("max_tokens=5000,min_tokens=4000")] * 2
    run = CompareRun(lane_requests(BASE, variants), variants)
    async with client_for(sim) as client:
        task = asyncio.create_task(run.run(client))
        await until(lambda: all(lane.text for lane in run.lanes))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [lane.status for lane in run.lanes] == ["cancelled", "cancelled"]
    assert all(lane.partial() is not None for lane in run.lanes)


async def test_non_streamed_lanes(sim) -> None:
    variants = [parse_variant("stream=false"), parse_variant("stream=true")]
    run = CompareRun(lane_requests(BASE, variants), variants)
    async with client_for(sim) as client:
        lanes = await run.run(client)
    assert all(lane.status == "complete" and lane.text for lane in lanes)
    assert [r.body["stream"] for r in sim.requests] .count(False) == 1


# -- ranking and diff --------------------------------------------------------------------------


def _finished(index: int, ttft: float, rate: float, tokens: int, text: str = "x") -> LaneState:
    lane = LaneState(index, Variant({"seed": index}), BASE)
    lane._end(
        "complete",
        CompletionResult(
            usage=Usage(completion_tokens=tokens),
            metrics=ClientMetrics(time_to_first_token_s=ttft, client_tokens_per_s=rate, wall_time_s=1.0),
        ),
    )
    lane._texts[0] = [text]
    return lane


def test_rankings_pick_winners_and_skip_failed_lanes() -> None:
    lanes = [_finished(0, 0.020, 1500, 100), _finished(1, 0.010, 2500, 40), _finished(2, 0.030, 2000, 256)]
    failed = LaneState(3, Variant(), BASE)
    failed._end("cancelled", None)
    lanes.append(failed)
    by_title = {r.title: r.order for r in rankings(lanes)}
    assert by_title == {
        "fastest first token": (1, 0, 2),
        "fastest throughput": (1, 2, 0),
        "shortest": (1, 0, 2),
        "longest": (2, 0, 1),
    }
    assert summary_line(lanes) == (
        "fastest first token: 2 (10 ms) · fastest throughput: 2 (2,500 tok/s) · "
        "shortest: 2 (40 tok) · longest: 3 (256 tok)"
    )
    assert [row[-1] for row in table_rows(lanes)] == ["3", "1", "2", "–"]


def test_word_diff_of_two_lanes_uses_the_replay_engine() -> None:
    left = _finished(0, 0.01, 1, 1, "the quick brown fox jumps")
    right = _finished(1, 0.01, 1, 1, "the slow brown fox sleeps")
    before, after = lane_segments(left, right)
    assert ("delete", "quick ") in before and ("insert", "slow ") in after
    assert "".join(t for _, t in before) == left.text and "".join(t for _, t in after) == right.text
    assert changed_words(before) == 2


# -- saved as one group, replayed lane by lane ---------------------------------------------------


async def test_a_saved_group_round_trips_and_replays_lane_by_lane(sim, tmp_path) -> None:
    from workbench.compare.saving import compare_session, groups_of
    from workbench.sessions.replay import replay_session
    from workbench.sessions.store import SessionStore

    variants = [parse_variant("seed=4"), parse_variant("seed=5,temperature=0.7"), parse_variant("model=no-such-model")]
    run = CompareRun(lane_requests(BASE, variants), variants)
    async with client_for(sim) as client:
        await run.run(client)
        store = SessionStore(tmp_path)
        path = store.save(compare_session(run, base_url=sim.base_url)).path
        loaded = store.load(path)
        assert len(groups_of(loaded)) == 1
        lanes = loaded.exchanges
        assert [e.lane for e in lanes] == [0, 1, 2] and len({e.group for e in lanes}) == 1
        assert [e.variant for e in lanes] == [{"seed": 4}, {"seed": 5, "temperature": 0.7}, {"model": "no-such-model"}]
        assert lanes[2].status == "error" and lanes[2].http_status == 404
        steps = [step async for step in replay_session(loaded, client)]
    # The failed lane fails again the same way: compared by HTTP status and server message.
    assert [step.same for step in steps] == [True, True, True]
    assert steps[2].replayed.status == "error" and steps[2].replayed.http_status == 404


def test_figure_lines_fit_a_narrow_lane() -> None:
    from workbench.compare.metrics import figure_lines

    lane = _finished(0, 0.0421, 2345.6, 256)
    lane.result.usage = Usage(prompt_tokens=12, completion_tokens=256)
    lane._finish[0] = "length"
    assert figure_lines(lane) == [
        "TTFT 42 ms · total 1.00 s",
        "client 2,346 · server – tok/s",
        "12 in + 256 out · finish length",
    ]
    assert all(len(line) <= 35 for line in figure_lines(lane))
