"""The simulator refuses what Cerebras refuses, with Cerebras' flat error bodies."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import httpx
import pytest

from workbench.sim import SimServer
from workbench.sim.tokenizer import default_tokenizer

SimFactory = Callable[..., Awaitable[SimServer]]

MODEL = "llama3.1-8b"


async def post(
    sim: SimServer, body: Any = None, *, content: bytes | None = None, **kw: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        if content is not None:
            return await client.post("/v1/completions", content=content, **kw)
        return await client.post("/v1/completions", json=body, **kw)


def assert_flat_error(response: httpx.Response, status: int, param: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "type", "param", "code"}
    assert body["param"] == param
    assert body["message"]
    return body


INVALID_BODIES = [
    ({"prompt": "x"}, "model"),
    ({"model": "", "prompt": "x"}, "model"),
    ({"model": MODEL, "prompt": 5}, "prompt"),
    ({"model": MODEL, "prompt": []}, "prompt"),
    ({"model": MODEL, "prompt": ["a", 1]}, "prompt"),
    ({"model": MODEL, "prompt": [1, -2]}, "prompt"),
    ({"model": MODEL, "prompt": [[1], []]}, "prompt"),
    ({"model": MODEL, "prompt": "x", "stream": "yes"}, "stream"),
    ({"model": MODEL, "prompt": "x", "echo": 1}, "echo"),
    ({"model": MODEL, "prompt": "x", "max_tokens": 0}, "max_tokens"),
    ({"model": MODEL, "prompt": "x", "max_tokens": 2.5}, "max_tokens"),
    ({"model": MODEL, "prompt": "x", "min_tokens": -2}, "min_tokens"),
    ({"model": MODEL, "prompt": "x", "min_tokens": 10, "max_tokens": 5}, "min_tokens"),
    ({"model": MODEL, "prompt": "x", "grammar_root": "tree"}, "grammar_root"),
    ({"model": MODEL, "prompt": "x", "seed": 2**63}, "seed"),
    ({"model": MODEL, "prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"model": MODEL, "prompt": "x", "stop": ""}, "stop"),
    ({"model": MODEL, "prompt": "x", "stop": [1]}, "stop"),
    ({"model": MODEL, "prompt": "x", "temperature": 1.6}, "temperature"),
    ({"model": MODEL, "prompt": "x", "temperature": "hot"}, "temperature"),
    ({"model": MODEL, "prompt": "x", "top_p": 1.01}, "top_p"),
    ({"model": MODEL, "prompt": "x", "top_p": -0.1}, "top_p"),
    ({"model": MODEL, "prompt": "x", "echo": True, "return_raw_tokens": True}, "echo"),
    ({"model": MODEL, "prompt": "x", "user": 7}, "user"),
    ({"model": MODEL, "prompt": "x", "logprobs": 21}, "logprobs"),
    ({"model": MODEL, "prompt": "x", "n": 0}, "n"),
]


@pytest.mark.parametrize(("body", "param"), INVALID_BODIES)
async def test_invalid_field_is_a_400_naming_it(
    sim: SimServer, body: dict[str, Any], param: str
) -> None:
    result = assert_flat_error(await post(sim, body), 400, param)
    assert result["type"] == "invalid_request_error"


async def test_null_fields_count_as_absent(sim: SimServer) -> None:
    response = await post(
        sim, {"model": MODEL, "prompt": "It", "max_tokens": None, "stop": None, "seed": None}
    )
    assert response.status_code == 200


async def test_token_ids_outside_the_vocabulary_are_refused(sim: SimServer) -> None:
    vocab = default_tokenizer().vocab_size
    assert_flat_error(await post(sim, {"model": MODEL, "prompt": [1, vocab]}), 400, "prompt")


async def test_context_length_is_enforced(sim: SimServer) -> None:
    too_many = assert_flat_error(
        await post(sim, {"model": MODEL, "prompt": "It is", "max_tokens": 8191}), 400, "max_tokens"
    )
    assert too_many["code"] == "context_length_exceeded"
    fits = await post(sim, {"model": MODEL, "prompt": "It", "max_tokens": 8191, "stream": True})
    assert fits.status_code == 200
    long_prompt = " Bennet" * 8192
    assert_flat_error(await post(sim, {"model": MODEL, "prompt": long_prompt}), 400, "prompt")


async def test_malformed_json_and_non_object_bodies(sim: SimServer) -> None:
    headers = {"content-type": "application/json"}
    assert_flat_error(await post(sim, content=b'{"model": ', headers=headers), 400, None)
    assert_flat_error(await post(sim, content=b"\xff\xfe", headers=headers), 400, None)
    assert_flat_error(await post(sim, [1, 2]), 400, None)


async def test_unknown_model_is_a_404(sim: SimServer) -> None:
    body = assert_flat_error(await post(sim, {"model": "gpt-9", "prompt": "x"}), 404, "model")
    assert body == {
        "message": "Model gpt-9 does not exist or you do not have access to it.",
        "type": "not_found_error",
        "param": "model",
        "code": "model_not_found",
    }
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        assert (await client.get("/v1/models/gpt-9")).status_code == 404


async def test_unknown_path_and_wrong_method(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        for path in ("/completions", "/v1/v1/completions", "/v2/models"):
            assert_flat_error(await client.post(path, json={}), 404, None)
        assert_flat_error(await client.get("/v1/completions"), 405, None)


async def test_api_key_is_required_when_set(sim_factory: SimFactory) -> None:
    sim = await sim_factory(api_key="sk-right")
    body = {"model": MODEL, "prompt": "It", "max_tokens": 2}
    wrong_key = {
        "message": "Wrong API Key",
        "type": "invalid_request_error",
        "param": "api_key",
        "code": "wrong_api_key",
    }
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        missing = await client.post("/v1/completions", json=body)
        wrong = await client.post(
            "/v1/completions", json=body, headers={"authorization": "Bearer sk-wrong"}
        )
        models = await client.get("/v1/models")
        right = await client.post(
            "/v1/completions", json=body, headers={"authorization": "Bearer sk-right"}
        )
        right_models = await client.get("/v1/models", headers={"authorization": "Bearer sk-right"})
    for response in (missing, wrong, models):
        assert response.status_code == 401
        assert response.json() == wrong_key
    assert right.status_code == 200 and right_models.status_code == 200


async def test_requests_are_recorded(sim: SimServer) -> None:
    await post(sim, {"model": MODEL, "prompt": "It", "max_tokens": 2}, headers={"X-Trace": "t1"})
    (recorded,) = sim.requests
    assert (recorded.method, recorded.path) == ("POST", "/v1/completions")
    assert recorded.headers["x-trace"] == "t1"
    assert recorded.body == {"model": MODEL, "prompt": "It", "max_tokens": 2}
