"""Priority of a waiting room: who should be answered first, and why.

Alerts and the today list are ordered by `score()`; every point it gives comes with a `Reason`, so
the Lark card and the dashboard can say why a room ranks where it does. One point is worth one
minute of waiting, which keeps the weights easy to reason about ("退款 counts as 12 minutes").
Pure code: no I/O, no clocks, no words for people; the caller passes the minutes waited, and a
reason is a stable code with its facts, which core/i18n.py turns into zh/en text.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TypeVar

from sales_assistant.core.levels import LEVELS, Level
from sales_assistant.core.roster import Stage

T = TypeVar("T")

# A customer text is scanned up to here: the ask sits near the start, and a pasted 100k-char log
# must not cost more than a normal message.
SCAN_CHARS = 2_000


class Why(str, Enum):
    """What a reason is about: the stable code every surface translates (core/i18n.py)."""

    NOT_WAITING = "not_waiting"
    WAITING = "waiting"
    STAGE = "stage"  # a pre-sales room
    LEVEL = "level"  # the colour its alert reached
    URGENT = "urgent"
    PRICE = "price"
    CONTRACT = "contract"
    PAYMENT = "payment"
    QUESTION = "question"


@dataclass(frozen=True, slots=True)
class Reason:
    """One contributing factor: its code, the points it gave, and the facts a sentence about it needs."""

    code: Why
    points: float
    minutes: int | None = None  # WAITING: whole minutes waited
    level: Level | None = None  # LEVEL
    words: tuple[str, ...] = ()  # a topic: the words found, in order of first appearance


@dataclass(frozen=True, slots=True)
class Priority:
    score: float
    reasons: tuple[Reason, ...]  # by points, highest first
    waited_minutes: float | None = None  # rank()'s tie-break


@dataclass(frozen=True, slots=True)
class Topic:
    """Words of one kind; finding any of them adds `points` once, however often they appear."""

    points: float
    words: tuple[str, ...]


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
    # this wait is by the team's own standard: a small nudge on top, never the main term. One point per
    # colour up the ladder (green 0 ... grey 5). A plain dict, not a MappingProxyType, so the rules pickle
    # into the notifier actor; nothing mutates it.
    levels: Mapping[Level, float] = field(default_factory=lambda: {
        level: float(info.rank) for level, info in LEVELS.items()})
    # 退款 / 投诉 is a customer about to be lost: about 12 minutes of waiting.
    urgent: Topic = Topic(12.0, ("急", "着急", "尽快", "马上", "赶紧", "立刻", "催", "投诉", "退款", "退货",
                                 "退钱", "差评", "骗", "生气", "失望", "不满意", "取消订单", "12315"))
    # Not a bare 贵: 贵公司 / 贵司 is how B2B customers say "your company".
    price: Topic = Topic(6.0, ("价格", "多少钱", "报价", "优惠", "折扣", "打折", "费用", "价钱", "太贵", "贵了",
                               "便宜"))
    contract: Topic = Topic(6.0, ("合同", "签约", "签合同", "协议", "发票", "盖章"))
    payment: Topic = Topic(8.0, ("付款", "支付", "转账", "打款", "到账", "汇款", "账单", "扣款", "收款", "对公"))
    question: float = 3.0  # a ？ in the waiting texts: someone expects an answer

    def topics(self) -> dict[Why, Topic]:
        return {Why.URGENT: self.urgent, Why.PRICE: self.price, Why.CONTRACT: self.contract, Why.PAYMENT: self.payment}

    @cached_property
    def _compiled(self) -> _Compiled:
        # Built on first use and kept with these rules (the rules never change): an alert burst scores
        # tens of thousands of rooms, and rebuilding the topics, their patterns and the fixed reasons
        # for each cost more than the scan itself.
        return _Compiled(self)


DEFAULT_RULES = PriorityRules()


def score(rules: PriorityRules, *, waited_minutes: float | None, stage: Stage | str, texts: Sequence[str | None],
          level: Level | str | None = None) -> Priority:
    """How urgently a room needs an answer; `texts` are the customer's messages of the open clock."""
    if waited_minutes is None:
        return NOT_WAITING
    c = rules._compiled
    minutes = waited_minutes if waited_minutes > 0 else 0.0  # also maps NaN and clock skew to 0
    return c.assemble(rules, minutes, stage, level, c.found(texts))


NOT_WAITING = Priority(0.0, (Reason(Why.NOT_WAITING, 0.0),))

Found = tuple[tuple[Why, tuple[str, ...]], ...]


def found(rules: PriorityRules, texts: Sequence[str | None] | None) -> Found:
    """All that `score` takes from the texts: each topic's words found and whether one asks. A score is a
    function of this, the minutes, the stage and the level (and the rules), so a caller may keep what it
    made of one by those, never by the text."""
    return rules._compiled.found(texts)


def rank(items: Iterable[T], key: Callable[[T], Priority]) -> list[tuple[T, Priority]]:
    """Highest score first; equal scores: the longer wait, then the input order."""
    scored = [(item, key(item)) for item in items]
    return sorted(scored, key=lambda p: (-p[1].score, -_wait(p[1])))  # sorted() is stable: input order last


def _wait(p: Priority) -> float:
    return -math.inf if p.waited_minutes is None else p.waited_minutes


def _minus_points(reason: Reason) -> float:
    return -reason.points


class _Compiled:
    """What `score` needs of a set of rules, prepared once: each topic's pattern and the reasons that are
    the same for every room (a Reason is immutable, so one object serves them all)."""

    __slots__ = ("topics", "points", "pre_sales", "question", "levels", "pre_sales_of")

    def __init__(self, rules: PriorityRules) -> None:
        self.topics = tuple((code, _pattern(topic.words)) for code, topic in rules.topics().items())
        self.points = {code: topic.points for code, topic in rules.topics().items()}
        self.pre_sales = Reason(Why.STAGE, rules.pre_sales)
        self.question = Reason(Why.QUESTION, rules.question)
        # Keyed by the members, which as str enums also answer to their values ("yellow", "pre_sales").
        self.levels = {lv: Reason(Why.LEVEL, rules.levels.get(lv, 0.0), level=lv) for lv in Level}
        self.pre_sales_of = {stage: stage is Stage.PRE_SALES for stage in Stage}

    def found(self, texts: Sequence[str | None] | None) -> Found:
        """What the texts hold that counts: each topic's words (deduplicated, in order of first appearance)
        and, last, QUESTION when one asks."""
        if not texts:
            return ()
        if len(texts) == 1:  # an alert's one text: no join
            scanned = (texts[0] or "")[:SCAN_CHARS]
        else:
            scanned = "\n".join(t[:SCAN_CHARS] for t in texts if t)
        if not scanned:
            return ()
        found = []
        for code, pattern in self.topics:
            words = pattern.findall(scanned)
            if words:  # deduplicated, in order of first appearance
                found.append((code, (words[0].lower(),) if len(words) == 1 else
                              tuple(dict.fromkeys(w.lower() for w in words))))
        if "?" in scanned or "？" in scanned:
            found.append(_ASKS)
        return tuple(found)

    def assemble(self, rules: PriorityRules, minutes: float, stage: Stage | str, level: Level | str | None,
                 found: Found) -> Priority:
        reasons = [Reason(Why.WAITING, rules.open_clock + rules.per_minute * min(minutes, rules.wait_cap_minutes),
                          minutes=int(min(minutes, 10**9)))]
        pre_sales = self.pre_sales_of.get(stage)
        if pre_sales if pre_sales is not None else Stage(stage) is Stage.PRE_SALES:  # Stage(): a clear error
            reasons.append(self.pre_sales)
        if level is not None:
            reasons.append(self.levels.get(level) or self.levels[Level(level)])
        for code, words in found:
            reasons.append(self.question if code is Why.QUESTION else Reason(code, self.points[code], words=words))
        kept = sorted((r for r in reasons if r.points > 0), key=_minus_points)  # stable: ties keep this order
        return Priority(round(sum(r.points for r in kept), 3), tuple(kept), minutes)


_ASKS = (Why.QUESTION, ())


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so 取消订单 is reported as itself rather than as nothing or a shorter word.
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
