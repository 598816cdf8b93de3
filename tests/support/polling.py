"""Waiting for something another process or thread does: poll a condition, never sleep a fixed time."""
from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(check: Callable[[], object], timeout_s: float = 30, interval_s: float = 0.02) -> bool:
    """True as soon as ``check()`` is truthy; False once ``timeout_s`` has passed without it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return False
