"""The retry policy and backoff, checked against the official SDK's own computation."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.api.retry import (
    RetryPolicy,
    retry_after_seconds,
    retry_delay,
    should_retry_status,
)


@pytest.mark.parametrize(
    "status, retried",
    [(400, False), (401, False), (403, False), (404, False), (408, True), (409, True),
     (422, False), (429, True), (500, True), (502, True), (503, True), (599, True)],
)
def test_retried_statuses_match_the_sdk(status: int, retried: bool) -> None:
    assert should_retry_status(status, {}) is retried


def test_x_should_retry_overrides_the_status() -> None:
    assert should_retry_status(400, {"x-should-retry": "true"})
    assert not should_retry_status(503, {"x-should-retry": "false"})


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_seconds({"retry-after-ms": "50", "retry-after": "1"}) == 0.05
    assert retry_delay(0, {"retry-after-ms": "50", "retry-after": "1"}) == 0.05


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_delay(0, {"retry-after": "2"}) == 2.0
    assert retry_delay(0, {"retry-after": "1.5"}) == 1.5
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=lambda: now) == 7.0
    assert retry_delay(0, {"retry-after": date}, now=lambda: now) == 7.0


@pytest.mark.parametrize(
    "headers", [{"retry-after": "0"}, {"retry-after": "61"}, {"retry-after-ms": "-5"},
                {"retry-after": "soon"}, {"retry-after-ms": "90000"}, {}]
)
def test_out_of_range_or_unreadable_wait_falls_back_to_backoff(headers: dict) -> None:
    assert retry_delay(0, headers, random=lambda: 0.0) == 0.5
    assert retry_delay(1, headers, random=lambda: 0.0) == 1.0


def test_backoff_doubles_and_caps_at_eight_seconds_with_jitter() -> None:
    assert [retry_delay(n, random=lambda: 0.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert retry_delay(0, random=lambda: 1.0) == 0.375  # jitter takes off at most 25 %
    assert retry_delay(10_000, random=lambda: 0.0) == 8.0  # no overflow


@pytest.fixture(scope="module")
def sdk_client():
    from cerebras.cloud.sdk import Cerebras

    client = Cerebras(api_key="k", max_retries=20, warm_tcp_connection=False)
    yield client
    client.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 20), st.floats(0, 1), st.sampled_from([None, "0", "3", "120", "x"]))
def test_delay_equals_the_sdk_calculation(
    sdk_client, retries_taken: int, jitter: float, after: str | None
) -> None:
    """Same inputs through the SDK's own `_calculate_retry_timeout` give the same delay."""
    from unittest import mock

    import httpx
    from cerebras.cloud.sdk._models import FinalRequestOptions

    headers = httpx.Headers({} if after is None else {"retry-after": after})
    options = FinalRequestOptions(method="post", url="/v1/completions")
    with mock.patch("cerebras.cloud.sdk._base_client.random", lambda: jitter):
        expected = sdk_client._calculate_retry_timeout(20 - retries_taken, options, headers)
    ours = retry_delay(retries_taken, headers, random=lambda: jitter)
    assert ours == pytest.approx(expected)


def test_negative_retries_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
