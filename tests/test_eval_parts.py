"""The eval pieces without a server: the adaptive limiter, the results file, the TOML locator."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.types import RateLimits
from workbench.eval.limiter import AdaptiveLimiter
from workbench.eval.locate import KeyLines
from workbench.eval.results import CellRecord, ResultsFile, read_results


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_429_halves_the_limit_and_pauses_everyone_then_successes_raise_it_again() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(8, clock=clock)
    limiter.rate_limited(1.5)
    assert (limiter.limit, limiter.waits, limiter.pause_left) == (4, 1, 1.5)
    limiter.rate_limited(0.5)  # a shorter wait never shortens the pause already set
    assert (limiter.limit, limiter.pause_left) == (2, 1.5)
    limiter.rate_limited(900)  # a silly Retry-After is capped
    assert limiter.limit == 1 and limiter.pause_left == 60.0
    clock.now += 60
    for _ in range(1 + 2 + 3):  # a run of `limit` successes raises the limit by one
        limiter.succeeded(None, 20)
    assert limiter.limit == 4
    for _ in range(100):
        limiter.succeeded(None, 20)
    assert limiter.limit == 8  # never above what the user asked for


def test_an_exhausted_token_quota_pauses_until_its_reset() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(4, clock=clock)
    plenty = RateLimits(remaining_tokens_minute=10_000, reset_tokens_minute_s=30.0)
    limiter.succeeded(plenty, 256)
    assert limiter.pause_left == 0 and limiter.waits == 0
    low = RateLimits(remaining_tokens_minute=100, reset_tokens_minute_s=12.5)
    limiter.succeeded(low, 256)
    assert limiter.pause_left == 12.5 and limiter.waits == 1


async def test_acquire_waits_for_a_free_slot() -> None:
    limiter = AdaptiveLimiter(1)
    await limiter.acquire()
    second = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    assert not second.done() and limiter.in_flight == 1
    await limiter.release()
    await asyncio.wait_for(second, timeout=5)
    assert limiter.in_flight == 1


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=60, deadline=None)
@given(outputs=st.lists(texts, min_size=1, max_size=3), error=st.none() | texts, prompt=texts)
def test_results_files_read_back_exactly(tmp_path_factory, outputs, error, prompt) -> None:
    record = CellRecord(
        case="c", variant="v", digest="sha256:0", status="error" if error is not None else "pass",
        request={"model": "m", "prompt": prompt, "stop": ["\n\n", "\r\n"], "max_tokens": 5},
        outputs=outputs, finish_reasons=["stop"], usage={"completion_tokens": 3},
        metrics={"ttft_s": 0.25, "tokens_per_s": 1234.5678}, failures=[{"assertion": 'contains "x"', "message": prompt}],
        error=error, error_kind="api" if error is not None else None,
    )  # fmt: skip
    results = ResultsFile("e.toml", "t", [record], True, datetime(2026, 1, 1, tzinfo=timezone.utc), cells_planned=1)
    path = tmp_path_factory.mktemp("results") / "r.toml"
    path.write_bytes(results.to_bytes())
    (back,) = read_results(path).records
    assert back == record


def test_key_lines_survive_strings_and_comments_that_look_like_structure() -> None:
    text = (
        'a = "[[cases]] # not a header"\n'
        "b = '''\n[[cases]]\nx = 1\n'''\n"
        '"quoted key" = [ # comment [\n  1, "]", { c = "}" },\n  { d = 2 },\n]\n'
        "[[cases]]\n"
        'name = "one"\n'
        "e.f = 3\n"
    )
    tomllib.loads(text)
    lines = KeyLines(text)
    assert lines.line("a") == 1 and lines.line("b") == 2
    assert lines.line("quoted key") == 6
    assert lines.line("quoted key", 2, "c") == 7 and lines.line("quoted key", 3, "d") == 8
    assert lines.line("cases", 0) == 10 and lines.line("cases", 0, "name") == 11
    assert lines.line("cases", 0, "e", "f") == 12
    assert lines.line("cases", 0, "missing") == 10  # the nearest known ancestor
    assert lines.line("nowhere") == 1


keys = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True) | st.sampled_from(["quoted key", "a.b", "é"])
scalars = st.one_of(st.integers(), st.booleans(), st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False))
tables = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda inner: st.dictionaries(keys, st.one_of(scalars, inner, st.lists(inner, min_size=1, max_size=3), st.lists(scalars, max_size=3)), max_size=4),
    max_leaves=20,
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,), item
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield from _paths(item, prefix + (index,))


@settings(max_examples=80, deadline=None)
@given(tables, st.booleans())
def test_every_key_of_any_document_is_found_on_a_line_that_names_it(document, multiline) -> None:
    import tomli_w

    text = tomli_w.dumps(document, multiline_strings=multiline)
    lines = KeyLines(text)
    rows = text.split("\n")  # TOML lines end at \n only (not at U+0085, as splitlines would)
    for path, _value in _paths(document):
        name = path[-1]
        line = rows[lines.line(*path) - 1]
        assert isinstance(name, str) and (name in line or repr(name)[1:-1] in line), (path, line, text)
