"""The escalation ladder: how long a customer may wait before whom is told, in which colour."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.roster import Stage

MINUTE_MS = 60_000


class Level(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"
    PURPLE = "purple"
    GREY = "grey"


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


@dataclass(slots=True, frozen=True)
class Ladder:
    """Fixed steps, then a repeating step every `every_minutes` until `until_minutes`."""

    steps: tuple[Step, ...]
    repeat: Step | None = None
    every_minutes: int = 0
    until_minutes: int = 0

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

    def ladder(self, stage: Stage | str) -> Ladder:
        return self.ladders[Stage(stage)]


# --- the policy file, validated at the edge ---------------------------------------------------


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


class LadderEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[StepEntry] = Field(min_length=1)
    repeat: RepeatEntry | None = None

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
            return Ladder(steps)
        r = self.repeat
        return Ladder(steps, Step(0, r.level, tuple(r.targets)), r.every_minutes, r.until_minutes)


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pre_sales: LadderEntry
    after_sales: LadderEntry

    def to_policy(self) -> Policy:
        return Policy({Stage.PRE_SALES: self.pre_sales.to_ladder(), Stage.AFTER_SALES: self.after_sales.to_ladder()})


SEED_LADDER = {
    "steps": [
        {"after_minutes": 5, "level": "green", "targets": ["private"]},
        {"after_minutes": 10, "level": "yellow", "targets": ["private"]},
        {"after_minutes": 20, "level": "orange", "targets": ["private", "public"]},
        {"after_minutes": 30, "level": "red", "targets": ["private", "public"]},
        {"after_minutes": 40, "level": "purple", "targets": ["private", "public"]},
    ],
    "repeat": {"every_minutes": 10, "until_minutes": 1000, "level": "grey", "targets": ["private", "public"]},
}


def default_policy() -> Policy:
    """The seed system's ladder, the same for both stages."""
    return PolicyFile.model_validate({"pre_sales": SEED_LADDER, "after_sales": SEED_LADDER}).to_policy()
