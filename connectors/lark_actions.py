"""The buttons on alert cards: Lark's `card.action.trigger` callback, turned into a workspace order
and answered with a toast and the card updated in place.

Lark encrypts each callback with the app's encrypt key and signs it (X-Lark-Signature: sha256 of
timestamp, nonce, encrypt key and body); lark-oapi's EventDispatcherHandler decrypts, checks the
signature and the verification token, and calls `CardCallbacks._on_trigger`. lark-oapi answers
whatever it refuses with a 500; here that becomes a 401, and nothing was acted on. Who may press what
is decided by policies/access.py through application.workspace.Workspace, as for the dashboard.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sales_assistant.application.workspace import Workspace
from sales_assistant.connectors.i18n import PRESENCE_STATES, refusal_text
from sales_assistant.connectors.lark import (
    CARD_ACTIONS,
    FOLLOWUP_ACTIONS,
    LarkSettings,
    action_note,
    build_alert_card,
    followup_note,
)
from sales_assistant.connectors.sinks import enrich_alert
from sales_assistant.core.roster import Role, Roster
from sales_assistant.policies.access import Actor, Refused, UserRole
from sales_assistant.store.inbox import Backlogged

if TYPE_CHECKING:  # lark_oapi takes seconds to import: only a configured callback pays for it
    from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
    from lark_oapi.core.model import RawRequest, RawResponse
    from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTrigger, P2CardActionTriggerResponse

log = logging.getLogger(__name__)

# Lark stamps each callback; one older (or newer) than this is a replay of a captured request.
MAX_SKEW_S = 300

_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "not_staff": "您的飞书账号不在花名册中，不能操作提醒",
        "bad_action": "无法识别的操作，请在最新的提醒卡片上操作",
        "busy": "系统繁忙，请稍后再试",
        "failed": "操作失败，请稍后再试",
        "cancel_reason": "飞书卡片：已处理",
    },
    "en": {
        "not_staff": "your Lark account is not on the staff roster",
        "bad_action": "unknown action; use the buttons on the latest alert card",
        "busy": "the service is busy; try again in a moment",
        "failed": "that did not work; try again later",
        "cancel_reason": "Lark card: handled",
    },
}


def actor_for(roster: Roster, open_id: str | None) -> Actor | None:
    """The staff member behind a Lark account, as the access rules see them; None for anyone else."""
    if not open_id:
        return None
    staff = next((s for s in roster.staff.values() if s.lark_open_id == open_id), None)
    if staff is None:
        return None
    role = UserRole.MANAGER if staff.role is Role.MANAGER else UserRole.SALES
    return Actor(user=f"lark:{staff.id}", name=staff.name, role=role, staff_id=staff.id, via="lark")


def toast(kind: str, content: str) -> dict[str, Any]:
    """A callback answer that only shows a message: the card stays as it is."""
    return {"toast": {"type": kind, "content": content}}


class CardActions:
    """One button press -> one workspace call -> what Lark shows the person who pressed it."""

    def __init__(self, workspace: Workspace, lang: str = "zh") -> None:
        self.workspace = workspace
        self.lang = "en" if lang == "en" else "zh"

    def press(self, open_id: str | None, value: Any) -> dict[str, Any]:
        """The answer for Lark: a toast, plus the updated card when something was done."""
        t = _TEXTS[self.lang]
        roster = self.workspace.roster()
        actor = actor_for(roster, open_id)
        if actor is None:
            log.info("card button pressed by %s, who is not on the roster", open_id or "(no open_id)")
            return toast("error", t["not_staff"])
        if isinstance(value, dict) and value.get("action") in FOLLOWUP_ACTIONS:
            return self._follow_up(actor, value)
        request = _parse(value)
        if request is None:
            return toast("error", t["bad_action"])
        action, room_id, clock_id, alert_id, minutes = request
        ws = self.workspace
        try:
            if action == "cancel":
                entry = ws.cancel_clock(actor, room_id, reason=t["cancel_reason"], clock_id=clock_id)
            elif action == "take_over":
                entry = ws.take_over(actor, room_id)
            else:
                entry = ws.snooze(actor, room_id, minutes, clock_id=clock_id)
        except Refused as refused:
            log.info("card button %s on %s by %s refused: %s", action, room_id, actor.user, refused.code.value)
            return toast("error", refusal_text(refused, self.lang))
        except Backlogged:
            return toast("warning", t["busy"])
        note = action_note(action, actor.name, entry["at"], self.lang, ws.tz, minutes)
        answer: dict[str, Any] = {"toast": {"type": "success", "content": note}}
        try:
            alert = ws.alert(alert_id) if alert_id else None
        except Exception:  # noqa: BLE001 - it was done: say so, even if the card cannot be redrawn
            log.exception("card for alert %s not redrawn", alert_id)
            alert = None
        if alert is not None:
            shown = enrich_alert(alert, roster, ws.rules, self.lang)
            # Snoozing leaves the wait open: the buttons stay for the next decision.
            card = build_alert_card(shown, self.lang, tz=ws.tz, note=note, buttons=action == "snooze")
            answer["card"] = {"type": "raw", "data": card}
        return answer


    def _follow_up(self, actor: Actor, value: dict) -> dict[str, Any]:
        """A button of a follow-up card: 我来跟进 takes the room (the owner keeps it), the others hold its reminders."""
        t, ws = _TEXTS[self.lang], self.workspace
        action, room_id, minutes = value["action"], value.get("room_id"), value.get("minutes")
        if not isinstance(room_id, str) or not room_id or not (minutes is None or type(minutes) is int):
            return toast("error", t["bad_action"])
        try:
            if action == "followup_take":
                entry = ws.take_over(actor, room_id)
            else:
                entry = ws.hold_follow_up(actor, room_id, action.removeprefix("followup_"), minutes)
        except Refused as refused:
            return toast("error", refusal_text(refused, self.lang))
        except Backlogged:
            return toast("warning", t["busy"])
        return toast("success", followup_note(action, actor.name, entry["at"], self.lang, ws.tz, minutes))

    def command(self, open_id: str | None, text: str) -> str | None:
        """A rep's message to the bot that sets their state: "专注 45" (minutes), "会议", "外出 120", "下班",
        "在岗" to clear (or focus / meeting / away / off / back). The audit entry's action, or None when the text
        is no command or the sender is not staff; a refusal is logged."""
        actor = actor_for(self.workspace.roster(), open_id)
        parsed = parse_command(text)
        if actor is None or actor.staff_id is None or parsed is None:
            return None
        state, minutes = parsed
        try:
            entry = self.workspace.set_presence(actor, actor.staff_id, state, minutes)
        except (Refused, Backlogged) as e:
            log.info("state command %r by %s not applied: %s", text, actor.user, e)
            return None
        return entry["action"]


# The words a state command starts with (connectors.i18n.PRESENCE_STATES' zh labels, and English), and "back".
_COMMANDS = {**{zh: state for state, (zh, _) in PRESENCE_STATES.items()}, **{s: s for s in PRESENCE_STATES},
             "在岗": None, "back": None}


def parse_command(text: str) -> tuple[str | None, int | None] | None:
    """("focus", 45) from "专注 45"; (None, None) from "在岗"; None when the text is not a state command."""
    words = text.strip().lower().split()
    if not words or words[0] not in _COMMANDS or len(words) > 2:
        return None
    state = _COMMANDS[words[0]]
    if len(words) == 1:
        return state, None
    if state is None or not words[1].isdigit():
        return None
    return state, int(words[1])


def _parse(value: Any) -> tuple[str, str, str | None, str | None, int | None] | None:
    """(action, room_id, clock_id, alert_id, minutes) from a button's value, or None if it is not ours."""
    if not isinstance(value, dict):
        return None
    action, room_id = value.get("action"), value.get("room_id")
    if action not in CARD_ACTIONS or not isinstance(room_id, str) or not room_id:
        return None
    clock_id, alert_id = value.get("clock_id") or None, value.get("alert_id") or None
    if not (clock_id is None or isinstance(clock_id, str)) or not (alert_id is None or isinstance(alert_id, str)):
        return None
    minutes = None
    if action == "snooze":
        minutes = value.get("minutes")
        if isinstance(minutes, str) and minutes.isdigit():
            minutes = int(minutes)
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            return None
    return action, room_id, clock_id, alert_id, minutes


class CardCallbacks:
    """The handler behind POST /lark/card: lark-oapi's verification, our answers, 4xx for the rest."""

    def __init__(self, settings: LarkSettings, actions: CardActions, now: Callable[[], float] = time.time) -> None:
        token = settings.verification_token.get_secret_value()
        key = settings.encrypt_key.get_secret_value()
        if not token:
            raise ValueError("lark.verification_token: required for the card buttons (SA_LARK__VERIFICATION_TOKEN)")
        if not key:
            # Without an encrypt key Lark neither encrypts nor signs callbacks: anyone could press for anyone.
            raise ValueError("lark.encrypt_key: required for the card buttons (SA_LARK__ENCRYPT_KEY)")
        import lark_oapi  # deferred: see TYPE_CHECKING above

        self.actions, self._now = actions, now
        self._handler = (lark_oapi.EventDispatcherHandler.builder(key, token)
                         .register_p2_card_action_trigger(self._on_trigger)
                         .register_p2_im_message_receive_v1(self._on_message)
                         .build())

    def __repr__(self) -> str:
        return "CardCallbacks()"  # the handler holds the token and the key

    def do(self, request: RawRequest) -> RawResponse:
        """Lark's callback in, the answer out; a request that cannot be verified gets a 4xx and does nothing."""
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return _refusal(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _refusal(400, "the body is not a JSON object")
        stamp = _header(request, "X-Lark-Request-Timestamp")
        if stamp is not None and not _fresh(stamp, self._now()):
            return _refusal(401, "stale or malformed X-Lark-Request-Timestamp")
        response: RawResponse = self._handler.do(request)
        if response.status_code != 200:
            # lark-oapi answers a bad signature, token or cipher text with a 500 and its reason.
            reason = (response.content or b"").decode("utf-8", "replace")[:200]
            log.warning("rejected a Lark callback to %s: %s", request.uri, reason)
            return _refusal(401, "not a verifiable Lark callback")
        return response

    def _on_message(self, data: P2ImMessageReceiveV1) -> None:
        """A message to the bot (im.message.receive_v1, subscribed to this same URL): a state command."""
        event = data.event
        sender = event.sender if event is not None else None
        open_id = sender.sender_id.open_id if sender is not None and sender.sender_id is not None else None
        message = event.message if event is not None else None
        if message is None or message.message_type != "text":
            return
        try:
            text = json.loads(message.content or "{}").get("text", "")
            self.actions.command(open_id, text if isinstance(text, str) else "")
        except Exception:  # noqa: BLE001 - Redis down and the like: Lark must still get its 200
            log.exception("state command by %s failed", open_id)

    def _on_trigger(self, data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

        event = data.event
        open_id = event.operator.open_id if event is not None and event.operator is not None else None
        value = event.action.value if event is not None and event.action is not None else None
        try:
            answer = self.actions.press(open_id, value)
        except Exception:  # noqa: BLE001 - Redis down and the like: the person sees a toast, never a 500
            log.exception("card button press by %s failed", open_id)
            answer = toast("error", _TEXTS[self.actions.lang]["failed"])
        return P2CardActionTriggerResponse(answer)


def build_card_callbacks(settings: LarkSettings, workspace: Workspace) -> CardCallbacks:
    """The handler for `web.lark_routes.lark_router`, answering in Lark's configured language."""
    return CardCallbacks(settings, CardActions(workspace, settings.lang))


def _header(request: RawRequest, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in request.headers.items() if k.lower() == wanted), None)


def _fresh(stamp: str, now_s: float) -> bool:
    try:
        return abs(now_s - int(stamp)) <= MAX_SKEW_S
    except ValueError:
        return False


def _refusal(status: int, reason: str) -> RawResponse:
    from lark_oapi.core.model import RawResponse

    response = RawResponse()
    response.status_code = status
    response.set_content_type("application/json; charset=utf-8")
    response.content = json.dumps({"msg": reason}).encode()
    return response
