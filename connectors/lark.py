"""Lark (Feishu) alert sink: one interactive card per alert, posted to the rep's and the team's chats.

The card is built by a pure function so it can be tested without the network. The sink is a thin
shell over lark-oapi: it resolves chats, sends once per chat with a deterministic `uuid` (Lark drops a
second message with the same uuid within an hour, so a resend after a crash does not double-post) and
raises `DeliveryError` on any failure. Retries and backoff belong to the notifier, not here.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, SecretStr

from core.timeutil import zone

if TYPE_CHECKING:  # lark_oapi takes seconds to import (it loads every Lark service): only the sink pays
    import lark_oapi

log = logging.getLogger(__name__)

BUSINESS_TZ = "Asia/Shanghai"
LAST_TEXT_LIMIT = 200
NAME_LIMIT = 64
WHY_LIMIT = 300

# Alert levels are Lark header templates of the same name; an unknown level is shown loud.
LEVEL_TEMPLATES = {level: level for level in ("green", "yellow", "orange", "red", "purple", "grey")}
UNKNOWN_LEVEL_TEMPLATE = "red"

# The 稍后提醒 buttons: minutes a rep can push the next alert back by.
SNOOZE_MINUTES = (10, 30, 60)
CARD_ACTIONS = ("cancel", "take_over", "snooze")

# Lark codes meaning "this tenant_access_token is no good"; lark-oapi would keep serving it from its cache.
TOKEN_INVALID_CODES = frozenset({99991661, 99991663, 99991664, 99991665, 99991666, 99991668})

_TEXTS: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "{level}提醒 · 客户已等待 {minutes} 分钟",
        "levels": {
            "green": "绿色", "yellow": "黄色", "orange": "橙色", "red": "红色", "purple": "紫色", "grey": "灰色",
        },
        "room": "群聊",
        "owner": "负责人",
        "unassigned": "无负责人",
        "waited": "等待时长",
        "minutes": "{minutes} 分钟",
        "stage": "阶段",
        "stages": {"pre_sales": "售前", "after_sales": "售后"},
        "at": "超时时刻（北京时间）",
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
    },
    "en": {
        "title": "{level} alert · customer waiting {minutes} min",
        "levels": {
            "green": "Green", "yellow": "Yellow", "orange": "Orange", "red": "Red", "purple": "Purple", "grey": "Grey",
        },
        "room": "Room",
        "owner": "Owner",
        "unassigned": "unassigned",
        "waited": "Waited",
        "minutes": "{minutes} min",
        "stage": "Stage",
        "stages": {"pre_sales": "Pre-sales", "after_sales": "After-sales"},
        "at": "Overdue since (Asia/Shanghai)",
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
    },
}


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


class DeliveryError(Exception):
    """A card did not reach Lark. Safe to retry: every send carries the same idempotency key."""

    def __init__(
        self, message: str, *, chat_id: str | None = None, code: int | None = None, lark_answered: bool = False
    ) -> None:
        super().__init__(message)
        self.chat_id = chat_id
        self.code = code  # Lark's error code when it gave one
        self.lark_answered = lark_answered  # False: timeout, refused, gateway page, no token


# --- the card (pure) ------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def local_time(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, zone(BUSINESS_TZ)).strftime("%Y-%m-%d %H:%M:%S")


def _plain(content: str) -> dict[str, str]:
    # plain_text, never lark_md: topics, names and messages are written by customers, and lark_md
    # would render their markdown, links and <at id=all> mentions.
    return {"tag": "plain_text", "content": content}


def _field(label: str, value: str) -> dict[str, Any]:
    return {"is_short": True, "text": _plain(f"{label}：{value}")}


def build_alert_card(alert: dict, lang: str = "zh", *, note: str | None = None, buttons: bool = True) -> dict:
    """The interactive card (msg_type "interactive") for one alert; Chinese unless lang == "en".

    `note` says who acted on it (see `action_note`); `buttons` off once nothing is left to do.
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
    title = t["title"].format(level=t["levels"].get(level, level), minutes=minutes)
    fields = [
        _field(t["room"], room),
        _field(t["owner"], owner),
        _field(t["waited"], t["minutes"].format(minutes=minutes)),
        _field(t["stage"], stage),
        _field(t["at"], local_time(int(alert["at"]))),
        _field(t["customer"], customer),
    ]
    if alert.get("priority_why"):
        fields.append({"is_short": False, "text": _plain(f"{t['why']}：{clip(str(alert['priority_why']), WHY_LIMIT)}")})
    elements: list[dict[str, Any]] = [
        {"tag": "div", "fields": fields},
        {"tag": "hr"},
        {"tag": "div", "text": _plain(f"{t['last_text']}：\n{last_text}")},
    ]
    if note:
        elements.append({"tag": "note", "elements": [_plain(note)]})
    if buttons:
        elements.append({"tag": "action", "layout": "flow", "actions": _buttons(alert, t)})
    elements.append({"tag": "note", "elements": [_plain(f"{t['alert_id']}：{alert.get('alert_id', '')}")]})
    return {
        # update_multi: a shared card, so an update after a button press shows to everyone in the chat.
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"template": LEVEL_TEMPLATES.get(level, UNKNOWN_LEVEL_TEMPLATE), "title": _plain(title)},
        "elements": elements,
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


def action_note(action: str, name: str, at_ms: int, lang: str = "zh", tz: str = BUSINESS_TZ,
                minutes: int | None = None) -> str:
    """Who did what to the alert, and when: "张三 已处理 · 11-20 15:32"."""
    t = _TEXTS["en" if lang == "en" else "zh"]
    did = t["done"][action].format(name=clip(name, NAME_LIMIT), minutes=minutes)
    return f"{did} · {datetime.fromtimestamp(at_ms / 1000, zone(tz)).strftime('%m-%d %H:%M')}"


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
    elements = [
        _field("群聊" if zh else "Room", room),
        _field("已发送" if zh else "You sent", clip(suggestion.get("text", ""), 300)),
        _field("建议改为" if zh else "Suggested", clip(suggestion.get("corrected", ""), 300)),
        _field("原因" if zh else "Why", clip("；".join(reasons) if zh else "; ".join(reasons), 500)),
    ]
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": "blue",
                   "title": _plain("措辞建议" if zh else "Wording suggestion")},
        "elements": elements,
    }


class LarkSink:
    """Sends alert cards through lark-oapi; one call to `deliver` per alert, no retries of its own."""

    name = "lark"

    def __init__(self, settings: LarkSettings) -> None:
        import lark_oapi  # deferred: see TYPE_CHECKING above

        if not settings.app_id:
            raise ValueError("lark.app_id: required for the Lark sink")
        if not settings.app_secret.get_secret_value():
            raise ValueError("lark.app_secret: required for the Lark sink")
        if not settings.public_chats and not settings.private_chats:
            raise ValueError("lark.public_chats: configure at least one chat (team 'default' is the fallback)")
        if settings.timeout_s <= 0:
            raise ValueError("lark.timeout_s: must be positive")
        self._settings = settings
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

    def __repr__(self) -> str:
        return f"LarkSink(app_id={self._settings.app_id!r}, domain={self._settings.domain!r})"

    def deliver(self, alert: dict) -> None:
        """Post the alert's card to every chat its targets resolve to.

        A chat that Lark rejects does not stop the others (their keys make a later resend harmless);
        a transport failure does, since the next chat would only wait out the same timeout.
        """
        chats = self.chats_for(alert)
        if not chats:
            team = alert.get("team")
            raise DeliveryError(f"no Lark chat configured for alert {alert.get('alert_id')} (team {team!r})")
        content = json.dumps(build_alert_card(alert, self._settings.lang), ensure_ascii=False)
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

    def deliver_suggestion(self, suggestion: dict) -> None:
        """A suggestion is for the rep who wrote the message only: their private chat, never the team's."""
        chat_id = self._settings.private_chats.get(suggestion.get("sender_id") or "")
        if not chat_id:
            return  # no private chat for this writer (a colleague, or not configured): nothing to send
        content = json.dumps(build_suggestion_card(suggestion, self._settings.lang), ensure_ascii=False)
        self._send(chat_id, content, idempotency_key(f"suggestion/{suggestion['suggestion_id']}", chat_id))

    def chats_for(self, alert: dict) -> list[str]:
        """Chat ids for the alert's targets, in order, without duplicates."""
        chats: list[str] = []
        for target in alert.get("targets") or ():
            if target == "private":
                chat = self._private_chat(alert.get("owner_id"), alert.get("team"))
            elif target == "public":
                chat = self._public_chat(alert.get("team"))
            else:
                raise DeliveryError(f"unknown alert target {target!r} in alert {alert.get('alert_id')}")
            if chat and chat not in chats:
                chats.append(chat)
        return chats

    def close(self) -> None:
        """Nothing to release: lark-oapi opens a fresh connection per request. Kept so every sink closes alike."""

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

    def _send(self, chat_id: str, content: str, uuid: str) -> None:
        from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody

        request = (
            CreateMessageRequest.builder()
            .receive_id_type("chat_id")
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
