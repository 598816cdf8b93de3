"""The `priority:` section of the settings, validated at the edge into policies/priority.py's PriorityRules.

Every key is optional: one left out keeps its default, and a topic may override only its points or
only its words. Settings holds this model, so a bad weight fails at start-up naming the field
(`priority.urgent.points`); everyone after that receives the typed PriorityRules.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sales_assistant.core.levels import Level
from sales_assistant.policies.priority import DEFAULT_RULES, PriorityRules, Topic

Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TopicEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: Weight | None = None
    words: Annotated[list[Word], Field(min_length=1)] | None = None

    def merged(self, default: Topic) -> Topic:
        return Topic(default.points if self.points is None else self.points,
                     default.words if self.words is None else tuple(self.words))


class PriorityFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    open_clock: Annotated[float, Field(gt=0, allow_inf_nan=False)] = DEFAULT_RULES.open_clock
    per_minute: Weight = DEFAULT_RULES.per_minute
    wait_cap_minutes: Weight = DEFAULT_RULES.wait_cap_minutes
    pre_sales: Weight = DEFAULT_RULES.pre_sales
    levels: dict[Level, Weight] = Field(default_factory=dict)
    urgent: TopicEntry = TopicEntry()
    price: TopicEntry = TopicEntry()
    contract: TopicEntry = TopicEntry()
    payment: TopicEntry = TopicEntry()
    question: Weight = DEFAULT_RULES.question

    def to_rules(self) -> PriorityRules:
        d = DEFAULT_RULES
        return PriorityRules(
            open_clock=self.open_clock, per_minute=self.per_minute, wait_cap_minutes=self.wait_cap_minutes,
            pre_sales=self.pre_sales, levels={**d.levels, **self.levels},
            urgent=self.urgent.merged(d.urgent), price=self.price.merged(d.price),
            contract=self.contract.merged(d.contract), payment=self.payment.merged(d.payment),
            question=self.question)
