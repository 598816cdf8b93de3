"""The web service's clock: wall time, or on virtual time the latest tick, never moving back."""
from __future__ import annotations

import pytest

from sales_assistant.web.app import ServiceClock

WALL = 1_763_600_000_000


def test_a_wall_clock_tells_wall_time_and_takes_no_ticks():
    clock = ServiceClock(wall=lambda: WALL)
    assert not clock.virtual and clock.now() == WALL
    with pytest.raises(RuntimeError):
        clock.tick(WALL + 1)


def test_virtual_time_is_the_latest_tick_and_never_goes_back():
    advanced = []
    clock = ServiceClock(advance=lambda now: advanced.append(now) or 3, wall=lambda: WALL)
    assert clock.virtual and clock.now() == WALL  # before the first tick
    assert clock.tick(WALL - 60_000) == 3
    assert clock.now() == WALL - 60_000
    clock.tick(WALL - 120_000)  # a late tick reaches the supervisor, which ignores it, but not the clock
    assert clock.now() == WALL - 60_000 and advanced == [WALL - 60_000, WALL - 120_000]
