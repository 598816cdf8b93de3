"""Priority of a waiting room: who should be answered first, and why.

Alerts and the today list are ordered by `score()`; every point it gives comes with a `Reason`, so
the Lark card and the dashboard can say why a room ranks where it does. One point is worth one
minute of waiting, which keeps the weights easy to reason about ("退款 counts as 12 minutes").
Pure code: no I/O, no clocks; the caller passes the minutes waited.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.roster import Stage
from policies.escalation import Level

T = TypeVar("T")

# A customer text is scanned up to here: the ask sits near the start, and a pasted 100k-char log
# must not cost more than a normal message.
SCAN_CHARS = 2_000

_LEVEL_ZH = {Level.GREEN: "绿色", Level.YELLOW: "黄色", Level.ORANGE: "橙色", Level.RED: "红色",
             Level.PURPLE: "紫色", Level.GREY: "灰色"}


@dataclass(frozen=True, slots=True)
class Reason:
    """One contributing factor, as a line a person can read."""

    code: str
    points: float
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Priority:
    score: float
    reasons: tuple[Reason, ...]  # by points, highest first
    waited_minutes: float | None = None  # rank()'s tie-break

    def explain(self, lang: str = "zh") -> str:
        return ("; " if lang == "en" else "；").join(r.text(lang) for r in self.reasons)


@dataclass(frozen=True, slots=True)
class Topic:
    """Words of one kind; finding any of them adds `points` once, however often they appear."""

    points: float
    words: tuple[str, ...]


# code -> (zh label, en label) of each topic's reason line.
_TOPIC_LABELS = {
    "urgent": ("客户提到", "customer mentions"),
    "price": ("询问价格", "asks about price"),
    "contract": ("涉及合同", "about the contract"),
    "payment": ("涉及付款", "about payment"),
}


@dataclass(frozen=True)
class PriorityRules:
    """The weights, in minutes of waiting they are worth."""

    # Any open clock outranks a room nobody waits in, even at minute 0.
    open_clock: float = 1.0
    # Linear, so a minute counts the same at minute 3 as at minute 30; capped because past two hours
    # every ladder is at its last colour and more minutes should not bury a fresh 投诉 forever
    # (rank() still puts the longer wait first on equal scores).
    per_minute: float = 1.0
    wait_cap_minutes: float = 120.0
    # Pre-sales customers leave for a competitor; after-sales ones usually stay and wait.
    pre_sales: float = 10.0
    # The colour reached mostly repeats the minutes, but ladders differ per stage, so it says how late
    # this wait is by the team's own standard: a small nudge on top, never the main term.
    levels: Mapping[Level, float] = field(default_factory=lambda: MappingProxyType({
        Level.GREEN: 0.0, Level.YELLOW: 1.0, Level.ORANGE: 2.0, Level.RED: 3.0, Level.PURPLE: 4.0,
        Level.GREY: 5.0}))
    # 退款 / 投诉 is a customer about to be lost: about 12 minutes of waiting.
    urgent: Topic = Topic(12.0, ("急", "着急", "尽快", "马上", "赶紧", "立刻", "催", "投诉", "退款", "退货",
                                 "退钱", "差评", "骗", "生气", "失望", "不满意", "取消订单", "12315"))
    # Not a bare 贵: 贵公司 / 贵司 is how B2B customers say "your company".
    price: Topic = Topic(6.0, ("价格", "多少钱", "报价", "优惠", "折扣", "打折", "费用", "价钱", "太贵", "贵了",
                               "便宜"))
    contract: Topic = Topic(6.0, ("合同", "签约", "签合同", "协议", "发票", "盖章"))
    payment: Topic = Topic(8.0, ("付款", "支付", "转账", "打款", "到账", "汇款", "账单", "扣款", "收款", "对公"))
    question: float = 3.0  # a ？ in the waiting texts: someone expects an answer

    @classmethod
    def from_mapping(cls, d: Mapping[str, object] | None) -> PriorityRules:
        """The `priority:` section of a config file; keys left out keep their defaults.

        Raises pydantic.ValidationError naming the bad field.
        """
        return PriorityFile.model_validate(d or {}).to_rules()

    def topics(self) -> dict[str, Topic]:
        return {"urgent": self.urgent, "price": self.price, "contract": self.contract, "payment": self.payment}


DEFAULT_RULES = PriorityRules()


def score(rules: PriorityRules, *, waited_minutes: float | None, stage: Stage | str, texts: Sequence[str | None],
          level: Level | str | None = None) -> Priority:
    """How urgently a room needs an answer; `texts` are the customer's messages of the open clock."""
    if waited_minutes is None:
        return Priority(0.0, (Reason("not_waiting", 0.0, "无等待", "not waiting"),))
    minutes = waited_minutes if waited_minutes > 0 else 0.0  # also maps NaN and clock skew to 0
    reasons = [_waiting(rules, minutes)]
    if Stage(stage) is Stage.PRE_SALES:
        reasons.append(Reason("stage", rules.pre_sales, "售前群优先", "pre-sales first"))
    if level is not None:
        lv = Level(level)
        reasons.append(Reason("level", rules.levels.get(lv, 0.0), f"已到{_LEVEL_ZH[lv]}提醒", f"alert reached {lv.value}"))
    scanned = "\n".join(t[:SCAN_CHARS] for t in texts or () if t)
    for code, topic in rules.topics().items():
        found = _found(topic.words, scanned)
        if found:
            zh, en = _TOPIC_LABELS[code]
            reasons.append(Reason(code, topic.points, f"{zh}：{'、'.join(found)}", f"{en}: {', '.join(found)}"))
    if "?" in scanned or "？" in scanned:
        reasons.append(Reason("question", rules.question, "客户在提问", "customer asks a question"))
    kept = sorted((r for r in reasons if r.points > 0), key=lambda r: -r.points)  # stable: ties keep this order
    return Priority(round(sum(r.points for r in kept), 3), tuple(kept), minutes)


def rank(items: Iterable[T], key: Callable[[T], Priority]) -> list[tuple[T, Priority]]:
    """Highest score first; equal scores: the longer wait, then the input order."""
    scored = [(item, key(item)) for item in items]
    return sorted(scored, key=lambda p: (-p[1].score, -_wait(p[1])))  # sorted() is stable: input order last


def _wait(p: Priority) -> float:
    return -math.inf if p.waited_minutes is None else p.waited_minutes


def _waiting(rules: PriorityRules, minutes: float) -> Reason:
    points = rules.open_clock + rules.per_minute * min(minutes, rules.wait_cap_minutes)
    whole = int(min(minutes, 10**9))
    if whole < 1:
        return Reason("waiting", points, "客户刚发消息", "customer just wrote")
    if whole < 60:
        return Reason("waiting", points, f"客户已等待 {whole} 分钟", f"waiting {whole} min")
    h, m = divmod(whole, 60)
    return Reason("waiting", points, f"客户已等待 {h} 小时 {m} 分钟", f"waiting {h} h {m} min")


def _found(words: tuple[str, ...], text: str) -> list[str]:
    """The words that occur, deduplicated, in order of first appearance."""
    if not text:
        return []
    return list(dict.fromkeys(m.group(0).lower() for m in _pattern(words).finditer(text)))


@lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so 取消订单 is reported as itself rather than as nothing or a shorter word.
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)


# --- the `priority:` config section, validated at the edge --------------------------------------

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
            pre_sales=self.pre_sales, levels=MappingProxyType({**d.levels, **self.levels}),
            urgent=self.urgent.merged(d.urgent), price=self.price.merged(d.price),
            contract=self.contract.merged(d.contract), payment=self.payment.merged(d.payment),
            question=self.question)
