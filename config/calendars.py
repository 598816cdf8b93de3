"""The `calendars:` section of the policy file, validated at the edge, and China's holiday data.

A calendar entry names its time zone, its opening ranges for each of the seven weekdays ("09:00-12:00";
several a day, none overlapping, 24:00 the latest end; `[]` closed), `holidays: cn` or `none`, and
optional overrides by date. The statutory days off and make-up workdays (调休) come from the `chinese-calendar` package,
read once here and handed to core/calendar.py as plain dates; a year the package does not know is
not guessed: it counts its weekly hours only, and `missing_years` tells doctor, /api/health and the
dashboard to warn (from the December before) until `dates:` gives that year's days.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from sales_assistant.core.calendar import DAY_MINUTES, BusinessCalendar, Range
from sales_assistant.core.timeutil import known_zone

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
MAX_DATES = 10_000  # overrides: decades of days, not an unbounded list


def _minute(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValueError(f"{text!r}: not a time of day (00:00 to 24:00)")
    return h * 60 + m


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_ranges(texts: list[str]) -> tuple[Range, ...]:
    """["09:00-12:00", "13:30-18:30"] -> ((540, 720), (810, 1110)); ValueError naming the bad range."""
    ranges: list[Range] = []
    for text in texts:
        match = _RANGE.match(text)
        if not match:
            raise ValueError(f"{text!r}: a range is written HH:MM-HH:MM, e.g. 09:00-12:00")
        start, end = _minute(*match.group(1, 2), text), _minute(*match.group(3, 4), text)
        if not start < end <= DAY_MINUTES:
            raise ValueError(f"{text!r}: a range must end after it starts, on the same day")
        ranges.append((start, end))
    ranges.sort()
    for (s1, e1), (s2, e2) in zip(ranges, ranges[1:], strict=False):
        if s2 < e1:
            raise ValueError(f"ranges {_fmt(s1)}-{_fmt(e1)} and {_fmt(s2)}-{_fmt(e2)} overlap")
    return tuple(ranges)


DayRanges = Annotated[list[str], Field(max_length=48), AfterValidator(parse_ranges)]


class WeekEntry(BaseModel):
    """One list of ranges per weekday, every weekday written out (`[]`: closed), so a day left out by
    mistake is refused instead of silently closed. An unknown weekday is refused too."""

    model_config = ConfigDict(extra="forbid")
    mon: DayRanges
    tue: DayRanges
    wed: DayRanges
    thu: DayRanges
    fri: DayRanges
    sat: DayRanges
    sun: DayRanges

    def days(self) -> tuple[tuple[Range, ...], ...]:
        return (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)  # type: ignore[return-value]

    @model_validator(mode="after")
    def _some_hours(self) -> WeekEntry:
        # A week without hours would make a business clock wait forever.
        if not any(self.days()):
            raise ValueError("the week has no opening hours on any day")
        return self


class CalendarEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str
    week: WeekEntry
    holidays: Literal["cn", "none"]  # required: a team in China that forgot it would work through holidays
    dates: dict[date, DayRanges] = Field(default_factory=dict, max_length=MAX_DATES)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return known_zone(name)

    def to_calendar(self) -> BusinessCalendar:
        days_off, workdays, years = cn_holidays() if self.holidays == "cn" else (frozenset(), frozenset(), frozenset())
        return BusinessCalendar(self.timezone, self.week.days(), tuple(sorted(self.dates.items())),  # type: ignore[arg-type]
                                days_off, workdays, years, self.holidays)


@lru_cache(maxsize=1)
def cn_holidays() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """China's statutory days off, make-up workdays and the years the installed package covers."""
    import chinese_calendar

    # Every year the package covers has statutory days off (the Spring Festival at least): its years are
    # those of its holiday table, and a later one it does not know is not guessed.
    years = {day.year for day in chinese_calendar.holidays}
    return frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays), frozenset(years)
