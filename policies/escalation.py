"""The escalation ladder: how long a customer may wait before whom is told, in which colour.

The rules only: the ladder a service runs with is data (config/policy.yaml, or the file `policy_file`
names), validated once at start-up by config/policy_file.py and handed in as a `Policy`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sales_assistant.core.levels import Level
from sales_assistant.core.roster import Stage

MINUTE_MS = 60_000


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
