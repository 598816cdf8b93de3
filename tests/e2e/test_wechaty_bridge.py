"""The WeChat front door end to end: the real service (`run --clock virtual`: embedded Redis, local Ray) and
the real bridge (bridges/wechaty: Node, Wechaty 1.20) on wechaty-puppet-mock, whose chat the scenario
module tests/support/wechaty_mock.mjs plays: room R1@chatroom with the bot, a customer and staff member s1.

One service and one bridge serve the module; each test uses rooms or texts of its own. What the service
knows is read through its API; what the mock room received, from the scenario's room log.
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from sales_assistant.cli.doctor import check_bridge, check_node
from sales_assistant.config.settings import Settings
from sales_assistant.core.roster import Speaker
from sales_assistant.core.timeutil import day_of
from sales_assistant.policies.access import UserRole
from sales_assistant.store.keys import COUNT_SEP, Keys
from sales_assistant.store.outbox import Outbox
from sales_assistant.store.redis import connect, embedded_url, stop_embedded
from sales_assistant.store.users import Accounts
from tests.support.service import Service
from tests.support.wechaty_bridge import BOT, CUSTOMER, ROOM, STAFF, Bridge

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
INGEST_TOKEN, API_TOKEN = "ingest-token-0123456789", "api-token-0123456789"
API = {"Authorization": f"Bearer {API_TOKEN}"}
NS, TZ, M = "wx", "Asia/Shanghai", 60_000
ROSTER = {"staff": [{"id": STAFF, "name": "董森", "role": "sales"}, {"id": "s2", "name": "曾路", "role": "sales"}],
          "rooms": [{"id": ROOM, "topic": "网易严选", "owner": STAFF},
                    {"id": "R9@chatroom", "topic": "机器人不在的群", "owner": STAFF}]}


class Stack:
    def __init__(self, base: Path) -> None:
        (base / "roster.json").write_text(json.dumps(ROSTER, ensure_ascii=False))
        self.data = base / "svc"
        self.svc = Service(self.data, {"SA_INGEST_TOKEN": INGEST_TOKEN, "SA_API_TOKEN": API_TOKEN,
                                       "SA_ROSTER_FILE": str(base / "roster.json"), "SA_NAMESPACE": NS,
                                       "SA_SINKS": '["jsonl"]', "SA_CLOSING_MODEL": "keywords",
                                       "SA_NLP__CHECK_STAFF": "false", "SA_TIMEZONE": TZ})
        self.svc.start(timeout_s=300)
        self.bridge = Bridge(base, self.svc.url, INGEST_TOKEN).start()
        accounts = Accounts(self.redis(), Keys(NS))
        accounts.create("rep1", "rep1-password", UserRole.SALES, "董森", STAFF)
        accounts.create("rep2", "rep2-password", UserRole.SALES, "曾路", "s2")
        self.tokens = {u: {"Authorization": f"Bearer {accounts.issue_token(u)}"} for u in ("rep1", "rep2")}

    def redis(self):
        return connect(embedded_url(self.data))

    def get(self, path: str, **params) -> dict:
        r = httpx.get(f"{self.svc.url}{path}", params=params, headers=API, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: dict, headers: dict = API) -> httpx.Response:
        return httpx.post(f"{self.svc.url}{path}", json=body, headers=headers, timeout=30)

    def room(self, room_id: str = ROOM) -> dict:
        return self.get(f"/api/rooms/{room_id}")

    def rooms(self) -> dict[str, dict]:
        return {r["room_id"]: r for r in self.get("/api/rooms")["rooms"]}

    def wait(self, check, what: str, timeout_s: float = 60):
        return self.svc.wait_until(check, timeout_s, f"{what}; bridge log: {self.bridge.tail()}")

    def say_state(self, say_id: str) -> dict | None:
        return Outbox(self.redis(), Keys(NS)).say(say_id)

    def say(self, text: str, room_id: str = ROOM) -> str:
        r = self.post(f"/api/rooms/{room_id}/say", {"text": text})
        assert r.status_code == 202, r.text
        return r.json()["audit"]["after"]["say_id"]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    base = tmp_path_factory.mktemp("wechaty")
    s = Stack(base)
    try:
        yield s
    finally:
        s.bridge.stop()
        s.svc.stop()
        stop_embedded(s.data)


@pytest.fixture
def stack(running):
    """The module's service and bridge, both up (a failed test may have left the bridge killed)."""
    if not running.bridge.alive():
        running.bridge.start()
    return running


def message_ids(room: dict) -> list[str]:
    return [m["message_id"] for m in room["messages"]]


def test_a_customer_message_starts_a_clock_a_green_alert_fires_and_the_staff_reply_stops_it(stack):
    stack.bridge.say(CUSTOMER, "在吗？想问下企业版的报价")
    room = stack.wait(lambda: (r := stack.room())["waiting"] and r, "the customer's message starts a clock")
    assert room["customer_name"] == "王女士" and room["topic"] == "网易严选"
    started = room["started_at"]
    fired = stack.post("/api/clock/tick", {"now": started + 5 * M + 1000}).json()["alerts_fired"]
    assert fired >= 1
    alerts = [a for a in stack.get("/api/alerts")["alerts"] if a["room_id"] == ROOM]
    assert [a["level"] for a in alerts] == ["green"]
    stack.bridge.say(STAFF, "您好，报价单马上发您")
    stack.wait(lambda: not stack.room()["waiting"], "the staff member's reply stops the clock")
    last = stack.room()["messages"][-1]
    assert (last["sender_id"], last["speaker"], last["text"]) == (STAFF, Speaker.OWNER.value, "您好，报价单马上发您")


def test_room_join_and_topic_change_reach_the_dashboards_rooms(stack):
    stack.bridge.act("invite", room="R2@chatroom", topic="得物", contacts=[{"id": "wxid_li", "name": "李先生"}],
                     by=STAFF)
    new = stack.wait(lambda: stack.rooms().get("R2@chatroom"), "the room the bot was invited into appears")
    assert (new["topic"], new["owner_id"], new["waiting"]) == ("得物", None, False)  # unassigned, no clock
    stack.bridge.act("topic", room="R2@chatroom", topic="得物旗舰店", by="wxid_li")
    stack.wait(lambda: stack.rooms()["R2@chatroom"]["topic"] == "得物旗舰店", "the new topic is shown")
    stack.bridge.act("join", room=ROOM, contacts=[{"id": "wxid_zhao", "name": "赵六"}], by=STAFF)
    note = stack.wait(lambda: next((m for m in stack.room()["messages"] if "赵六" in m["text"]), None),
                      "the join is noted in the room")
    assert note["speaker"] == Speaker.BOT.value and note["text"] == "董森 邀请 赵六 加入了群聊"
    page = httpx.get(f"{stack.svc.url}/", headers=API, timeout=30)
    assert page.status_code == 200 and "得物旗舰店" in page.text  # the dashboard's room list


def test_a_say_reaches_the_room_once_and_a_killed_bridge_says_it_at_most_once_more(stack):
    bridge = stack.bridge
    # Role-checked like every write: a rep only in their own rooms.
    assert stack.post(f"/api/rooms/{ROOM}/say", {"text": "x"}, stack.tokens["rep2"]).status_code == 403
    assert stack.post(f"/api/rooms/{ROOM}/say", {"text": ""}, stack.tokens["rep1"]).status_code == 422
    bridge.say(CUSTOMER, "发票什么时候开？")
    clock = stack.wait(lambda: (r := stack.room())["waiting"] and r["clock_id"], "a clock runs")

    # 1. Said exactly once; acknowledged with the id Wechaty returned (the mock returns none); the bot's
    # echo is the bot's and leaves the running clock alone.
    r = stack.post(f"/api/rooms/{ROOM}/say", {"text": "发票今天开出"}, stack.tokens["rep1"])
    assert r.status_code == 202, r.text
    first = r.json()["audit"]["after"]["say_id"]
    stack.wait(lambda: stack.say_state(first)["status"] == "said", "the first say is acknowledged")
    echo = stack.wait(lambda: next((m for m in stack.room()["messages"] if m["text"] == "发票今天开出"), None),
                      "the bot's echo reaches the service")
    assert echo["speaker"] == Speaker.BOT.value and echo["sender_id"] == BOT
    room = stack.room()
    assert room["waiting"] and room["clock_id"] == clock
    assert bridge.said("发票今天开出") == 1
    assert any(e["action"] == "say" and e["user"] == "rep1" for e in room["audit"])

    # 2. Killed between saying and recording (frozen inside room.say, the text already in the room): the
    # restarted bridge finds the say recorded as "saying" only, so it says it again: exactly once more.
    bridge.act("hold-next-say")
    second = stack.say("发票已寄出，请查收")
    stack.wait(lambda: bridge.said("发票已寄出，请查收") == 1 and bridge.stopped(), "the bridge freezes mid-say")
    assert {"k": "saying", "id": second} in bridge.spool_records()
    assert {"k": "done", "id": second} not in [{"k": r["k"], "id": r.get("id")} for r in bridge.spool_records()]
    bridge.kill()
    bridge.start()
    stack.wait(lambda: stack.say_state(second)["status"] == "said", "the say is acknowledged after the restart")
    assert bridge.said("发票已寄出，请查收") == 2  # once more: the kill fell between saying and recording

    # 3. Killed after recording, before the acknowledgement went through (the service frozen meanwhile):
    # the restarted bridge knows it said it and only acknowledges it: said exactly once.
    bridge.act("hold-next-say")
    third = stack.say("快递单号稍后发您")
    stack.wait(lambda: bridge.said("快递单号稍后发您") == 1 and bridge.stopped(), "the bridge freezes mid-say")
    stack.svc.proc.send_signal(signal.SIGSTOP)  # the service's web process: no acknowledgement is answered
    try:
        bridge.signal(signal.SIGCONT)
        stack.wait(lambda: any(r["k"] == "done" and r["id"] == third for r in bridge.spool_records()),
                   "the bridge records the say as done")
        bridge.kill()
        # Read in Redis (a process of its own) while the web process is still frozen: not acknowledged when
        # the bridge died. (Once thawed, the service may still read the dead bridge's acknowledgement from
        # its socket; either way the restarted bridge must not say it again.)
        assert stack.say_state(third)["status"] == "queued"
    finally:
        stack.svc.proc.send_signal(signal.SIGCONT)
    bridge.start()
    stack.wait(lambda: stack.say_state(third)["status"] == "said", "the say is acknowledged after the restart")
    assert bridge.said("快递单号稍后发您") == 1  # never said again: the spool knew it was said

    # 4. A room the bot is not in: the say fails visibly, audited on the room and shown on its page.
    failed = stack.say("这条发不出去", "R9@chatroom")
    stack.wait(lambda: stack.say_state(failed)["status"] == "failed", "the failure is acknowledged")
    assert stack.say_state(failed)["error"] == "not_in_room"
    audit = stack.room("R9@chatroom")["audit"]
    assert any(e["action"] == "say_failed" and e["after"]["error"] == "not_in_room" for e in audit)
    page = httpx.get(f"{stack.svc.url}/rooms/R9@chatroom", headers=API, timeout=30)
    assert "群内发言失败" in page.text and "not_in_room" in page.text
    # The restarted bridge reports its login with its next status, which may come after the says it settled.
    stack.wait(lambda: (h := stack.get("/api/health")["bridge"])["outbox_backlog"] == 0 and h["login"] == "logged_in",
               "health shows an empty outbox and the restarted bridge logged in")


def test_messages_sent_while_the_service_is_down_all_arrive_in_order_without_duplicates(stack):
    bridge = stack.bridge
    bridge.act("invite", room="R4@chatroom", topic="批量", contacts=[{"id": CUSTOMER}], by=STAFF)
    stack.wait(lambda: "R4@chatroom" in stack.rooms(), "the room exists")
    stack.svc.stop()
    texts = [f"第{i:03d}条" for i in range(1, 201)]
    for text in texts:
        bridge.say(CUSTOMER, text, room="R4@chatroom")
    stack.wait(lambda: sum(1 for r in bridge.spool_records() if r["k"] == "in"
                           and r["p"]["roomId"] == "R4@chatroom" and r["p"]["type"] == 7) == 200,
               "the bridge spools all 200")
    assert bridge.alive()
    stack.svc.start(timeout_s=300)
    r, keys = stack.redis(), Keys(NS)
    day = day_of(stack.room("R4@chatroom")["messages"][0]["ts"], TZ)
    customer = f"R4@chatroom{COUNT_SEP}{Speaker.CUSTOMER.value}"
    stack.wait(lambda: int(r.hget(keys.counts(day), customer) or 0) >= 200, "all 200 applied", timeout_s=180)
    stack.wait(lambda: stack.get("/api/health")["caught_up"], "the inbox drained")
    assert int(r.hget(keys.counts(day), customer)) == 200  # each once
    stats = stack.get("/api/health")["stats"]
    assert stats.get("rejected:out_of_order", 0) == 0  # a message after a later one would have been refused
    tail = [m["text"] for m in stack.room("R4@chatroom")["messages"] if m["sender_id"] == CUSTOMER]
    assert tail == texts[-len(tail):] and len(tail) >= 20  # the latest, in the order they were written


def test_an_error_event_from_the_puppet_keeps_the_bridge_running(stack):
    bridge = stack.bridge
    before = stack.wait(lambda: stack.get("/api/health")["bridge"], "the bridge reports itself")["errors"]
    bridge.act("error", message="puppet-mock: simulated failure")
    stack.wait(lambda: stack.get("/api/health")["bridge"]["errors"] > before, "the error is counted")
    assert bridge.alive() and "simulated failure" in bridge.tail()
    bridge.say(CUSTOMER, "还在吗？")
    stack.wait(lambda: any(m["text"] == "还在吗？" for m in stack.room()["messages"]), "messages still flow")
    # `doctor` sees it too: Node and the locked install, and a bridge in contact and logged in.
    settings = Settings(http={"host": "127.0.0.1", "port": stack.svc.port})
    assert [(c.name, c.status) for c in (check_node(), check_bridge(settings))] == [("node", "ok"), ("bridge", "ok")]
