"""docs/session-format.md shows a real session file, made by the code against the simulator.

Regenerate the example with ``.venv/bin/python tests/test_sessions_docs.py``.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.api.client import CompletionClient  # noqa: E402
from workbench.api.endpoint import Endpoint  # noqa: E402
from workbench.api.errors import WorkbenchAPIError  # noqa: E402
from workbench.api.fields import apply_overrides, check_overrides  # noqa: E402
from workbench.api.request import CompletionRequest  # noqa: E402
from workbench.api.types import TextDelta  # noqa: E402
from workbench.sessions.codec import decode, encode  # noqa: E402
from workbench.sessions.model import Exchange, Session  # noqa: E402

EXAMPLE = ROOT / "docs" / "session-example.toml"
DOC = ROOT / "docs" / "session-format.md"


def build_example() -> bytes:
    """Real exchanges against the simulator: streamed text with logprobs, a batch of token-id
    prompts, a stream cancelled after a few chunks, a request that failed, and a compare run
    of two lanes saved as one group."""
    from workbench.sim import ThreadedSim

    clock = [datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)]

    def tick() -> datetime:
        clock[0] += timedelta(seconds=1, milliseconds=250)
        return clock[0]

    session = Session(
        id="20261125-180000-000-3fa9c1",
        title="Example: a poem, token ids, a cancelled stream",
        created=clock[0],
        updated=clock[0],
        profile="default",
    )
    with ThreadedSim(rate=None) as sim:
        session.base_url = "https://api.cerebras.ai"  # what a real session records

        async def run() -> None:
            endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
            async with CompletionClient(endpoint) as client:
                first = CompletionRequest(
                    model="llama3.1-8b",
                    prompt='Write two lines about a "quiet" harbor:\n',
                    max_tokens=24,
                    temperature=0.7,
                    top_p=0.9,
                    seed=42,
                    stop=["\n\n\n"],
                    logprobs=2,
                    stream=True,
                )
                started = tick()
                result = await client.collect(first)
                session.exchanges.append(Exchange.from_outcome(first, result, started_at=started, finished_at=tick()))

                second = CompletionRequest(
                    model="qwen-3-32b", prompt=[[101, 202], [303, 404]], max_tokens=6, seed=7,
                    return_raw_tokens=True,
                )
                started = tick()
                result = await client.complete(second)
                session.exchanges.append(Exchange.from_outcome(second, result, started_at=started, finished_at=tick()))

                third = CompletionRequest(model="llama3.1-8b", prompt="Count slowly:", max_tokens=200, seed=3, stream=True)
                started = tick()
                chunks = 0
                stream = client.stream(third)
                try:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            chunks += 1
                            if chunks == 5:
                                break  # what Esc does in the app
                finally:
                    partial = stream.partial
                    await stream.aclose()
                session.exchanges.append(
                    Exchange.from_outcome(third, partial, status="cancelled", started_at=started, finished_at=tick())
                )
                # And an exchange that failed before any output.
                fourth = CompletionRequest(model="no-such-model", prompt="hi", max_tokens=4)
                started = tick()
                try:
                    await client.complete(fourth)
                except WorkbenchAPIError as error:
                    session.exchanges.append(
                        Exchange.from_outcome(
                            fourth, error.partial, status="error", error=str(error),
                            started_at=started, finished_at=tick(), failure=error,
                        )
                    )
                # A compare run: the same prompt, two variants, one exchange per lane.
                base = CompletionRequest(model="llama3.1-8b", prompt="Name a colour:", max_tokens=6, seed=9, stream=True)
                started = tick()  # the lanes run at the same time
                finished = tick()
                for lane, variant in enumerate([{"model": "llama3.1-8b"}, {"model": "qwen-3-32b", "temperature": 0.2}]):
                    request = apply_overrides(base, check_overrides(variant))
                    result = await client.collect(request)
                    exchange = Exchange.from_outcome(request, result, started_at=started, finished_at=finished)
                    exchange.group, exchange.lane, exchange.variant = "cmp-1", lane, variant
                    exchange.label = "cooler qwen" if lane else None
                    session.exchanges.append(exchange)

        asyncio.run(run())
    # Metrics are wall-clock measurements: pin them so the example does not churn.
    for exchange in session.exchanges:
        exchange.id = f"ex-{session.exchanges.index(exchange) + 1}"
        exchange.response_created = 1764093600 if exchange.response_created is not None else None
        if exchange.metrics is not None:
            from workbench.api.types import ClientMetrics

            exchange.metrics = ClientMetrics(
                time_to_first_token_s=0.081 if exchange.metrics.time_to_first_token_s is not None else None,
                wall_time_s=0.212,
                completion_tokens=exchange.metrics.completion_tokens,
                client_tokens_per_s=2150.0 if exchange.metrics.client_tokens_per_s is not None else None,
                server_tokens_per_s=2384.5 if exchange.metrics.server_tokens_per_s is not None else None,
            )
        exchange.time_info = None if exchange.time_info is None else type(exchange.time_info).from_json(
            {"queue_time": 4.7e-05, "prompt_time": 0.00049, "completion_time": 0.01, "total_time": 0.012, "created": 1764093600}
        )
        if exchange.response_id:
            exchange.response_id = "chatcmpl-0b6f3c2e-5d1a-4c8e-9f0a-" + exchange.id
    session.updated = clock[0]
    for exchange in session.exchanges:
        if exchange.error:
            exchange.error = re.sub(r"http://127\.0\.0\.1:\d+", "https://api.cerebras.ai", exchange.error)
    return encode(session)


def test_example_file_is_a_valid_session_covering_every_status() -> None:
    session = decode(EXAMPLE.read_bytes())
    assert [e.status for e in session.exchanges] == ["complete", "complete", "cancelled", "error", "complete", "complete"]
    assert session.exchanges[3].http_status == 404 and session.exchanges[3].server_message
    assert [(e.group, e.lane) for e in session.exchanges[4:]] == [("cmp-1", 0), ("cmp-1", 1)]
    assert session.exchanges[0].choices[0].logprobs
    assert session.exchanges[1].choices[0].tokens
    assert session.exchanges[2].choices[0].text  # the partial text is kept
    assert encode(session) == EXAMPLE.read_bytes()


def test_documentation_embeds_the_example_verbatim() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block is not None and block.group(1) == EXAMPLE.read_text(encoding="utf-8")


def _key_paths(value: object, prefix: str = "") -> set[str]:
    """Every key path in a TOML document (list items collapsed), values ignored."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {f"{prefix}.{key}"} | _key_paths(item, f"{prefix}.{key}")
        return paths
    if isinstance(value, list):
        return set().union(*(_key_paths(item, prefix + "[]") for item in value)) if value else set()
    return set()


def test_the_example_has_the_shape_the_code_writes_today() -> None:
    # The simulator's text may change; the format the example documents must not drift.
    fresh = tomllib.loads(build_example().decode())
    stored = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert _key_paths(fresh) == _key_paths(stored)
    assert len(fresh["exchanges"]) == len(stored["exchanges"])


if __name__ == "__main__":
    EXAMPLE.write_bytes(build_example())
    doc = DOC.read_text(encoding="utf-8")
    DOC.write_text(
        re.sub(r"```toml\n.*?```", lambda _: "```toml\n" + EXAMPLE.read_text(encoding="utf-8") + "```", doc, count=1, flags=re.S),
        encoding="utf-8",
    )
    print(f"wrote {EXAMPLE} and its copy in {DOC}")
