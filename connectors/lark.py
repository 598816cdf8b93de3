"""Lark (Feishu) alert sink: one interactive card per alert, posted to the rep's and the team's chats.

The card is built by a pure function so it can be tested without the network. The sink is a thin
shell over lark-oapi: it resolves chats, sends once per chat with a deterministic `uuid` (Lark drops a
second message with the same uuid within an hour, so a resend after a crash does not double-post) and
raises `DeliveryError` on any failure. Retries and backoff belong to the notifier, not here.

It keeps to Lark's documented limits for sending messages (im/v1/messages: 50 a second and 1000 a minute
per app; 5 a second into one chat, shared by the bots in it): `SendPacer` spaces the sends, and a send
Lark still refuses as too frequent (HTTP 429, code 99991400, or the message service's 11232 / 230020)
raises a `DeliveryError` carrying Lark's `x-ogw-ratelimit-reset`, which the notifier waits out.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from sales_assistant.connectors.i18n import FOLLOWUP_WORDS, STAGES
from sales_assistant.connectors.sinks import Capabilities, RetryLater, Sink
from sales_assistant.core import levels
from sales_assistant.core.timeutil import known_zone, zone

if TYPE_CHECKING:  # lark_oapi takes seconds to import (it loads every Lark service): only the sink pays
    import lark_oapi

log = logging.getLogger(__name__)

LAST_TEXT_LIMIT = 200
NAME_LIMIT = 64
WHY_LIMIT = 300

# The 稍后提醒 buttons: minutes a rep can push the next alert back by.
SNOOZE_MINUTES = (10, 30, 60)
CARD_ACTIONS = ("cancel", "take_over", "snooze")
# The follow-up card's buttons (policies/followups.py): 我来跟进, 稍后提醒 N 天, 客户回复后再提醒, 不再跟进.
FOLLOWUP_ACTIONS = ("followup_take", "followup_snooze", "followup_customer", "followup_stop")
FOLLOWUP_SNOOZE_DAYS = (1, 3)
DAY_MINUTES = 24 * 60

# Lark codes meaning "this tenant_access_token is no good"; lark-oapi would keep serving it from its cache.
TOKEN_INVALID_CODES = frozenset({99991661, 99991663, 99991664, 99991665, 99991666, 99991668})

# Lark's limits for im/v1/messages (open.feishu.cn "frequency control"; the send-message page): per app
# 50 a second and 1000 a minute, reaching either one is limited; per chat 5 a second.
APP_SENDS_PER_SECOND = 50
APP_SENDS_PER_MINUTE = 1000
CHAT_SENDS_PER_SECOND = 5
# Codes of a refused-as-too-frequent send: the gateway's (with HTTP 429, or 400 on older APIs), the message
# service's per app, and its per chat.
RATE_LIMIT_CODES = frozenset({99991400, 11232, 230020})
RATE_LIMIT_RESET_HEADER = "x-ogw-ratelimit-reset"  # seconds until the limit's window frees
RATE_LIMITED_RETRY_S = 1.0  # when Lark limits a send without saying for how long
PACE_SLEEP_MAX_S = 1.0  # a longer wait for a turn is handed back to the notifier, which folds meanwhile

_TEXTS: dict[str, dict[str, Any]] = {
    "zh": {
        "lang": "zh",
        "title": "{level}提醒 · 客户已等待 {minutes} 分钟",
        "answered": "（此后已回复或已处理）",
        "late": "迟到 {minutes} 分钟送达：超时发生在 {at}，服务当时积压或中断",
        "room": "群聊",
        "owner": "负责人",
        "unassigned": "无负责人",
        "waited": "等待时长",
        "minutes": "{minutes} 分钟",
        "stage": "阶段",
        "stages": {stage: zh for stage, (zh, _) in STAGES.items()},
        "at": "超时时刻（{tz}）",
        "customer": "客户",
        "unknown_customer": "未知客户",
        "last_text": "客户最后一条消息",
        "empty_text": "（无文字内容）",
        "alert_id": "提醒编号",
        "why": "优先原因",
        "cancel": "已处理",
        "take_over": "我来跟进",
        "snooze": "稍后提醒 {minutes} 分钟",
        "done": {"cancel": "{name} 已处理", "take_over": "{name} 我来跟进", "snooze": "{name} 稍后提醒 {minutes} 分钟"},
        "board": {
            "title": "今日回复排行 · {day}",
            "replies": "回复次数", "avg": "平均回复", "avg_business": "平均回复（工作时间）", "over": "超时回复", "team_messages": "团队消息",
            "open": "仍在等待", "count": "{n} 次", "messages": "{n} 条", "rooms": "{n} 个群", "minutes": "{m} 分钟",
            "best": "回复最快", "slowest": "回复最慢",
            "rep": "{rank}. {name} · 平均 {avg} 分钟 · 回复 {n} 次 · 超时 {over} 次",
            "hours": "各时段（按客户发言时间）",
            "hour": "{hour:02d} 时 · 平均 {avg} · 回复 {replies} 次 · 团队消息 {messages} 条",
            "no_reply": "—",
            "waits": "等待最久",
            "wait": "{topic} · {owner} · {minutes} 分钟{open}", "still_open": "（仍在等待）",
            "nobody": "今天没有客户等待回复",
        },
        "digest": {
            "title": "待回复汇总 · {n} 个群",
            "line": "{level}提醒 · {room} · {time} 时已等待 {minutes} 分钟",
            "note": "较低级别的提醒每 {interval} 分钟汇总一次",
        },
        "earlier": {
            "head": "提醒积压期间（飞书中断或限速），此群另有 {n} 条较早的提醒合并在这张卡片里：",
            "line": "{level}提醒 · 已等待 {minutes} 分钟 · {time}",
            "more": "……以及更早的 {n} 条",
        },
        "catch_up": {
            "title": "提醒积压 · {n} 条提醒汇总（{rooms} 个群）",
            "line": "{room} · {owner} · 最高{level} · 最长等待 {minutes} 分钟 · {first}–{last} · {alerts} 条提醒",
            "more": "另有 {n} 个群，详见仪表盘「警报」页",
            "answered": "其中 {n} 个群此后已回复或已处理",
            "note": "飞书一时收不下所有提醒（中断或限速）时，等待最久的群合并为这张汇总卡；每条提醒都保存在提醒记录中",
        },
    },
    "en": {
        "lang": "en",
        "title": "{level} alert · customer waiting {minutes} min",
        "answered": " (answered or handled since)",
        "late": "Delivered {minutes} min late: the wait crossed this threshold at {at}, while the service was behind or down",
        "room": "Room",
        "owner": "Owner",
        "unassigned": "unassigned",
        "waited": "Waited",
        "minutes": "{minutes} min",
        "stage": "Stage",
        "stages": {stage: en for stage, (_, en) in STAGES.items()},
        "at": "Overdue since ({tz})",
        "customer": "Customer",
        "unknown_customer": "unknown customer",
        "last_text": "Customer's last message",
        "empty_text": "(no text)",
        "alert_id": "Alert",
        "why": "Why it ranks here",
        "cancel": "Handled",
        "take_over": "I'll take it",
        "snooze": "Remind me in {minutes} min",
        "done": {"cancel": "{name} marked it handled", "take_over": "{name} took it over",
                 "snooze": "{name} snoozed it for {minutes} min"},
        "board": {
            "title": "Today's reply leaderboard · {day}",
            "replies": "Replies", "avg": "Average reply", "avg_business": "Average reply (business hours)", "over": "Late replies", "team_messages": "Team messages",
            "open": "Still waiting", "count": "{n}", "messages": "{n}", "rooms": "{n}", "minutes": "{m} min",
            "best": "Fastest", "slowest": "Slowest",
            "rep": "{rank}. {name} · avg {avg} min · {n} replies · {over} late",
            "hours": "By hour (when the customer wrote)",
            "hour": "{hour:02d}h · avg {avg} · {replies} replies · {messages} team messages",
            "no_reply": "—",
            "waits": "Longest waits",
            "wait": "{topic} · {owner} · {minutes} min{open}", "still_open": " (still waiting)",
            "nobody": "No customer waited for a reply today",
        },
        "digest": {
            "title": "Waiting for your reply · {n} rooms",
            "line": "{level} · {room} · waiting {minutes} min at {time}",
            "note": "Lower-level alerts come together every {interval} min",
        },
        "earlier": {
            "head": "While alerts queued for Lark (an outage or its rate limits), {n} earlier alerts of this room were folded into this card:",
            "line": "{level} · waiting {minutes} min · {time}",
            "more": "… and {n} earlier ones",
        },
        "catch_up": {
            "title": "Alerts queued for Lark · {n} alerts ({rooms} rooms)",
            "line": "{room} · {owner} · up to {level} · waited up to {minutes} min · {first}–{last} · {alerts} alerts",
            "more": "{n} more rooms: see the Alerts page of the dashboard",
            "answered": "{n} of these rooms were answered or handled since",
            "note": "When Lark cannot take every alert at once (an outage or its rate limits), the rooms that "
                    "waited longest are folded into this card; every alert is kept in the alert log",
        },
    },
}


class DigestSettings(BaseModel):
    """Batch the lower levels into one card per rep per interval; the rest still go out at once."""

    enabled: bool = False
    interval_minutes: int = Field(30, ge=1, le=24 * 60)
    immediate_levels: list[levels.Level] = [levels.Level.ORANGE, levels.Level.RED, levels.Level.PURPLE,
                                            levels.Level.GREY]


class LarkSettings(BaseModel):
    """Where alerts go. Empty credentials are allowed here so a console-only setup loads; the sink refuses them."""

    app_id: str = ""
    app_secret: SecretStr = SecretStr("")
    domain: str = "https://open.feishu.cn"
    public_chats: dict[str, str] = {}  # team -> chat_id; "default" catches teams without their own chat
    private_chats: dict[str, str] = {}  # staff_id -> chat_id of that rep's private group
    timeout_s: float = 5.0
    lang: Literal["zh", "en"] = "zh"
    # The card buttons' callback (POST /lark/card): both from the app's "Events & Callbacks" page.
    verification_token: SecretStr = SecretStr("")
    encrypt_key: SecretStr = SecretStr("")
    # The daily leaderboard: one card to this chat at this local time; no chat, no leaderboard.
    leaderboard_chat: str = ""
    leaderboard_time: str = Field("22:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    leaderboard_tz: str | None = None  # None: the service's `timezone`, which every card's times are shown in
    digest: DigestSettings = DigestSettings()
    # Alert cards that may wait for Lark while it fails; past it they fold (policies/backlog.py), none is lost.
    max_waiting: int = Field(200, ge=10, le=100_000)

    @field_validator("leaderboard_tz")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return None if name is None else known_zone(name)


class DeliveryError(RetryLater):
    """A card did not reach Lark. Safe to retry: every send carries the same idempotency key.
    `retry_after_s`: Lark (or the pacer) said when the next try may go."""

    def __init__(
        self, message: str, *, chat_id: str | None = None, code: int | None = None, lark_answered: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, retry_after_s)
        self.chat_id = chat_id
        self.code = code  # Lark's error code when it gave one
        self.lark_answered = lark_answered  # False: timeout, refused, gateway page, no token


# --- the card (pure) ------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def local_time(at_ms: int, tz: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A moment as the card shows it, in the service's time zone (settings.timezone)."""
    return datetime.fromtimestamp(at_ms / 1000, zone(tz)).strftime(fmt)


def level_name(level: object, t: dict[str, Any]) -> str:
    """A level's label (core/levels.py); English cards start lines with it, so it is capitalised."""
    name = levels.label(level, t["lang"])
    return name[:1].upper() + name[1:] if t["lang"] == "en" else name


def _plain(content: str) -> dict[str, str]:
    # plain_text, never lark_md: topics, names and messages are written by customers, and lark_md
    # would render their markdown, links and <at id=all> mentions.
    return {"tag": "plain_text", "content": content}


def _field(label: str, value: str) -> dict[str, Any]:
    return {"is_short": True, "text": _plain(f"{label}：{value}")}


def build_alert_card(alert: dict, lang: str = "zh", *, tz: str, note: str | None = None, buttons: bool = True) -> dict:
    """The interactive card (msg_type "interactive") for one alert; Chinese unless lang == "en"; times in `tz`.

    `note` says who acted on it (see `action_note`); `buttons` off once nothing is left to do. An alert
    whose wait ended before the card could go out (`answered`, after a Lark outage) says so, in grey,
    without buttons; one delivered well after its threshold was crossed (`late_minutes`, after an outage of
    the service or of Lark) says how late, beside the true moment.
    """
    t = _TEXTS["en" if lang == "en" else "zh"]
    level = str(alert.get("level", ""))
    minutes = int(alert.get("waited_minutes", 0))
    room = clip(alert.get("topic") or str(alert.get("room_id", "")), NAME_LIMIT)
    if alert.get("owner_id") is None:
        owner = t["unassigned"]
    else:
        owner = clip(alert.get("owner_name") or str(alert["owner_id"]), NAME_LIMIT)
    customer = clip(alert.get("customer_name") or t["unknown_customer"], NAME_LIMIT)
    last_text = clip(alert.get("last_text") or "", LAST_TEXT_LIMIT) or t["empty_text"]
    stage = t["stages"].get(alert.get("stage"), str(alert.get("stage", "")))
    title = t["title"].format(level=level_name(level, t), minutes=minutes)
    answered = bool(alert.get("answered"))
    if answered:
        title += t["answered"]
        buttons = False
    fields = [
        _field(t["room"], room),
        _field(t["owner"], owner),
        _field(t["waited"], t["minutes"].format(minutes=minutes)),
        _field(t["stage"], stage),
        _field(t["at"].format(tz=tz), local_time(int(alert["at"]), tz)),
        _field(t["customer"], customer),
    ]
    if alert.get("priority_why"):
        fields.append({"is_short": False, "text": _plain(f"{t['why']}：{clip(str(alert['priority_why']), WHY_LIMIT)}")})
    elements: list[dict[str, Any]] = [
        {"tag": "div", "fields": fields},
        *([{"tag": "note", "elements": [_plain(t["late"].format(minutes=late, at=local_time(int(alert["at"]), tz)))]}]
          if (late := int(alert.get("late_minutes") or 0)) else []),
        {"tag": "hr"},
        {"tag": "div", "text": _plain(f"{t['last_text']}：\n{last_text}")},
    ]
    if alert.get("folded"):
        elements.append({"tag": "div", "text": _plain(_earlier_text(alert, t, tz))})
    if note:
        elements.append({"tag": "note", "elements": [_plain(note)]})
    if buttons:
        elements.append({"tag": "action", "layout": "flow", "actions": _buttons(alert, t)})
    elements.append({"tag": "note", "elements": [_plain(f"{t['alert_id']}：{alert.get('alert_id', '')}")]})
    return {
        # update_multi: a shared card, so an update after a button press shows to everyone in the chat.
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"template": levels.colour(levels.Level.GREY if answered else level),
                   "title": _plain(title)},
        "elements": elements,
    }


def _earlier_text(alert: dict, t: dict[str, Any], tz: str) -> str:
    """The alerts folded into this card while Lark was unreachable: how many, and the latest of them."""
    e = t["earlier"]
    n, shown = int(alert["folded"]), list(alert.get("earlier") or ())
    lines = [e["line"].format(level=level_name(a.get("level"), t), minutes=int(a.get("waited_minutes") or 0),
                              time=local_time(int(a.get("at") or 0), tz, "%H:%M"))
             for a in shown]
    if n > len(shown):
        lines.insert(0, e["more"].format(n=n - len(shown)))
    return "\n".join([e["head"].format(n=n), *lines])


CATCH_UP_ROOMS = 30  # lines on a catch-up card; the rest are counted


def build_catch_up_card(rooms: list[dict], alerts: int, lang: str = "zh", *, tz: str) -> dict:
    """One card for the rooms folded together while Lark was unreachable (policies/backlog.py): a line
    per room, oldest first, with its worst level, longest wait and how many alerts it stands for; a room
    whose wait ended before the card went out (`answered`) is marked."""
    t = _TEXTS["en" if lang == "en" else "zh"]
    c = t["catch_up"]
    top = levels.highest(r.get("level") for r in rooms)
    lines = []
    for row in rooms[:CATCH_UP_ROOMS]:
        lines.append(c["line"].format(
            room=clip(row.get("topic") or str(row.get("room_id", "")), NAME_LIMIT),
            owner=clip(row.get("owner_name") or row.get("owner_id") or t["unassigned"], NAME_LIMIT),
            level=level_name(row.get("level"), t), minutes=int(row.get("waited_minutes") or 0),
            first=local_time(int(row["first_at"]), tz, "%H:%M"), last=local_time(int(row["last_at"]), tz, "%H:%M"),
            alerts=int(row["alerts"]))
            + (t["answered"] if row.get("answered") else ""))
    if len(rooms) > CATCH_UP_ROOMS:
        lines.append(c["more"].format(n=len(rooms) - CATCH_UP_ROOMS))
    if answered := sum(bool(r.get("answered")) for r in rooms):
        lines.append(c["answered"].format(n=answered))
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": levels.colour(top), "title": _plain(c["title"].format(n=alerts, rooms=len(rooms)))},
        "elements": [{"tag": "div", "text": _plain("\n".join(lines))},
                     {"tag": "note", "elements": [_plain(c["note"])]}],
    }


def _buttons(alert: dict, t: dict[str, Any]) -> list[dict[str, Any]]:
    """已处理 / 我来跟进 / 稍后提醒 N 分钟; each value names the clock it was shown for, so a press on an
    old card never stops a newer wait."""
    ref = {"room_id": str(alert.get("room_id", "")), "clock_id": str(alert.get("clock_id", "")),
           "alert_id": str(alert.get("alert_id", ""))}

    def button(label: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
        return {"tag": "button", "text": _plain(label), "type": kind, "value": value}

    return [
        button(t["cancel"], "primary", {"action": "cancel", **ref}),
        button(t["take_over"], "default", {"action": "take_over", **ref}),
        *(button(t["snooze"].format(minutes=m), "default", {"action": "snooze", **ref, "minutes": m})
          for m in SNOOZE_MINUTES),
    ]


def action_note(action: str, name: str, at_ms: int, lang: str, tz: str, minutes: int | None = None) -> str:
    """Who did what to the alert, and when: "张三 已处理 · 11-20 15:32"."""
    t = _TEXTS["en" if lang == "en" else "zh"]
    did = t["done"][action].format(name=clip(name, NAME_LIMIT), minutes=minutes)
    return f"{did} · {local_time(at_ms, tz, '%m-%d %H:%M')}"


def build_digest_card(alerts: list[dict], lang: str = "zh", interval_minutes: int = 30, *, tz: str) -> dict:
    """One card for a rep's held lower-level alerts: a line per room, with what the customer wrote."""
    t = _TEXTS["en" if lang == "en" else "zh"]
    d = t["digest"]
    top = levels.highest(a.get("level") for a in alerts)
    elements: list[dict[str, Any]] = []
    for alert in alerts:
        room = clip(alert.get("topic") or str(alert.get("room_id", "")), NAME_LIMIT)
        at = local_time(int(alert["at"]), tz, "%H:%M")
        line = d["line"].format(level=level_name(alert.get("level"), t), room=room, time=at,
                                minutes=int(alert.get("waited_minutes", 0)))
        customer = clip(alert.get("customer_name") or t["unknown_customer"], NAME_LIMIT)
        said = clip(alert.get("last_text") or "", LAST_TEXT_LIMIT) or t["empty_text"]
        elements.append({"tag": "div", "text": _plain(f"{line}\n{customer}：{said}")})
    elements.append({"tag": "note", "elements": [_plain(d["note"].format(interval=interval_minutes))]})
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": levels.colour(top), "title": _plain(d["title"].format(n=len(alerts)))},
        "elements": elements,
    }


BOARD_REPS = 3  # fastest and slowest shown
BOARD_WAITS = 5


def build_leaderboard_card(report: dict, lang: str = "zh") -> dict:
    """The day's leaderboard from store.report.build_report: team figures, fastest and slowest reps,
    per-hour replies and traffic, and the rooms that waited longest."""
    t = _TEXTS["en" if lang == "en" else "zh"]["board"]
    ranked = report.get("leaderboard") or []
    replies = sum(row["episodes"] for row in ranked)
    avg = sum(row["avg_reply_minutes"] * row["episodes"] for row in ranked) / replies if replies else 0.0
    team_messages = sum(row["team_messages"] for row in report.get("by_hour") or ())
    fields = [
        _field(t["replies"], t["count"].format(n=replies)),
        # Stages that count business time average business minutes, as the dashboard does; the card says so.
        _field(t["avg_business"] if "business" in (report.get("reply_clocks") or {}).values() else t["avg"],
               t["minutes"].format(m=f"{avg:.1f}")),
        _field(t["over"], t["count"].format(n=sum(row["over_threshold"] for row in ranked))),
        _field(t["team_messages"], t["messages"].format(n=team_messages)),
        _field(t["open"], t["rooms"].format(n=report.get("open_clocks", 0))),
    ]
    elements: list[dict[str, Any]] = [{"tag": "div", "fields": fields}]

    def section(title: str, lines: list[str]) -> None:
        if lines:
            elements.extend([{"tag": "hr"}, {"tag": "div", "text": _plain(title + "\n" + "\n".join(lines))}])

    def rep(row: dict) -> str:
        return t["rep"].format(rank=row["rank"], name=clip(row["name"], NAME_LIMIT),
                               avg=f"{row['avg_reply_minutes']:.1f}", n=row["episodes"], over=row["over_threshold"])

    # Fastest from the top, slowest from the bottom, never the same rep in both.
    shown = min(BOARD_REPS, len(ranked) // 2) or len(ranked)
    section(t["best"], [rep(row) for row in ranked[:shown]])
    section(t["slowest"], [rep(row) for row in reversed(ranked[shown:][-shown:])])
    section(t["hours"], [
        t["hour"].format(hour=row["hour"], replies=row["replies"], messages=row["team_messages"],
                         avg=t["minutes"].format(m=f"{row['avg_reply_minutes']:.1f}")
                         if row["avg_reply_minutes"] is not None else t["no_reply"])
        for row in report.get("by_hour") or () if row["replies"] or row["team_messages"]])
    rooms = {row["room_id"]: row for row in report.get("rooms") or ()}
    section(t["waits"], [
        t["wait"].format(topic=clip(rooms.get(w["room_id"], {}).get("topic") or w["room_id"], NAME_LIMIT),
                         owner=clip(rooms.get(w["room_id"], {}).get("owner_name") or w.get("owner_id") or "—",
                                    NAME_LIMIT),
                         minutes=f"{w['waited_minutes']:.0f}", open=t["still_open"] if w.get("open") else "")
        for w in (report.get("longest_waits") or [])[:BOARD_WAITS]])
    if not ranked and not report.get("longest_waits"):
        elements.append({"tag": "div", "text": _plain(t["nobody"])})
    day = (report.get("period") or {}).get("to", "")
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": "blue", "title": _plain(t["title"].format(day=day))},
        "elements": elements,
    }


def build_followup_card(followup: dict, lang: str = "zh", *, tz: str, note: str | None = None,
                        buttons: bool = True) -> dict:
    """The follow-up of an idle room, for its owner: how long it has been quiet, the last exchange, and
    我来跟进 / 稍后提醒 / 客户回复后再提醒 / 不再跟进 (`note`: who pressed one; `buttons` off after)."""
    w = FOLLOWUP_WORDS["en" if lang == "en" else "zh"]
    t = _TEXTS["en" if lang == "en" else "zh"]
    days = int(followup.get("idle_days") or 0)
    owner = (clip(followup.get("owner_name") or str(followup["owner_id"]), NAME_LIMIT)
             if followup.get("owner_id") else w["unassigned"])
    fields = [
        _field(w["room"], clip(followup.get("topic") or str(followup.get("room_id", "")), NAME_LIMIT)),
        _field(w["owner"], owner),
        _field(w["stage"], t["stages"].get(followup.get("stage"), str(followup.get("stage", "")))),
        _field(w["last_message_at"].format(tz=tz), local_time(int(followup["last_message_at"]), tz)),
        _field(w["at"].format(tz=tz), local_time(int(followup["at"]), tz)),
    ]
    lines = [f"{w['customer'] if row.get('speaker') == 'customer' else w['staff']}"
             f"（{local_time(int(row['ts']), tz, '%m-%d %H:%M')}）：{clip(row.get('text') or '', LAST_TEXT_LIMIT)}"
             for row in followup.get("last") or ()]
    elements: list[dict[str, Any]] = [
        {"tag": "div", "fields": fields}, {"tag": "hr"},
        {"tag": "div", "text": _plain(f"{w['exchange']}：\n" + ("\n".join(lines) or w["empty"]))},
    ]
    if note:
        elements.append({"tag": "note", "elements": [_plain(note)]})
    if buttons:
        ref = {"room_id": str(followup.get("room_id", "")), "followup_id": str(followup.get("followup_id", ""))}

        def button(label: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
            return {"tag": "button", "text": _plain(label), "type": kind, "value": {**value, **ref}}

        elements.append({"tag": "action", "layout": "flow", "actions": [
            button(w["take"], "primary", {"action": "followup_take"}),
            *(button(w["snooze"].format(days=d), "default", {"action": "followup_snooze", "minutes": d * DAY_MINUTES})
              for d in FOLLOWUP_SNOOZE_DAYS),
            button(w["customer_writes"], "default", {"action": "followup_customer"}),
            button(w["stop"], "danger", {"action": "followup_stop"}),
        ]})
    elements.append({"tag": "note", "elements": [_plain(f"{w['id']}：{followup.get('followup_id', '')}")]})
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"template": "blue", "title": _plain(w["title"].format(days=days))},
        "elements": elements,
    }


def followup_note(action: str, name: str, at_ms: int, lang: str, tz: str, minutes: int | None = None) -> str:
    """Who did what to the follow-up, and when: "张三 不再跟进此群 · 12-05 10:02"."""
    w = FOLLOWUP_WORDS["en" if lang == "en" else "zh"]
    did = w["done_" + action.removeprefix("followup_")].format(name=clip(name, NAME_LIMIT),
                                                              days=(minutes or 0) // DAY_MINUTES)
    return f"{did} · {local_time(at_ms, tz, '%m-%d %H:%M')}"


def idempotency_key(alert_id: str, chat_id: str) -> str:
    """Same alert to the same chat -> same key, so Lark posts it once (its uuid allows 50 chars)."""
    return hashlib.sha256(f"{alert_id}\x00{chat_id}".encode()).hexdigest()[:32]


# --- the sink (I/O) -------------------------------------------------------------------------------


def build_suggestion_card(suggestion: dict, lang: str = "zh") -> dict:
    """A wording suggestion for one rep: what was sent, the corrected text, and why."""
    zh = lang == "zh"
    reasons = [f"{t['wrong']} → {t['suggestion']}" for t in suggestion.get("typos", [])]
    reasons += [f["message"] + (f" → {f['suggestion']}" if f.get("suggestion") else "")
                for f in suggestion.get("phrasing", [])]
    room = suggestion.get("topic") or suggestion.get("room_id", "")
    rewrite = suggestion.get("corrected")
    elements = [
        _field("群聊" if zh else "Room", room),
        _field("已发送" if zh else "You sent", clip(suggestion.get("text", ""), 300)),
        # no rewrite (None, or the text itself in findings stored before): the card offers none
        *([_field("建议改为" if zh else "Suggested", clip(rewrite, 300))]
          if rewrite and rewrite != suggestion.get("text") else []),
        _field("原因" if zh else "Why", clip("；".join(reasons) if zh else "; ".join(reasons), 500)),
    ]
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": "blue",
                   "title": _plain("措辞建议" if zh else "Wording suggestion")},
        "elements": elements,
    }


class SendPacer:
    """Spaces sends to stay within Lark's limits: sliding windows of send times per app (a second, a minute)
    and per chat (a second). A turn that is close sleeps; one further off raises a `DeliveryError` with
    `retry_after_s`, so the caller waits on its own clock. Thread-safe; `clock` and `sleep` for tests."""

    def __init__(self, per_second: int = APP_SENDS_PER_SECOND, per_minute: int = APP_SENDS_PER_MINUTE,
                 per_chat_second: int = CHAT_SENDS_PER_SECOND, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.per_chat_second, self.clock, self.sleep = per_chat_second, clock, sleep
        self._app = ((deque(), 1.0, per_second), (deque(), 60.0, per_minute))  # (send times, span s, limit)
        self._chats: dict[str, deque] = {}
        self._lock = threading.Lock()

    def wait_turn(self, chat_id: str) -> None:
        with self._lock:
            while True:
                now = self.clock()
                chat = self._chats.setdefault(chat_id, deque())
                windows = (*self._app, (chat, 1.0, self.per_chat_second))
                wait = max(self._wait(sent, now, span, limit) for sent, span, limit in windows)
                if wait <= 0:
                    for sent, _, _ in windows:
                        sent.append(now)
                    return
                if wait > PACE_SLEEP_MAX_S:
                    raise DeliveryError(f"Lark send limit reached: next send to chat {chat_id} in {wait:.1f} s",
                                        chat_id=chat_id, retry_after_s=wait)
                self.sleep(wait)

    @staticmethod
    def _wait(sent: deque, now: float, span: float, limit: int) -> float:
        """Seconds until one more send fits in the window of `span` seconds."""
        while sent and sent[0] <= now - span:
            sent.popleft()
        return 0.0 if len(sent) < limit else sent[0] + span - now


class LarkSink(Sink):
    """Sends alert cards through lark-oapi; one call to `deliver` per alert, no retries of its own."""

    name = "lark"

    def __init__(self, settings: LarkSettings, tz: str) -> None:
        """`tz`: the service's time zone (settings.timezone), which every card's times are shown in."""
        import lark_oapi  # deferred: see TYPE_CHECKING above

        if not settings.app_id:
            raise ValueError("lark.app_id: required for the Lark sink")
        if not settings.app_secret.get_secret_value():
            raise ValueError("lark.app_secret: required for the Lark sink")
        if not settings.public_chats and not settings.private_chats:
            raise ValueError("lark.public_chats: configure at least one chat (team 'default' is the fallback)")
        if settings.timeout_s <= 0:
            raise ValueError("lark.timeout_s: must be positive")
        self._settings, self.tz = settings, tz
        # The leaderboard's day and hour: its own zone where one is configured, else the service's.
        self.leaderboard_tz = settings.leaderboard_tz or tz
        # requests applies this timeout to connecting and to every read, for the token call as well.
        self._client: lark_oapi.Client = (
            lark_oapi.Client.builder()
            .app_id(settings.app_id)
            .app_secret(settings.app_secret.get_secret_value())
            .domain(settings.domain)
            .timeout(settings.timeout_s)
            .build()
        )
        self._warned: set[str | None] = set()
        self._lock = threading.Lock()
        self._pacer = SendPacer()
        digest = settings.digest.interval_minutes if settings.digest.enabled else None
        self.caps = Capabilities(lang=settings.lang, suggestions=True, followups=True, max_waiting=settings.max_waiting,
                                 shows_answered=True, digest_minutes=digest,
                                 leaderboard=bool(settings.leaderboard_chat))
        if not settings.leaderboard_chat:
            log.info("no lark.leaderboard_chat configured: the daily leaderboard is not sent")

    def __repr__(self) -> str:
        return f"LarkSink(app_id={self._settings.app_id!r}, domain={self._settings.domain!r})"

    @property
    def settings(self) -> LarkSettings:
        return self._settings

    def deliver(self, alert: dict) -> None:
        """Post the alert's card to every chat its targets resolve to, except the chat whose digest holds it
        (`digest_chat` on the alert: the notifier sets it, see `digest_chat` below).

        A chat that Lark rejects does not stop the others (their keys make a later resend harmless);
        a transport failure does, since the next chat would only wait out the same timeout.
        """
        chats = self.chats_for(alert)
        if not chats:
            team = alert.get("team")
            raise DeliveryError(f"no Lark chat configured for alert {alert.get('alert_id')} (team {team!r})")
        chats = [chat for chat in chats if chat != alert.get("digest_chat")]
        content = json.dumps(build_alert_card(alert, self._settings.lang, tz=self.tz), ensure_ascii=False)
        errors: list[DeliveryError] = []
        for chat_id in chats:
            try:
                self._send(chat_id, content, idempotency_key(str(alert["alert_id"]), chat_id))
            except DeliveryError as error:
                errors.append(error)
                if not error.lark_answered:  # the next chat would fare no better
                    break
        if errors:
            if len(errors) == 1:
                raise errors[0]
            first = errors[0]
            raise DeliveryError(
                "; ".join(str(e) for e in errors), chat_id=first.chat_id, code=first.code, lark_answered=True
            )

    def digest_chat(self, alert: dict) -> str | None:
        """The rep's own chat when this alert waits for their digest instead of going out now; None otherwise.

        Only a lower level (not in digest.immediate_levels) meant for the owner's private chat waits;
        a rep without a private chat gets it in the public chat, which is never batched.
        """
        digest = self._settings.digest
        if not digest.enabled or alert.get("level") in digest.immediate_levels or "private" not in (
                alert.get("targets") or ()):
            return None
        return self._settings.private_chats.get(alert.get("private_to") or alert.get("owner_id") or "") or None

    def deliver_digest(self, chat_id: str, alerts: list[dict], batch_id: str) -> None:
        """One card for the rep's held alerts; the batch id makes a resend after a crash harmless."""
        card = build_digest_card(alerts, self._settings.lang, self._settings.digest.interval_minutes, tz=self.tz)
        self.send_card(chat_id, card, idempotency_key(f"digest/{batch_id}", chat_id))

    def deliver_catch_up(self, team: str | None, rooms: list[dict], alerts: int, card_id: str) -> None:
        """The catch-up card of a team's rooms folded during an outage, to the team's public chat; without
        one, each rep's own lines to their private chat."""
        chat_id = self._public_chat(team)
        if chat_id:
            parts = {chat_id: (rooms, alerts)}
        else:
            parts = {}
            for row in rooms:
                chat = self._settings.private_chats.get(row.get("owner_id") or "")
                if not chat:
                    raise DeliveryError(f"no Lark chat for room {row.get('room_id')} of team {team!r} "
                                        f"(catch-up card {card_id})")
                lines, n = parts.get(chat, ([], 0))
                parts[chat] = ([*lines, row], n + int(row["alerts"]))
        for chat, (lines, n) in parts.items():
            card = build_catch_up_card(lines, n, self._settings.lang, tz=self.tz)
            self.send_card(chat, card, idempotency_key(f"catch-up/{card_id}", chat))

    def send_card(self, chat_id: str, card: dict, uuid: str) -> None:
        """Any card (the leaderboard, a digest) to one chat, posted once per `uuid`; raises DeliveryError."""
        self._send(chat_id, json.dumps(card, ensure_ascii=False), uuid)

    def deliver_followup(self, followup: dict) -> None:
        """The follow-up card to the owner's private chat (the team's public chat for a room nobody owns, or
        an owner without one); its id makes a resend after a crash harmless."""
        chat = self._private_chat(followup.get("owner_id"), followup.get("team"))
        if not chat:
            raise DeliveryError(f"no Lark chat for follow-up {followup.get('followup_id')}")
        card = build_followup_card(followup, self._settings.lang, tz=self.tz)
        self.send_card(chat, card, idempotency_key(f"followup/{followup['followup_id']}", chat))

    def deliver_suggestion(self, suggestion: dict) -> None:
        """A suggestion is for the rep who wrote the message only: a direct message from the bot when the
        roster knows their Lark open id, else their private chat, never the team's."""
        content = json.dumps(build_suggestion_card(suggestion, self._settings.lang), ensure_ascii=False)
        open_id = suggestion.get("sender_open_id")
        if open_id:
            key = idempotency_key(f"suggestion/{suggestion['suggestion_id']}", open_id)
            self._send(open_id, content, key, receive_id_type="open_id")
            return
        chat_id = self._settings.private_chats.get(suggestion.get("sender_id") or "")
        if not chat_id:
            return  # no way to reach this writer alone (a colleague, or not configured): nothing to send
        self._send(chat_id, content, idempotency_key(f"suggestion/{suggestion['suggestion_id']}", chat_id))

    def chats_for(self, alert: dict) -> list[str]:
        """Chat ids for the alert's targets, in order, without duplicates."""
        chats: list[str] = []
        for target in alert.get("targets") or ():
            if target == "private":  # the owner's, or their backup's while they are away (actors/presence.py)
                chat = self._private_chat(alert.get("private_to") or alert.get("owner_id"), alert.get("team"))
            elif target == "public":
                chat = self._public_chat(alert.get("team"))
            else:
                raise DeliveryError(f"unknown alert target {target!r} in alert {alert.get('alert_id')}")
            if chat and chat not in chats:
                chats.append(chat)
        return chats

    def _public_chat(self, team: str | None) -> str | None:
        chats = self._settings.public_chats
        return chats.get(team or "default") or chats.get("default")

    def _private_chat(self, owner_id: str | None, team: str | None) -> str | None:
        chat = self._settings.private_chats.get(owner_id) if owner_id else None
        if chat:
            return chat
        with self._lock:
            first_time = owner_id not in self._warned
            self._warned.add(owner_id)
        if first_time:
            rep = owner_id or "(unassigned)"
            log.warning("no private Lark chat for rep %s; their alerts go to the public chat", rep)
        return self._public_chat(team)

    def _send(self, chat_id: str, content: str, uuid: str, receive_id_type: str = "chat_id") -> None:
        """Post to a chat, or with `receive_id_type="open_id"` to one user directly (`chat_id` is then theirs)."""
        from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody

        request = (
            CreateMessageRequest.builder()
            .receive_id_type(receive_id_type)
            .request_body(
                CreateMessageRequestBody.builder()
                .receive_id(chat_id)
                .msg_type("interactive")
                .content(content)
                .uuid(uuid)
                .build()
            )
            .build()
        )
        self._pacer.wait_turn(chat_id)
        failure: DeliveryError | None = None
        try:
            response = self._client.im.v1.message.create(request)
        except Exception as exc:  # requests timeouts, refused connections, token errors, non-JSON gateway pages
            code = getattr(exc, "code", None)  # lark-oapi's token errors carry Lark's code
            failure = DeliveryError(
                f"Lark send to chat {chat_id} failed: {self._describe(exc)}",
                chat_id=chat_id,
                code=code if isinstance(code, int) else None,
            )
        if failure is not None:
            # Raised outside the except block so it carries no __context__: requests' exceptions keep the
            # request, and the token request's body holds the app secret.
            raise failure
        if response.success():
            log.debug("lark card %s posted to chat %s", response.data.message_id if response.data else "?", chat_id)
            return
        code = response.code if response.code is not None else -1
        if code in TOKEN_INVALID_CODES:
            self._forget_token()
        status = response.raw.status_code if response.raw is not None else "?"
        raise DeliveryError(
            f"Lark rejected the card for chat {chat_id}: "
            f"HTTP {status}, code {code}, msg {self._scrub(str(response.msg))}",
            chat_id=chat_id,
            code=code,
            lark_answered=True,
            retry_after_s=rate_limit_reset(response.raw) if status == 429 or code in RATE_LIMIT_CODES else None,
        )

    def _forget_token(self) -> None:
        """Drop the cached tenant token so the next send fetches a new one instead of failing for two hours."""
        from lark_oapi.core.token import TokenManager

        TokenManager.cache.set(f"self_tenant_token:{self._settings.app_id}", "", 0)

    def _describe(self, exc: BaseException) -> str:
        text = str(exc) or str(getattr(exc, "msg", "")) or "no detail"
        if isinstance(exc, json.JSONDecodeError):
            text = "Lark answered with a body that is not JSON (a gateway error page?)"
        return f"{type(exc).__name__}: {self._scrub(text)}"

    def _scrub(self, text: str) -> str:
        secret = self._settings.app_secret.get_secret_value()
        return text.replace(secret, "***") if secret else text


def rate_limit_reset(raw: Any) -> float:
    """Seconds Lark asks a limited client to wait (its `x-ogw-ratelimit-reset` header), or a second."""
    headers = {k.lower(): v for k, v in (getattr(raw, "headers", None) or {}).items()}
    try:
        return max(0.0, float(headers[RATE_LIMIT_RESET_HEADER]))
    except (KeyError, TypeError, ValueError):
        return RATE_LIMITED_RETRY_S
