"""Epoch milliseconds inside; ISO-8601 with offset and business-time-zone days at the edges.

Every function takes the zone as an argument: the service's zone is `timezone` in the settings
(config/settings.py), its one home, and is passed down from there.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_QUARTER_HOUR_MS = 900_000  # every real time zone offset is a multiple of 15 minutes


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def known_zone(name: str) -> str:
    """`name` if it is an IANA time zone this machine knows; ValueError naming it otherwise."""
    try:
        zone(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError; a folder's name an OSError
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
    return name


def iso(ts_ms: int, tz: str) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, zone(tz)).isoformat(timespec="seconds")


def parse_iso(text: str, tz: str) -> int:
    """ISO-8601 to epoch ms; a time without offset is read in the business time zone."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return int(moment.timestamp() * 1000)


@lru_cache(maxsize=65_536)
def _day_of_quarter(quarter: int, tz: str) -> str:
    return datetime.fromtimestamp(quarter * _QUARTER_HOUR_MS / 1000, zone(tz)).date().isoformat()


def day_of(ts_ms: int, tz: str) -> str:
    """The business day (YYYY-MM-DD) a moment falls on."""
    return _day_of_quarter(ts_ms // _QUARTER_HOUR_MS, tz)


@lru_cache(maxsize=65_536)
def _hour_of_quarter(quarter: int, tz: str) -> int:
    return datetime.fromtimestamp(quarter * _QUARTER_HOUR_MS / 1000, zone(tz)).hour


def hour_of(ts_ms: int, tz: str) -> int:
    """The local hour of day (0-23) a moment falls in."""
    return _hour_of_quarter(ts_ms // _QUARTER_HOUR_MS, tz)


def today(now_ms: int, tz: str) -> date:
    return date.fromisoformat(day_of(now_ms, tz))


def days(first: date, last: date) -> list[str]:
    if last < first:
        raise ValueError(f"date range ends ({last}) before it starts ({first})")
    return [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]


def day_start(day: date, tz: str) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone(tz)).timestamp() * 1000)


def onto_local_day(first_ms: int, now_ms: int, tz: str) -> int:
    """How far to move a recorded day, whose first moment is `first_ms`, so that it falls on the local
    date of `now_ms` at the same local times of day: a replay then shows the morning in the morning.
    When `now_ms` is earlier in its day than that first moment (a demo started at 03:00), the day before:
    the whole day is then past. Whole local days, so no moment changes its local time of day."""
    recorded, here = today(first_ms, tz), today(now_ms, tz)
    target = here if first_ms + day_start(here, tz) - day_start(recorded, tz) <= now_ms else here - timedelta(1)
    return day_start(target, tz) - day_start(recorded, tz)
