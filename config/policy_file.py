"""The escalation policy file (config/policy.yaml, or the file `policy_file` names), validated at the edge.

config/policy.yaml is the one written-down default ladder: with `policy_file` unset the service runs
on it. The schema and its cross-field checks (steps in increasing order, the repeat after the last
step) live here, so the domain's Policy (policies/escalation.py) stays plain dataclasses that trust
their input. Errors name the field, e.g. `after_sales.steps.1.after_minutes`.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sales_assistant.core.levels import Level
from sales_assistant.core.roster import Stage
from sales_assistant.policies.escalation import Ladder, Policy, Step, Target


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
