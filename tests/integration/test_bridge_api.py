"""The service's side of the WeChat bridge on the real pipeline (Ray actors, embedded Redis): says queued by
staff (role-checked, audited) and by automations, the bridge's long poll (what it took and did not
acknowledge first), acknowledgements recorded once, failures shown on the room, and the bridge's health."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.cli.bootstrap import build_pipeline, build_services, load_config
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff
from sales_assistant.policies.access import UserRole
from sales_assistant.store.outbox import Outbox, touch_bridge
from sales_assistant.web.app import create_app
from sales_assistant.web.bridge_routes import wall_ms

pytestmark = pytest.mark.integration
API = {"Authorization": "Bearer api-secret-0123456789"}
INGEST = {"Authorization": "Bearer ingest-secret-0123456789"}


@pytest.fixture
def client(ray_session, redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=1, closing_model="keywords",
                         nlp={"check_staff": False}, api_token="api-secret-0123456789",
                         ingest_token="ingest-secret-0123456789", bridge={"silent_after_s": 60})
    p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
    p.load_roster(Roster({"s1": Staff("s1", "董森", Role.SALES), "s2": Staff("s2", "曾路", Role.SALES)},
                         {"R1": RoomInfo("R1", "网易严选", "s1"), "R2": RoomInfo("R2", "得物", "s2")}),
                  overwrite_rooms=True)
    p.start(log_to_driver=False)
    services = build_services(config, p.inbox, advance=p.advance)
    for name, role, staff in (("rep1", UserRole.SALES, "s1"), ("look", UserRole.VIEWER, None)):
        services.accounts.create(name, f"{name}-password", role, name, staff)
    c = TestClient(create_app(services))
    c.services = services
    c.tokens = {u: {"Authorization": f"Bearer {services.accounts.issue_token(u)}"} for u in ("rep1", "look")}
    yield c
    p.stop()


def poll(c: TestClient, after: str = "0") -> dict:
    r = c.get("/api/bridge/outbox", params={"after": after, "wait": 0}, headers=INGEST)
    assert r.status_code == 200, r.text
    return r.json()


def test_says_are_role_checked_audited_and_queued_for_the_bridge(client):
    c = client
    assert c.post("/api/rooms/R2/say", json={"text": "您好"}, headers=c.tokens["rep1"]).status_code == 403
    assert c.post("/api/rooms/R1/say", json={"text": "您好"}, headers=c.tokens["look"]).status_code == 403
    assert c.post("/api/rooms/R9/say", json={"text": "您好"}, headers=API).status_code == 404
    bad = c.post("/api/rooms/R1/say", json={"text": ""}, headers=c.tokens["rep1"])
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "body.text"
    assert c.post("/api/rooms/R1/say", json={"text": "  "}, headers=API).json()["code"] == "empty_say"
    r = c.post("/api/rooms/R1/say", json={"text": "报价单已发您", "mentions": ["cust"]}, headers=c.tokens["rep1"])
    assert r.status_code == 202, r.text
    mine = r.json()["audit"]
    assert (mine["action"], mine["user"], mine["after"]["mentions"]) == ("say", "rep1", ["cust"])
    auto = c.services.workspace.automated_say("faq", "R1", "营业时间：9:00-18:00")
    assert (auto["user"], auto["via"]) == ("automation:faq", "automation")

    got = poll(c)
    assert [(e["id"], e["roomId"], e["text"]) for e in got["entries"]] == [
        (mine["after"]["say_id"], "R1", "报价单已发您"), (auto["after"]["say_id"], "R1", "营业时间：9:00-18:00")]
    assert got["after"] == ">" and poll(c, ">")["entries"] == []
    # A restarted bridge polls from "0": what it took and never acknowledged comes again, then the cursor moves on.
    again = poll(c, "0")
    assert [e["id"] for e in again["entries"]] == [e["id"] for e in got["entries"]]
    assert poll(c, again["after"]) == {"entries": [], "after": ">"}
    assert c.get("/api/health").json()["bridge"]["outbox_backlog"] == 2


def test_acknowledgements_are_recorded_once_and_failures_show_on_the_room(client):
    c = client
    ok = c.post("/api/rooms/R1/say", json={"text": "好的"}, headers=API).json()["audit"]["after"]["say_id"]
    bad = c.post("/api/rooms/R2/say", json={"text": "发不出去"}, headers=API).json()["audit"]["after"]["say_id"]
    poll(c)
    assert c.post(f"/api/bridge/outbox/{ok}/ack", json={"wechatyMessageId": "wx-1"}, headers=API).status_code == 401
    first = c.post(f"/api/bridge/outbox/{ok}/ack", json={"wechatyMessageId": "wx-1"}, headers=INGEST).json()
    again = c.post(f"/api/bridge/outbox/{ok}/ack", json={"wechatyMessageId": "wx-2"}, headers=INGEST).json()
    assert (first["recorded"], again["recorded"]) == (True, False)
    assert c.post(f"/api/bridge/outbox/say-{'0' * 32}/ack", json={}, headers=INGEST).status_code == 404
    assert c.post("/api/bridge/outbox/nothing/ack", json={}, headers=INGEST).status_code == 422
    assert c.post(f"/api/bridge/outbox/{bad}/ack", json={"error": "not_in_room"}, headers=INGEST).json()["recorded"]
    box = Outbox(c.services.inbox.r, c.services.keys)
    assert (box.say(ok)["status"], box.say(ok)["message_id"]) == ("said", "wx-1")
    assert (box.say(bad)["status"], box.say(bad)["error"]) == ("failed", "not_in_room")
    audit = c.get("/api/rooms/R2", headers=API).json()["audit"]
    failed = [e for e in audit if e["action"] == "say_failed"]
    assert len(failed) == 1 and failed[0]["after"] == {"error": "not_in_room"}
    assert "群内发言失败" in c.get("/rooms/R2", headers=API).text
    assert poll(c, "0")["entries"] == []  # nothing left to redeliver
    assert c.get("/api/health").json()["bridge"]["outbox_backlog"] == 0
    assert c.get("/api/bridge/outbox", params={"after": "x"}, headers=INGEST).status_code == 422


def test_the_bridges_health_and_the_banner_when_it_falls_silent(client):
    c = client
    assert c.get("/api/health").json()["bridge"] is None  # never called: no bridge, no banner
    assert 'id="bridge-silent"' not in c.get("/", headers=API).text
    report = {"login": "logged_in", "user_id": "wxid_bot", "user_name": "销售助理", "spool": 3, "errors": 1,
              "puppet": "wechaty-puppet-mock"}
    assert c.post("/api/bridge/status", json=report, headers=INGEST).status_code == 200
    health = c.get("/api/health").json()["bridge"]
    assert (health["login"], health["spool"], health["errors"], health["silent"]) == ("logged_in", 3, 1, False)
    assert c.post("/api/bridge/status", json={**report, "login": "asleep"}, headers=INGEST).status_code == 422
    touch_bridge(c.services.inbox.r, c.services.keys, wall_ms() - 61_000)  # last heard a minute and more ago
    assert c.get("/api/health").json()["bridge"]["silent"] is True
    page = c.get("/", headers=API).text
    assert 'id="bridge-silent"' in page and "微信桥接已失联" in page
