"""Request-rate limits for the webhook: a token bucket per bearer token.

Buckets are keyed by the token's sha256, never the token itself, so no secret sits in a dict that a
debugger, a heap dump or a log line could show. The clock is a parameter: tests step it instead of sleeping.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable

from fastapi import HTTPException, Request


class TokenBuckets:
    """Each key may spend `burst` requests at once; its bucket refills at `rate_per_s` up to `burst`."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be positive and burst at least 1")
        self.rate, self.burst, self.clock = rate_per_s, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, when counted)
        self._lock = threading.Lock()  # sync FastAPI dependencies run on a thread pool

    def take(self, key: str) -> float:
        """Spend one token: 0.0 when the request may go ahead, else the seconds until a token is back."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - then) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def __contains__(self, key: str) -> bool:
        return key in self._buckets

    def __len__(self) -> int:
        return len(self._buckets)


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PerTokenLimit:
    """A FastAPI dependency: 429 with Retry-After once a bearer token has spent its requests.

    List it after the token check, so only valid tokens get a bucket: the map then holds one entry per
    configured token however many callers try. `rate_per_s == 0` turns the limit off.
    """

    def __init__(self, rate_per_s: float, burst: int, on_limited: Callable[[], object] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.buckets = TokenBuckets(rate_per_s, burst, clock) if rate_per_s > 0 else None
        self.on_limited = on_limited

    def __call__(self, request: Request) -> None:
        if self.buckets is None:
            return
        token = request.headers.get("authorization", "").partition(" ")[2]
        wait = self.buckets.take(token_key(token))
        if not wait:
            return
        self.on_limited()
        retry = max(1, math.ceil(wait))
        rate, burst = f"{self.buckets.rate:g}", self.buckets.burst
        raise HTTPException(
            429,
            f"请求过于频繁：每个令牌每秒最多 {rate} 个请求（突发 {burst} 个），请 {retry} 秒后重试 / "
            f"too many requests for this token (at most {rate} per second, bursts of {burst}); retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
