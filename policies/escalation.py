"""The escalation ladder: how long a customer may wait before whom is told, in which colour.

The rules only: the ladder a service runs with is data (config/policy.yaml, or the file `policy_file`
names), validated once at start-up by config/policy_file.py and handed in as a `Policy`. A stage's
ladder counts wall minutes or, with `clock: business`, only the minutes inside its owner's team
calendar (core/calendar.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from sales_assistant.core.calendar import WALL, BusinessCalendar, Calendar
from sales_assistant.core.levels import Level
from sales_assistant.core.roster import Stage
from sales_assistant.core.timeutil import today

MINUTE_MS = 60_000


DEFAULT_TEAM = "default"  # the team of staff the roster gives none, and the calendar of teams without their own


class ClockKind(str, Enum):
    WALL = "wall"  # every minute counts
    BUSINESS = "business"  # only the minutes inside the owner's team calendar


class Target(str, Enum):
    PRIVATE = "private"  # the owner's private Lark group
    PUBLIC = "public"  # the team's public group


@dataclass(slots=True, frozen=True)
class Step:
    after_minutes: int
    level: Level
    targets: tuple[Target, ...]

    @property
    def after_ms(self) -> int:
        return self.after_minutes * MINUTE_MS


class Rung(NamedTuple):
    """A step as alerts carry it: plain values, prepared once per ladder."""

    after_ms: int
    level: str  # the Level's value
    targets: tuple[str, ...]  # the Targets' values


def _rung_of(step: Step) -> Rung:
    return Rung(step.after_ms, step.level.value, tuple(t.value for t in step.targets))


@dataclass(slots=True, frozen=True)
class Ladder:
    """Fixed steps, then a repeating step every `every_minutes` until `until_minutes`."""

    steps: tuple[Step, ...]
    repeat: Step | None = None
    every_minutes: int = 0
    until_minutes: int = 0
    clock: ClockKind = ClockKind.WALL
    # The fixed steps as the supervisor reads them per alert (see `rung`), prepared once.
    _rungs: tuple[Rung, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rungs", tuple(_rung_of(s) for s in self.steps))

    def rung(self, index: int) -> Rung | None:
        """`step(index)` as plain values: (after_ms, level value, target values). A burst fires tens of thousands of
        alerts, and reads prepared tuples instead of building a Step and converting its enums for each."""
        if index < len(self._rungs):
            return self._rungs[index]
        step = self.step(index)
        return None if step is None else _rung_of(step)

    def step(self, index: int) -> Step | None:
        """The index-th alert of a clock, or None when the ladder is exhausted."""
        if index < len(self.steps):
            return self.steps[index]
        if self.repeat is None:
            return None
        n = index - len(self.steps) + 1
        last = self.steps[-1].after_minutes if self.steps else 0
        after = last + n * self.every_minutes
        if after > self.until_minutes:
            return None
        return Step(after, self.repeat.level, self.repeat.targets)


@dataclass(slots=True, frozen=True)
class Policy:
    ladders: dict[Stage, Ladder]
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)  # team -> calendar; DEFAULT_TEAM's too
    followup_days: dict[Stage, int] = field(default_factory=dict)  # stage -> idle calendar days before a follow-up

    def ladder(self, stage: Stage | str) -> Ladder:
        # A Stage hashes as its value, so either finds the ladder without an enum lookup (asked per alert).
        ladder = self.ladders.get(stage)
        return ladder if ladder is not None else self.ladders[Stage(stage)]

    def calendar_of(self, team: str | None) -> BusinessCalendar | None:
        """A team's calendar: its own, else the default one; None when the file has no calendars."""
        return self.calendars.get(team or DEFAULT_TEAM) or self.calendars.get(DEFAULT_TEAM)

    def clock_of(self, stage: Stage | str, team: str | None) -> Calendar:
        """What the stage's thresholds count in, for a room whose owner is in `team`."""
        if self.ladder(stage).clock is ClockKind.WALL:
            return WALL
        calendar = self.calendar_of(team)
        return WALL if calendar is None else calendar  # the file's check refuses business without a calendar

    def holiday_gaps(self, now_ms: int) -> dict[str, list[int]]:
        """team -> the years whose statutory holidays its calendar does not know and that matter at `now_ms`
        (this year, and from December the next): doctor, /api/health and the dashboard warn of them. Only
        while some clock or follow-up counts in a calendar: calendars nothing uses need no warning."""
        if not (self.counts_business or self.followup_days):
            return {}
        gaps = {team: cal.missing_years(today(now_ms, cal.timezone)) for team, cal in self.calendars.items()}
        return {team: years for team, years in sorted(gaps.items()) if years}

    @property
    def counts_business(self) -> bool:
        return any(ladder.clock is ClockKind.BUSINESS for ladder in self.ladders.values())
