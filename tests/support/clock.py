"""A clock that tests step by hand, for code that takes `now()` and `wait(stop, seconds)` (actors/notifier.py)."""
from __future__ import annotations

import threading


class SteppedClock:
    """Epoch ms that move only when the test calls `set`; `wait` returns once the clock has moved far
    enough (or `stop` is set), so a minute of backoff costs no real minute."""

    def __init__(self, ms: int) -> None:
        self._ms = ms
        self._moved = threading.Condition()

    def now(self) -> int:
        with self._moved:
            return self._ms

    def set(self, ms: int) -> None:
        with self._moved:
            self._ms = max(self._ms, ms)
            self._moved.notify_all()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        with self._moved:
            until = self._ms + seconds * 1000
            while self._ms < until and not stop.is_set():
                self._moved.wait(0.05)  # woken by set(); the timeout only notices `stop`
        return stop.is_set()
