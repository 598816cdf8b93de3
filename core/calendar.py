"""Business calendars: when a team is at work, and clocks that count only those minutes.

A calendar is a week of opening ranges per weekday (several a day), a set of statutory days off with
their make-up workdays (China's 调休, handed in as data by config/calendars.py), and overrides by date.
The arithmetic works on epoch milliseconds and never reads a clock: "today" is an argument wherever
it matters. Ranges are local wall times in the calendar's zone, so a day keeps its hours across a
daylight-saving change.

Definitions the clocks rely on (ranges are half-open, [opening, closing)):
- elapsed(a, b): the open milliseconds in [a, b); additive: elapsed(a, b) + elapsed(b, c) = elapsed(a, c).
- add(t, n): the first open instant u >= t with elapsed(t, u) = n. A threshold met exactly at closing is
  therefore due at the next opening: a business clock never fires while the calendar is closed, and
  add(t, elapsed(t, u)) = u for every open u >= t.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sales_assistant.core.timeutil import zone

DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Range = tuple[int, int]  # minutes of the local day, [start, end), 0 <= start < end <= 1440


class Calendar(Protocol):
    """What a clock needs of a calendar; a BusinessCalendar, or WALL that counts every minute."""

    def is_open(self, t_ms: int) -> bool: ...

    def next_open(self, t_ms: int) -> int: ...

    def elapsed(self, a_ms: int, b_ms: int) -> int: ...

    def add(self, t_ms: int, business_ms: int) -> int: ...


class WallCalendar:
    """Every minute counts: the clock of `clock: wall` stages, and of everything before calendars existed."""

    __slots__ = ()

    def is_open(self, t_ms: int) -> bool:
        return True

    def next_open(self, t_ms: int) -> int:
        return t_ms

    def elapsed(self, a_ms: int, b_ms: int) -> int:
        return max(0, b_ms - a_ms)

    def add(self, t_ms: int, business_ms: int) -> int:
        return t_ms + max(0, business_ms)


WALL = WallCalendar()


@dataclass(frozen=True)
class BusinessCalendar:
    """A team's working hours. Built and checked by config/calendars.py; trusts its input."""

    timezone: str
    week: tuple[tuple[Range, ...], ...]  # Monday first, seven entries
    dates: tuple[tuple[date, tuple[Range, ...]], ...] = ()  # overrides by date: they win over everything
    days_off: frozenset[date] = frozenset()  # statutory holidays (holidays: cn)
    workdays: frozenset[date] = frozenset()  # make-up workdays (调休): they keep `workday_hours`
    known_years: frozenset[int] = frozenset()  # the years the holiday data covers
    holidays: str = "none"  # "cn" or "none": whether a year without data is a gap to warn about
    # Per local day, its open intervals in epoch ms: computed once each, arithmetic walks days not minutes.
    _days: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict, init=False, repr=False,
                                                          compare=False, hash=False)
    _overrides: dict[date, tuple[Range, ...]] = field(default_factory=dict, init=False, repr=False,
                                                      compare=False, hash=False)

    def __post_init__(self) -> None:
        self._overrides.update(self.dates)

    # --- which hours a day has ------------------------------------------------------------------

    @property
    def workday_hours(self) -> tuple[Range, ...]:
        """The hours of a make-up workday: those of the week's first day with hours (usually Monday)."""
        return next((ranges for ranges in self.week if ranges), ())

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        if day in self._overrides:
            return self._overrides[day]
        if day in self.workdays:
            return self.workday_hours
        if day in self.days_off:
            return ()
        return self.week[day.weekday()]

    def missing_years(self, today: date) -> list[int]:
        """Years whose holidays are unknown and that matter now: this year, and from December the next.
        A year counts as known when the holiday data covers it or `dates:` names any of its days."""
        if self.holidays == "none":
            return []
        given = {d.year for d, _ in self.dates}
        years = [today.year, today.year + 1] if today.month == 12 else [today.year]
        return [y for y in years if y not in self.known_years and y not in given]

    # --- arithmetic -------------------------------------------------------------------------------

    def is_open(self, t_ms: int) -> bool:
        return any(s <= t_ms < e for s, e in self._intervals(self._local_day(t_ms)))

    def next_open(self, t_ms: int) -> int:
        return self.add(t_ms, 0)

    def elapsed(self, a_ms: int, b_ms: int) -> int:
        if b_ms <= a_ms:
            return 0
        total = 0
        day, last = self._local_day(a_ms), self._local_day(b_ms)
        while day <= last:
            for s, e in self._intervals(day):
                lo, hi = max(s, a_ms), min(e, b_ms)
                if hi > lo:
                    total += hi - lo
            day += 1
        return total

    def add(self, t_ms: int, business_ms: int) -> int:
        left = max(0, business_ms)
        day = self._local_day(t_ms)
        while True:  # ends: the week has hours (checked at load) and overrides and holidays are finite
            for s, e in self._intervals(day):
                if e <= t_ms:
                    continue
                start = max(s, t_ms)
                if left < e - start:  # strictly: a threshold met at closing is due at the next opening
                    return start + left
                left -= e - start
            day += 1

    # --- internals --------------------------------------------------------------------------------

    def _local_day(self, t_ms: int) -> int:
        return datetime.fromtimestamp(t_ms / 1000, zone(self.timezone)).date().toordinal()

    def _intervals(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        day = date.fromordinal(ordinal)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone(self.timezone))
        out = []
        for start, end in self.ranges_on(day):
            # Wall-time arithmetic on an aware datetime: 09:00 stays 09:00 on a daylight-saving day.
            s = int((midnight + timedelta(minutes=start)).timestamp() * 1000)
            e = int((midnight + timedelta(minutes=end)).timestamp() * 1000)
            if e > s:
                out.append((s, e))
        self._days[ordinal] = result = tuple(out)
        return result


__all__ = ["DAY_MINUTES", "WALL", "WEEKDAYS", "BusinessCalendar", "Calendar", "Range", "WallCalendar"]
