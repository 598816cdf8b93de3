"""The webhook's per-token token bucket, on a clock the test steps."""
from __future__ import annotations

import pytest
from fastapi import HTTPException
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from sales_assistant.web.limits import PerTokenLimit, TokenBuckets, token_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(token: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})


def test_a_burst_passes_then_the_rate_applies():
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=2, burst=3, clock=clock)
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)  # one token back after 1/rate seconds
    clock.now += 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("k") == pytest.approx(0.5)


def test_an_idle_bucket_refills_to_the_burst_and_no_further():
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=10, burst=5, clock=clock)
    for _ in range(5):
        buckets.take("k")
    clock.now += 3600
    assert sum(buckets.take("k") == 0.0 for _ in range(20)) == 5


def test_keys_do_not_share_a_bucket():
    buckets = TokenBuckets(rate_per_s=1, burst=1, clock=Clock())
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    assert buckets.take("b") == 0.0


def test_a_clock_that_steps_back_gives_nothing_away():
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1, burst=1, clock=clock)
    buckets.take("k")
    clock.now -= 100
    assert buckets.take("k") == pytest.approx(1.0)


@pytest.mark.parametrize("rate, burst", [(0, 10), (-1, 10), (1, 0)])
def test_a_bucket_needs_a_positive_rate_and_burst(rate, burst):
    with pytest.raises(ValueError):
        TokenBuckets(rate, burst)


@settings(deadline=None, max_examples=100)
@given(rate=st.floats(0.1, 1000), burst=st.integers(1, 50),
       steps=st.lists(st.floats(0, 5), min_size=1, max_size=60))
def test_never_more_than_burst_plus_rate_times_elapsed(rate, burst, steps):
    clock = Clock()
    buckets = TokenBuckets(rate, burst, clock)
    start, allowed = clock.now, 0
    for dt in steps:
        clock.now += dt
        wait = buckets.take("k")
        assert wait >= 0
        if wait == 0:
            allowed += 1
        else:
            assert wait <= 1 / rate + 1e-9
    assert allowed <= burst + rate * (clock.now - start) + 1e-6


def test_the_dependency_answers_429_with_retry_after_and_keeps_no_raw_token():
    clock, limited = Clock(), []
    limit = PerTokenLimit(rate_per_s=0.25, burst=2, on_limited=lambda: limited.append(1), clock=clock)
    token = "ingest-secret-0123456789"
    limit(request(token))
    limit(request(token))
    with pytest.raises(HTTPException) as caught:
        limit(request(token))
    assert caught.value.status_code == 429
    assert caught.value.headers == {"Retry-After": "4"}  # a token every 4 s
    assert "请 4 秒后重试" in caught.value.detail and "retry in 4 s" in caught.value.detail
    assert limited == [1]
    assert token_key(token) in limit.buckets and token not in limit.buckets and len(limit.buckets) == 1
    assert token not in repr(vars(limit.buckets))
    clock.now += 4
    limit(request(token))


def test_rate_zero_turns_the_limit_off():
    limit = PerTokenLimit(rate_per_s=0, burst=1)
    for _ in range(1000):
        limit(request("t"))
    assert limit.buckets is None
