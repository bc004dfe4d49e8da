"""The simulator's completions endpoint over real loopback sockets, read with plain httpx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from workbench.api.request import SEED_MODELS
from workbench.sim import SimServer
from workbench.sim.tokenizer import default_tokenizer

MODEL = "llama3.1-8b"
RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-requests-day",
    "x-ratelimit-limit-tokens-minute",
    "x-ratelimit-remaining-requests-day",
    "x-ratelimit-remaining-tokens-minute",
    "x-ratelimit-reset-requests-day",
    "x-ratelimit-reset-tokens-minute",
)


async def complete(sim: SimServer, **body: Any) -> dict[str, Any]:
    body.setdefault("model", MODEL)
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        response = await client.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def stream_events(sim: SimServer, **body: Any) -> list[Any]:
    """Every `data:` payload of a streamed completion, JSON-decoded except `[DONE]`."""
    body.setdefault("model", MODEL)
    body["stream"] = True
    events: list[Any] = []
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream("POST", "/v1/completions", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    payload = line[len("data: ") :]
                    events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def streamed_text(events: list[Any], index: int = 0) -> str:
    return "".join(
        choice["text"]
        for event in events
        if isinstance(event, dict)
        for choice in event["choices"]
        if choice["index"] == index
    )


async def test_response_has_the_cerebras_shape(sim: SimServer) -> None:
    result = await complete(sim, prompt="It is a truth", max_tokens=12, seed=1)
    assert result["id"].startswith("chatcmpl-")
    assert result["object"] == "text_completion"
    assert result["model"] == MODEL
    assert result["system_fingerprint"].startswith("fp_")
    (choice,) = result["choices"]
    assert choice["index"] == 0 and choice["text"]
    assert choice["finish_reason"] in ("stop", "length")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    time_info = result["time_info"]
    assert set(time_info) == {
        "queue_time",
        "prompt_time",
        "completion_time",
        "total_time",
        "created",
    }
    assert time_info["total_time"] >= time_info["completion_time"] >= 0


async def test_usage_counts_match_the_tokenizer(sim: SimServer) -> None:
    tokenizer = default_tokenizer()
    prompt = "My dear Mr. Bennet, “have you heard?” — naïve 😀"
    result = await complete(sim, prompt=prompt, max_tokens=30, seed=5)
    assert result["usage"]["prompt_tokens"] == len(tokenizer.encode(prompt))
    text = result["choices"][0]["text"]
    # The completion is whole tokens, so re-encoding its text counts the same tokens.
    assert result["usage"]["completion_tokens"] == len(tokenizer.encode(text))


async def test_same_seed_same_text_and_different_seed_differs(sim: SimServer) -> None:
    first = await complete(sim, prompt="It is", max_tokens=60, seed=42)
    again = await complete(sim, prompt="It is", max_tokens=60, seed=42)
    other = [await complete(sim, prompt="It is", max_tokens=60, seed=s) for s in (1, 2, 3)]
    assert first["choices"][0]["text"] == again["choices"][0]["text"]
    assert any(o["choices"][0]["text"] != first["choices"][0]["text"] for o in other)


async def test_temperature_zero_is_greedy_whatever_the_seed(sim: SimServer) -> None:
    texts = {
        (await complete(sim, prompt="Mr. Bennet", max_tokens=40, temperature=0, seed=s))["choices"][
            0
        ]["text"]
        for s in (1, 2, 3)
    }
    assert len(texts) == 1


async def test_stream_text_equals_the_non_streamed_text(sim: SimServer) -> None:
    body = {"prompt": "It is a truth", "max_tokens": 80, "seed": 9}
    whole = await complete(sim, **body)
    events = await stream_events(sim, **body)
    assert events[-1] == "[DONE]"
    first, last = events[0], events[-2]
    assert first["choices"][0]["text"] == "" and first["choices"][0]["finish_reason"] is None
    assert last["choices"][0]["text"] == ""
    assert last["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]
    assert last["usage"] == whole["usage"]
    assert "time_info" in last
    assert all("usage" not in event for event in events[:-2])
    assert streamed_text(events) == whole["choices"][0]["text"]
    assert len({event["id"] for event in events[:-1]}) == 1


async def test_stop_sequence_is_cut_and_excluded(sim: SimServer) -> None:
    # Greedy from this prompt reproduces the book, which soon says "daughters".
    free = await complete(sim, prompt="It is a truth", max_tokens=200, temperature=0)
    assert "daughters" in free["choices"][0]["text"]
    result = await complete(
        sim, prompt="It is a truth", max_tokens=200, temperature=0, stop=["daughters", "zzz"]
    )
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "daughters" not in choice["text"]
    assert free["choices"][0]["text"].startswith(choice["text"] + "daughters")


async def test_max_tokens_ends_with_length(sim: SimServer) -> None:
    result = await complete(sim, prompt="It is", max_tokens=7, min_tokens=7, seed=3)
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 7


async def test_min_tokens_minus_one_fills_to_max_tokens(sim: SimServer) -> None:
    results = [
        await complete(sim, prompt="fretfully.", max_tokens=300, min_tokens=-1, seed=s)
        for s in range(3)
    ]
    assert all(r["usage"]["completion_tokens"] == 300 for r in results)
    assert all(r["choices"][0]["finish_reason"] == "length" for r in results)


async def test_natural_end_is_stop(sim: SimServer) -> None:
    # The last sentence of the text is followed by end-of-text: greedy decoding ends there.
    result = await complete(sim, prompt="amusement,” replied Kitty", max_tokens=50, temperature=0)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["text"] == " fretfully."


async def test_echo_prepends_the_prompt(sim: SimServer) -> None:
    prompt = "It is a truth"
    plain = await complete(sim, prompt=prompt, max_tokens=20, seed=4)
    echoed = await complete(sim, prompt=prompt, max_tokens=20, seed=4, echo=True)
    assert echoed["choices"][0]["text"] == prompt + plain["choices"][0]["text"]
    events = await stream_events(sim, prompt=prompt, max_tokens=20, seed=4, echo=True)
    assert streamed_text(events) == echoed["choices"][0]["text"]


async def test_raw_tokens_decode_to_the_text(sim: SimServer) -> None:
    tokenizer = default_tokenizer()
    plain = await complete(sim, prompt="It is", max_tokens=25, seed=8)
    raw = await complete(sim, prompt="It is", max_tokens=25, seed=8, return_raw_tokens=True)
    choice = raw["choices"][0]
    assert choice["text"] == ""
    assert tokenizer.decode(choice["tokens"]) == plain["choices"][0]["text"]
    events = await stream_events(sim, prompt="It is", max_tokens=25, seed=8, return_raw_tokens=True)
    streamed = [t for e in events[:-1] for c in e["choices"] for t in (c["tokens"] or [])]
    assert streamed == choice["tokens"]


async def test_batch_prompts_give_one_choice_each_matching_single_requests(sim: SimServer) -> None:
    prompts = ["It is a truth", "Mr. Bennet", "“My dear"]
    batch = await complete(sim, prompt=prompts, max_tokens=15, seed=11)
    assert [c["index"] for c in batch["choices"]] == [0, 1, 2]
    for index, prompt in enumerate(prompts):
        single = await complete(sim, prompt=prompt, max_tokens=15, seed=11)
        assert batch["choices"][index]["text"] == single["choices"][0]["text"]
    tokenizer = default_tokenizer()
    assert batch["usage"]["prompt_tokens"] == sum(len(tokenizer.encode(p)) for p in prompts)
    events = await stream_events(sim, prompt=prompts, max_tokens=15, seed=11)
    for index in range(3):
        assert streamed_text(events, index) == batch["choices"][index]["text"]


async def test_n_gives_several_choices(sim: SimServer) -> None:
    result = await complete(sim, prompt="It is", max_tokens=30, seed=2, n=3)
    assert [c["index"] for c in result["choices"]] == [0, 1, 2]
    assert len({c["text"] for c in result["choices"]}) > 1


async def test_token_id_prompts_are_decoded(sim: SimServer) -> None:
    tokenizer = default_tokenizer()
    ids = tokenizer.encode("It is a truth")
    by_text = await complete(sim, prompt="It is a truth", max_tokens=15, seed=6, echo=True)
    by_ids = await complete(sim, prompt=ids, max_tokens=15, seed=6, echo=True)
    assert by_ids["choices"][0]["text"] == by_text["choices"][0]["text"]
    assert by_ids["usage"]["prompt_tokens"] == len(ids)
    batches = await complete(sim, prompt=[ids, ids[:2]], max_tokens=5, seed=6)
    assert len(batches["choices"]) == 2


async def test_logprobs_have_the_openai_legacy_shape(sim: SimServer) -> None:
    result = await complete(sim, prompt="It is", max_tokens=20, seed=1, logprobs=3)
    choice = result["choices"][0]
    logprobs = choice["logprobs"]
    count = result["usage"]["completion_tokens"]
    assert set(logprobs) == {"tokens", "token_logprobs", "top_logprobs", "text_offset"}
    assert "".join(logprobs["tokens"]) == choice["text"]
    assert len(logprobs["token_logprobs"]) == len(logprobs["top_logprobs"]) == count
    assert all(lp <= 0 for lp in logprobs["token_logprobs"])
    assert all(1 <= len(top) <= 3 for top in logprobs["top_logprobs"])
    offsets = logprobs["text_offset"]
    assert offsets[0] == 0
    assert all(
        offsets[i + 1] == offsets[i] + len(logprobs["tokens"][i]) for i in range(len(offsets) - 1)
    )
    plain = await complete(sim, prompt="It is", max_tokens=20, seed=1)
    assert plain["choices"][0]["logprobs"] is None


async def test_prompt_cache_reports_cached_tokens_on_resend(sim: SimServer) -> None:
    prompt = "It is a truth universally acknowledged. " * 60  # > 256 tokens
    first = await complete(sim, prompt=prompt, max_tokens=1)
    again = await complete(sim, prompt=prompt, max_tokens=1)
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    cached = again["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0 and cached % 128 == 0 and cached < again["usage"]["prompt_tokens"]


async def test_rate_limit_headers_on_every_response_and_budget_decreases(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        responses = [
            await client.post(
                "/v1/completions", json={"model": MODEL, "prompt": "It", "max_tokens": 20}
            ),
            await client.post(
                "/v1/completions", json={"model": MODEL, "prompt": "It", "max_tokens": 20}
            ),
            await client.get("/v1/models"),
            await client.post("/v1/completions", json={"model": "nope", "prompt": "x"}),
        ]
    for response in responses:
        for name in RATE_LIMIT_HEADERS:
            float(response.headers[name])
    first, second = responses[0].headers, responses[1].headers
    assert int(second["x-ratelimit-remaining-requests-day"]) < int(
        first["x-ratelimit-remaining-requests-day"]
    )
    assert int(second["x-ratelimit-remaining-tokens-minute"]) < int(
        first["x-ratelimit-remaining-tokens-minute"]
    )


async def test_models_list_is_the_seed_list(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        response = await client.get("/v1/models")
        single = await client.get(f"/v1/models/{MODEL}")
        warming = await client.get("/v1/tcp_warming")
    body = response.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == list(SEED_MODELS)
    assert all(m["object"] == "model" and "created" in m and "owned_by" in m for m in body["data"])
    assert single.json()["id"] == MODEL
    assert warming.status_code == 200


@pytest.mark.parametrize("model", SEED_MODELS)
async def test_every_listed_model_completes(sim: SimServer, model: str) -> None:
    result = await complete(sim, model=model, prompt="It", max_tokens=3)
    assert result["model"] == model


@pytest.mark.parametrize("stop", [" other of", "ersally ack", "daughters.", "“"])
async def test_stop_spanning_tokens_is_cut_the_same_streamed_or_not(
    sim: SimServer, stop: str
) -> None:
    body = {"prompt": "It is a truth", "max_tokens": 200, "temperature": 0}
    free = (await complete(sim, **body))["choices"][0]["text"]
    assert stop in free
    expected = free[: free.index(stop)]
    whole = await complete(sim, **body, stop=[stop], logprobs=1)
    assert whole["choices"][0]["text"] == expected
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert "".join(whole["choices"][0]["logprobs"]["tokens"]) == expected
    events = await stream_events(sim, **body, stop=[stop])
    assert streamed_text(events) == expected
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


async def test_tiny_top_p_keeps_only_the_most_likely_token(sim: SimServer) -> None:
    greedy = await complete(sim, prompt="Mr. Bennet", max_tokens=40, temperature=0)
    for seed in (1, 2):
        nucleus = await complete(sim, prompt="Mr. Bennet", max_tokens=40, top_p=1e-6, seed=seed)
        assert nucleus["choices"][0]["text"] == greedy["choices"][0]["text"]


async def test_min_tokens_postpones_the_natural_end(sim: SimServer) -> None:
    prompt = "amusement,” replied Kitty"  # greedy ends after " fretfully."
    result = await complete(sim, prompt=prompt, max_tokens=50, min_tokens=20, temperature=0)
    assert result["usage"]["completion_tokens"] >= 20
    assert result["choices"][0]["text"].startswith(" fretfully.")


async def test_without_max_tokens_the_default_and_the_context_bound_the_length(
    sim_factory: Any,
) -> None:
    sim = await sim_factory(models={"tiny": 64, MODEL: 8192})
    tokenizer = default_tokenizer()
    filled = await complete(sim, model="tiny", prompt="It is", min_tokens=-1)
    assert filled["usage"]["completion_tokens"] == 64 - len(tokenizer.encode("It is"))
    assert filled["choices"][0]["finish_reason"] == "length"
    default = await complete(sim, prompt="It is", min_tokens=256, seed=1)
    assert default["usage"]["completion_tokens"] == 256  # the default max_tokens
    longer = await complete(sim, prompt="It is", min_tokens=300, seed=1)
    assert longer["usage"]["completion_tokens"] >= 300  # min_tokens is honoured past it
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        listed = (await client.get("/v1/models")).json()
    assert [m["id"] for m in listed["data"]] == ["tiny", MODEL]
