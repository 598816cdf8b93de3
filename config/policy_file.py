"""The escalation policy file (config/policy.yaml, or the file `policy_file` names), validated at the edge.

config/policy.yaml is the one written-down default ladder: with `policy_file` unset the service runs
on it. The schema and its cross-field checks (steps in increasing order, the repeat after the last
step) live here, so the domain's Policy (policies/escalation.py) stays plain dataclasses that trust
their input. Errors name the field, e.g. `after_sales.steps.1.after_minutes`. The `calendars:` entries
are checked by config/calendars.py; whether each team they name exists needs the roster (`check_teams`).
"""
from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sales_assistant.config.calendars import CalendarEntry
from sales_assistant.core.levels import Level
from sales_assistant.core.roster import Roster, Stage
from sales_assistant.policies.escalation import DEFAULT_TEAM, ClockKind, Ladder, Policy, Step, Target

MAX_IDLE_DAYS = 3650


class StepEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_minutes: int = Field(gt=0, le=100_000)
    level: Level
    targets: list[Target] = Field(min_length=1)


class RepeatEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every_minutes: int = Field(gt=0, le=100_000)
    until_minutes: int = Field(gt=0, le=1_000_000)
    level: Level
    targets: list[Target] = Field(min_length=1)


class FollowupEntry(BaseModel):
    """`followup: {idle_days: N}`: remind the owner of a room silent for N calendar days."""

    model_config = ConfigDict(extra="forbid")
    idle_days: int = Field(gt=0, le=MAX_IDLE_DAYS)


class LadderEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clock: ClockKind = ClockKind.WALL
    steps: list[StepEntry] = Field(min_length=1)
    repeat: RepeatEntry | None = None
    followup: FollowupEntry | None = None

    @model_validator(mode="after")
    def _increasing(self) -> LadderEntry:
        minutes = [s.after_minutes for s in self.steps]
        for i in range(1, len(minutes)):
            if minutes[i] <= minutes[i - 1]:
                raise ValueError(f"steps[{i}].after_minutes: must be greater than the step before ({minutes[i - 1]})")
        if self.repeat and self.repeat.until_minutes <= minutes[-1]:
            raise ValueError("repeat.until_minutes: must come after the last step")
        return self

    def to_ladder(self) -> Ladder:
        steps = tuple(Step(s.after_minutes, s.level, tuple(s.targets)) for s in self.steps)
        if self.repeat is None:
            return Ladder(steps, clock=self.clock)
        r = self.repeat
        return Ladder(steps, Step(0, r.level, tuple(r.targets)), r.every_minutes, r.until_minutes, self.clock)


TEAM_NAME = re.compile(r"^[^\s/\\]{1,64}$")  # a roster `team` value: what names a calendar


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calendars: dict[str, CalendarEntry] = Field(default_factory=dict, max_length=1000)
    pre_sales: LadderEntry
    after_sales: LadderEntry

    @model_validator(mode="after")
    def _calendars(self) -> PolicyFile:
        for team in self.calendars:
            if not TEAM_NAME.match(team):
                raise ValueError(f"calendars.{team}: a team name is 1 to 64 characters without spaces or slashes")
        if self.calendars and DEFAULT_TEAM not in self.calendars:
            raise ValueError(f"calendars.{DEFAULT_TEAM}: missing; it is the calendar of every team without its own")
        for stage in Stage:
            if getattr(self, stage.value).clock is ClockKind.BUSINESS and not self.calendars:
                raise ValueError(f"{stage.value}.clock: business needs a calendars: section with a default calendar")
        return self

    def to_policy(self) -> Policy:
        ladders = {stage: getattr(self, stage.value).to_ladder() for stage in Stage}
        followups = {stage: entry.followup.idle_days for stage in Stage
                     if (entry := getattr(self, stage.value)).followup is not None}
        return Policy(ladders, {team: entry.to_calendar() for team, entry in self.calendars.items()}, followups)


def check_teams(policy: Policy, roster: Roster, source: str) -> None:
    """ValueError naming `calendars.<team>` for a calendar whose team no staff member of the roster is in:
    a misspelt team would otherwise silently fall back to the default calendar."""
    teams = {member.team for member in roster.staff.values()} | {DEFAULT_TEAM}
    for team in policy.calendars:
        if team not in teams:
            known = ", ".join(sorted(teams))
            raise ValueError(f"{source}: calendars.{team}: unknown team (the roster's teams: {known})")
