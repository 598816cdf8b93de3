"""Words every surface shares for the domain's codes: why a room ranks where it does, in zh-CN and English.

The rules (policies/priority.py) return a `Reason` code with its facts; the Lark card, the console,
the dashboard and the exports all say it with these words, so one phrase has one home. It sits with
the surfaces (connectors is the lowest layer that shows text to people; web imports it) rather than in
the domain, which holds no words except a level's own labels (core/levels.py). The dashboard's other
words are in web/i18n.py.
"""
from __future__ import annotations

from sales_assistant.core import levels
from sales_assistant.policies.priority import Priority, Reason, Why

# code -> (zh, en); topics: "<label>：<words>" / "<label>: <words>"
_PHRASES: dict[Why, tuple[str, str]] = {
    Why.NOT_WAITING: ("无等待", "not waiting"),
    Why.STAGE: ("售前群优先", "pre-sales first"),
    Why.QUESTION: ("客户在提问", "customer asks a question"),
    Why.URGENT: ("客户提到", "customer mentions"),
    Why.PRICE: ("询问价格", "asks about price"),
    Why.CONTRACT: ("涉及合同", "about the contract"),
    Why.PAYMENT: ("涉及付款", "about payment"),
}


def reason_text(reason: Reason, lang: str = "zh") -> str:
    """One reason as a line a person reads: "客户已等待 23 分钟" / "waiting 23 min"."""
    en = lang == "en"
    if reason.code is Why.WAITING:
        return _waited(reason.minutes or 0, en)
    if reason.code is Why.LEVEL:
        label = levels.label(reason.level, lang)
        return f"alert reached {label}" if en else f"已到{label}提醒"
    zh_text, en_text = _PHRASES[reason.code]
    if reason.words:
        return f"{en_text}: {', '.join(reason.words)}" if en else f"{zh_text}：{'、'.join(reason.words)}"
    return en_text if en else zh_text


def explain(priority: Priority, lang: str = "zh") -> str:
    """Every reason of a priority, highest points first, on one line."""
    return ("; " if lang == "en" else "；").join(reason_text(r, lang) for r in priority.reasons)


def _waited(minutes: int, en: bool) -> str:
    if minutes < 1:
        return "customer just wrote" if en else "客户刚发消息"
    if minutes < 60:
        return f"waiting {minutes} min" if en else f"客户已等待 {minutes} 分钟"
    h, m = divmod(minutes, 60)
    return f"waiting {h} h {m} min" if en else f"客户已等待 {h} 小时 {m} 分钟"
