"""Replay against the simulator (real loopback sockets), the CLI, and the API-key guarantee."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.cli import main
from workbench.sessions.model import Exchange, Session, utc_now
from workbench.sessions.replay import (
    ReplayOverrides,
    parse_assignment,
    replay_as_session,
    replay_session,
)
from workbench.sessions.store import SessionStore
from workbench.sim import SimServer, ThreadedSim

KEY = "sk-live-THIS-MUST-NEVER-BE-SAVED-42"


async def record(client: CompletionClient, session: Session, request: CompletionRequest) -> None:
    """What the app does: run a request, then append the exchange to the session."""
    started = utc_now()
    result = await client.collect(request)
    session.exchanges.append(
        Exchange.from_outcome(request, result, started_at=started, finished_at=utc_now())
    )


def requests() -> list[CompletionRequest]:
    return [
        CompletionRequest(model="llama3.1-8b", prompt="Once upon a time", seed=11, max_tokens=30, stream=True),
        CompletionRequest(model="llama3.1-8b", prompt=["first", "second"], seed=12, max_tokens=12, temperature=0.7),
        CompletionRequest(model="qwen-3-32b", prompt=[1, 2, 3], seed=13, max_tokens=8, return_raw_tokens=True),
    ]


def make_session(base_url: str, store: SessionStore, api_key: str | None = None) -> Path:
    session = Session.new(title="replay me", profile="default", base_url=base_url)

    async def run() -> None:
        endpoint = Endpoint.from_env(base_url=base_url, api_key=api_key, environ={})
        async with CompletionClient(endpoint) as client:
            for request in requests():
                await record(client, session, request)

    asyncio.run(run())
    return store.save(session).path


def test_api_key_never_appears_in_the_session_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    with ThreadedSim(rate=None, api_key=KEY) as sim:
        path = make_session(sim.base_url, store, api_key=KEY)
        assert sim.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert KEY.encode() not in file.read_bytes(), file
    saved = store.load(path)
    assert [e.status for e in saved.exchanges] == ["complete"] * 3
    assert saved.exchanges[2].choices[0].tokens  # raw tokens kept


async def test_replay_with_seed_on_the_sim_matches_exactly(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    async with SimServer(rate=None) as sim:
        session = Session.new(title="seeded", base_url=sim.base_url)
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            for request in requests():
                await record(client, session, request)
            store.save(session)
            steps = [step async for step in replay_session(store.load(session.id), client)]
            assert [(s.index, s.total, s.verdict) for s in steps] == [
                (0, 3, "same"), (1, 3, "same"), (2, 3, "same")
            ]
            assert all(step.diff() == "" for step in steps)

            changed = ReplayOverrides(fields={"seed": 999})
            steps = [step async for step in replay_session(session, client, changed)]
            assert steps[0].verdict == "different"
            assert steps[0].diff().startswith("--- exchange 1 saved\n+++ exchange 1 replayed\n")
            assert sim.requests[-1].body["seed"] == 999

    replayed = replay_as_session(session, steps)
    assert replayed.title == "seeded (replay)" and len(replayed.exchanges) == 3


async def test_replay_records_api_errors_and_goes_on(tmp_path: Path) -> None:
    async with SimServer(rate=None) as sim:
        session = Session.new()
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint, max_retries=0) as client:
            await record(client, session, CompletionRequest(model="llama3.1-8b", prompt="a", seed=1, max_tokens=5))
            await record(client, session, CompletionRequest(model="llama3.1-8b", prompt="b", seed=2, max_tokens=5))
            steps = [
                s async for s in replay_session(session, client, ReplayOverrides(model="no-such-model"))
            ]
    assert [s.replayed.status for s in steps] == ["error", "error"]
    assert "no-such-model" in (steps[0].replayed.error or "")
    assert all(not s.same for s in steps)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("temperature=0.2", ("temperature", 0.2)),
        ("stop=[\"\\n\"]", ("stop", ["\n"])),
        ("model=llama-3.3-70b", ("model", "llama-3.3-70b")),
        ("seed=", ("seed", None)),
        ("echo=true", ("echo", True)),
    ],
)
def test_assignments_read_json_values_or_text(text: str, expected: tuple) -> None:
    assert parse_assignment(text) == expected


def test_cli_replay_check_and_sessions_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SessionStore(tmp_path)
    with ThreadedSim(rate=None) as sim:
        path = make_session(sim.base_url, store)
        base = ["--sessions-dir", str(tmp_path), "--base-url", sim.base_url]
        capsys.readouterr()

        assert main(["replay", str(path), "--check", *base]) == 0
        captured = capsys.readouterr()
        assert "exchange 3 of 3: same" in captured.err and captured.out == ""

        assert main(["replay", str(path), "--check", "--set", "seed=4242", "--save", *base]) == 1
        captured = capsys.readouterr()
        assert "--- exchange 1 saved" in captured.out and "+++ exchange 1 replayed" in captured.out
        assert "saved the replay as" in captured.err

        assert main(["replay", str(path), "--set", "temperature=9", *base]) == 2
        assert "temperature" in capsys.readouterr().err

    assert main(["sessions", "--sessions-dir", str(tmp_path), "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert sorted(item["title"] for item in listing) == ["replay me", "replay me (replay)"]

    session_id = store.load(path).id
    assert main(["sessions", "show", session_id, "--sessions-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "# replay me" in shown and "## exchange 3 — complete" in shown

    assert main(["sessions", "show", "nope", "--sessions-dir", str(tmp_path)]) == 2


def test_cli_replay_set_refuses_an_unknown_field_with_the_nearest_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SessionStore(tmp_path)
    with ThreadedSim(rate=None) as sim:
        path = make_session(sim.base_url, store)
        sent_before = len(sim.requests)
        code = main(["replay", str(path), "--set", "temprature=0.2", "--sessions-dir", str(tmp_path), "--base-url", sim.base_url])
        assert len(sim.requests) == sent_before  # nothing was sent
    assert code == 2
    err = capsys.readouterr().err
    assert "temprature" in err and "did you mean 'temperature'" in err and err.count("\n") == 1


def test_parse_assignment_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="did you mean 'seed'"):
        parse_assignment("sed=3")


async def _bad_request_exchange(client: CompletionClient, *, rendered_by_the_tui: bool) -> Exchange:
    """A request the simulator refuses with 400 (a token id outside its vocabulary), saved as
    the TUI saves it (its own rendering, no structure) or as replay does (structured)."""
    from workbench.api.errors import APIStatusError

    request = CompletionRequest(model="llama3.1-8b", prompt=[10**9], max_tokens=5, seed=1)
    try:
        await client.collect(request)
    except APIStatusError as error:
        if rendered_by_the_tui:
            text = f"{error.label} (HTTP {error.status_code}): {error.message}"
            return Exchange.from_outcome(request, None, status="error", error=text)
        text = error.message + " (gave up after 3 attempts)"  # another rendering, same error
        return Exchange.from_outcome(request, None, status="error", error=text, failure=error)
    raise AssertionError("the simulator accepted a token id outside its vocabulary")


@pytest.mark.parametrize("rendered_by_the_tui", [True, False])
async def test_replay_check_compares_errors_by_status_and_server_message(
    tmp_path: Path, rendered_by_the_tui: bool
) -> None:
    async with SimServer(rate=None) as sim:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint, max_retries=0) as client:
            saved = Session.new(title="a 400")
            saved.exchanges.append(await _bad_request_exchange(client, rendered_by_the_tui=rendered_by_the_tui))
            assert saved.exchanges[0].error.startswith("bad request (HTTP 400): Bad request (400)") == rendered_by_the_tui
            [step] = [s async for s in replay_session(saved, client)]
            assert step.replayed.http_status == 400 and "vocabulary" in (step.replayed.server_message or "")
            assert step.same and step.diff() == ""
            # A different error is still a difference.
            other = ReplayOverrides(model="no-such-model")
            [step] = [s async for s in replay_session(saved, client, other)]
            assert not step.same and "HTTP 404" in step.diff()


def record_compare_group(client_session: Session, results: list, group: str = "cmp-1") -> None:
    """Lanes as the compare view saves them: one exchange per lane, sharing ``group``."""
    for lane, (variant, request, result) in enumerate(results):
        exchange = Exchange.from_outcome(request, result)
        exchange.group, exchange.lane, exchange.variant = group, lane, variant
        exchange.label = None if lane == 0 else "cooler"
        client_session.exchanges.append(exchange)


def test_replay_check_resends_every_lane_of_a_compare_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.api.fields import apply_overrides, check_overrides

    store = SessionStore(tmp_path)
    base = CompletionRequest(model="llama3.1-8b", prompt="Compare me", seed=5, max_tokens=16, stream=True)
    variants = [check_overrides({"model": "llama3.1-8b"}), check_overrides({"model": "qwen-3-32b", "temperature": 0.2})]
    with ThreadedSim(rate=None) as sim:
        session = Session.new(title="compare run", base_url=sim.base_url)

        async def run() -> list:
            endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
            async with CompletionClient(endpoint) as client:
                await record(client, session, CompletionRequest(model="llama3.1-8b", prompt="before", seed=1, max_tokens=8))
                results = []
                for variant in variants:
                    request = apply_overrides(base, variant)
                    assert request.validate() == []
                    results.append((variant, request, await client.collect(request)))
                return results

        record_compare_group(session, asyncio.run(run()))
        path = store.save(session).path
        capsys.readouterr()
        argv = ["replay", str(path), "--check", "--sessions-dir", str(tmp_path), "--base-url", sim.base_url]
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "exchange 2 of 3 (lane 1: model=llama3.1-8b): same" in err
        assert "exchange 3 of 3 (lane 2: cooler): same" in err
        lane_bodies = [r.body for r in sim.requests[-2:]]
        assert [b["model"] for b in lane_bodies] == ["llama3.1-8b", "qwen-3-32b"]
        assert lane_bodies[1]["temperature"] == 0.2

        # A recording that no longer matches one lane: --check fails and names that lane.
        loaded = store.load(path)
        loaded.exchanges[2].choices[0].text += " (edited)"
        loaded.title = "edited lane"
        store.save(loaded)
        assert main([*argv, "--save"]) == 1
        captured = capsys.readouterr()
        assert "--- exchange 3 (lane 2: cooler) saved" in captured.out
        assert "exchange 3 of 3 (lane 2: cooler): different" in captured.err
    saved_replay = [s for s in store.list() if s.title.endswith("(replay)")]
    replayed = store.load(saved_replay[0].path)
    assert [(e.group, e.lane, e.variant) for e in replayed.exchanges] == [
        (None, None, {}), ("cmp-1", 0, variants[0]), ("cmp-1", 1, variants[1])
    ]
