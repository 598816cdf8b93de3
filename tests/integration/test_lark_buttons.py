"""Buttons on alert cards, end to end on loopback: the Lark stand-in presses them, signed and encrypted
as Lark does; lark-oapi verifies them in our FastAPI route; the real workspace decides and pushes
orders into the real (embedded) Redis inbox; the answer updates the card in place."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from sales_assistant.application.workspace import Workspace
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.connectors.lark import LarkSettings, LarkSink
from sales_assistant.connectors.lark_actions import build_card_callbacks
from sales_assistant.connectors.sinks import enrich_alert
from sales_assistant.core.messages import CancelClock, Message, Order, Reassign, Snooze
from sales_assistant.core.room import Room
from sales_assistant.policies.deadlines import Alert
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.repository import RedisRepository
from sales_assistant.store.state import commit_escalation, commit_shard_batch, save_roster
from sales_assistant.store.wire import decode_inbox_row
from sales_assistant.web.lark_routes import CARD_PATH, lark_router
from tests.support.lark_standin import LarkStandIn

pytestmark = pytest.mark.integration

NOW = int(datetime(2026, 11, 20, 7, 32, tzinfo=UTC).timestamp() * 1000)  # 15:32 in Shanghai
STARTED = NOW - 20 * 60_000
TOKEN, KEY, APP_SECRET = "vt-verification-token-value", "ek-encrypt-key-value", "app-secret-value"
ROSTER = RosterFile.model_validate({
    "staff": [
        {"id": "s-li", "name": "李雷", "role": "sales", "team": "east", "lark_open_id": "ou_li"},
        {"id": "s-wang", "name": "王芳", "role": "sales", "team": "east", "lark_open_id": "ou_wang"},
        {"id": "m-zhang", "name": "张三", "role": "manager", "lark_open_id": "ou_zhang"},
    ],
    "rooms": [{"id": "R1", "topic": "华东客户群 A", "owner": "s-li"}, {"id": "R2", "topic": "新客户群"}],
}).to_roster()


@dataclass
class World:
    url: str  # our callback endpoint
    lark: LarkStandIn
    r: object
    keys: Keys
    message_id: str  # the alert card in the owner's private chat

    def press(self, action: str, open_id: str, **extra) -> tuple[int, dict | str]:
        value = {"action": action, "room_id": "R1", "clock_id": "m1", "alert_id": "R1/m1/2", **extra}
        return self.lark.click(self.url, self.message_id, value, open_id)

    def orders(self) -> list[Order]:
        """The orders the buttons pushed into the inbox, as the rooms will read them."""
        return [decode_inbox_row(f["k"], f["d"]).order() for _, f in self.r.xrange(self.keys.inbox)]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def world(redis_dir, namespace) -> Iterator[World]:
    _, redis_url = redis_dir
    r, keys = connect(redis_url), Keys(namespace)
    save_roster(r, keys, ROSTER, overwrite_rooms=True)
    room = Room(ROSTER.rooms["R1"])
    room.handle(Message("m1", "R1", "cust-1", "请问报价多少？", STARTED, sender_name="王女士"), None, 1)
    commit_shard_batch(r, keys, [room], {}, [], [], {})
    alert = Alert("R1", "m1", 2, "orange", 20, ("private", "public"), "s-li", "pre_sales", "华东客户群 A",
                  NOW - 60_000, STARTED, "王女士", "请问报价多少？")
    commit_escalation(r, keys, [alert], {}, [])
    with LarkStandIn(app_id=f"cli_{uuid.uuid4().hex[:8]}", app_secret=APP_SECRET, verification_token=TOKEN,
                     encrypt_key=KEY) as lark:
        settings = LarkSettings(app_id=lark.app_id, app_secret=APP_SECRET, domain=lark.url,
                                private_chats={"s-li": "oc_li"}, public_chats={"default": "oc_team"},
                                verification_token=TOKEN, encrypt_key=KEY)
        LarkSink(settings, "Asia/Shanghai").deliver(enrich_alert(alert.to_dict(), ROSTER))
        workspace = Workspace(RedisRepository(r, keys), Inbox(r, keys), "Asia/Shanghai", lambda: NOW)
        app = FastAPI()
        app.include_router(lark_router(build_card_callbacks(settings, workspace)))
        with serving(app) as base:
            card = next(m for m in lark.messages if m["chat_id"] == "oc_li")
            yield World(base + CARD_PATH, lark, r, keys, card["message_id"])


def test_owner_presses_handled_the_clock_is_cancelled_and_the_card_says_who(world: World) -> None:
    status, answer = world.press("cancel", "ou_li")
    assert status == 200
    assert answer["toast"] == {"type": "success", "content": "李雷 已处理 · 11-20 15:32"}
    [order] = world.orders()
    assert isinstance(order, CancelClock) and (order.room_id, order.by, order.ts) == ("R1", "lark:s-li", NOW)
    card = answer["card"]["data"]
    shown = orjson.dumps(card).decode()
    assert "华东客户群 A" in shown and "请问报价多少？" in shown and "李雷 已处理 · 11-20 15:32" in shown
    assert "询问价格" in shown  # the same priority reasons as the card that was sent
    assert not [e for e in card["elements"] if e["tag"] == "action"]  # nothing left to press
    assert world.lark.updates == [{"message_id": world.message_id, "content": card}]
    [audit] = world.r.xrange(world.keys.audit)[-1:]
    assert orjson.loads(audit[1]["d"])["via"] == "lark"


def test_snooze_keeps_the_buttons_and_take_over_of_an_owned_room_is_refused(world: World) -> None:
    status, answer = world.press("snooze", "ou_zhang", minutes=30)  # a manager may act on any room
    assert status == 200 and answer["toast"]["content"] == "张三 稍后提醒 30 分钟 · 11-20 15:32"
    assert [e for e in answer["card"]["data"]["elements"] if e["tag"] == "action"]
    [order] = world.orders()
    assert isinstance(order, Snooze) and order.until == NOW + 30 * 60_000
    status, answer = world.press("take_over", "ou_wang")
    assert answer == {"toast": {"type": "error", "content": "该群已有负责人，请联系管理者改派"}}
    assert len(world.orders()) == 1


def test_a_rep_takes_over_an_unassigned_room(world: World) -> None:
    value = {"action": "take_over", "room_id": "R2", "clock_id": "", "alert_id": ""}
    status, answer = world.lark.click(world.url, world.message_id, value, "ou_wang")
    assert status == 200 and answer["toast"]["content"].startswith("王芳 我来跟进")
    assert "card" not in answer  # no alert to rebuild the card from: the toast says it
    [order] = world.orders()
    assert isinstance(order, Reassign) and order.owner_id == "s-wang"


def test_another_rep_is_refused_with_the_reason_and_nothing_happens(world: World) -> None:
    status, answer = world.press("cancel", "ou_wang")
    assert status == 200 and answer == {"toast": {"type": "error", "content": "只能操作自己负责的群聊"}}
    assert world.orders() == [] and world.lark.updates == []


def test_someone_not_on_the_roster_is_refused(world: World) -> None:
    _, answer = world.press("cancel", "ou_stranger")
    assert answer == {"toast": {"type": "error", "content": "您的飞书账号不在花名册中，不能操作提醒"}}
    assert world.orders() == []


def test_a_press_on_a_card_of_an_older_wait_is_refused(world: World) -> None:
    _, answer = world.press("cancel", "ou_li", clock_id="m0")
    assert answer["toast"] == {"type": "error", "content": "该群当前没有在计时"}
    assert world.orders() == []


@pytest.mark.parametrize("options", [{"sign_key": "forged-" + KEY}, {"signed": False},
                                     {"timestamp": int(time.time()) - 3600}])
def test_forged_unsigned_or_stale_callbacks_are_rejected_and_do_nothing(world: World, options: dict,
                                                                        capsys, caplog) -> None:
    status, _ = world.lark.click(world.url, world.message_id, {"action": "cancel", "room_id": "R1"}, "ou_li",
                                 **options)
    assert status == 401
    assert world.orders() == [] and world.lark.updates == []
    logged = capsys.readouterr().out + caplog.text
    assert TOKEN not in logged and KEY not in logged


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"encrypt": "bm90IGEgY2lwaGVy"}', b"{}"])
def test_garbage_is_a_4xx_never_a_500(world: World, body: bytes) -> None:
    status, _ = world.lark.post(world.url, {"Content-Type": "application/json"}, body)
    assert 400 <= status < 500
    assert world.orders() == []


def test_url_verification_echoes_the_challenge(world: World) -> None:
    status, answer = world.lark.post(world.url, *world.lark.url_verification("challenge-1234"))
    assert status == 200 and answer == {"challenge": "challenge-1234"}
    with LarkStandIn(verification_token="some-other-app", encrypt_key=KEY) as other:
        status, _ = world.lark.post(world.url, *other.url_verification("challenge-1234"))
    assert status == 401
