"""The workspace API on the real pipeline (Ray actors, embedded Redis) in virtual time: roles,
owners and stages with approval, clocks cancelled and snoozed, audit, exports, sessions and CSRF."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from sales_assistant.cli.bootstrap import load_config
from sales_assistant.core.levels import LEVELS
from sales_assistant.core.messages import Message
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff
from sales_assistant.store.state import load_alerts
from tests.support.workspace import API, API_TOKEN, as_, settle, workspace_client

pytestmark = pytest.mark.integration
T, M = 1_795_136_400_000, 60_000  # 2026-11-20 09:00 Asia/Shanghai


def roster() -> Roster:
    staff = {"s1": Staff("s1", "董森", Role.SALES), "s2": Staff("s2", "曾路", Role.SALES),
             "a1": Staff("a1", "荣生", Role.AFTER_SALES), "m1": Staff("m1", "王经理", Role.MANAGER)}
    rooms = {"R1": RoomInfo("R1", "网易严选", "s1"), "R2": RoomInfo("R2", "得物", "s2"), "R3": RoomInfo("R3", "无主群")}
    return Roster(staff, rooms)


@pytest.fixture
def ws(ray_session, redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, closing_model="keywords",
                         nlp={"check_staff": False}, api_token=API_TOKEN)
    with workspace_client(config, roster()) as client:
        yield client


def customer_writes(c, room: str, text: str, at: int, mid: str) -> None:
    c.pipeline.push([Message(mid, room, "cust", text, at, room_topic=None, sender_name="客户")])
    settle(c, at)


def test_rooms_are_listed_by_priority_with_reasons_and_scoped_by_role(ws):
    customer_writes(ws, "R1", "在吗", T, "m1")
    customer_writes(ws, "R2", "我要退款！", T + 3 * M, "m2")
    settle(ws, T + 6 * M)
    rows = ws.get("/api/rooms?waiting=true", headers=API).json()["rooms"]
    assert [r["room_id"] for r in rows] == ["R2", "R1"]  # 退款 outranks three more minutes of waiting
    assert "退款" in rows[0]["priority"]["why"] and rows[1]["level"] == "green"
    assert rows[0]["last"]["text"] == "我要退款！" and rows[0]["last"]["sender_name"] == "客户"
    mine = ws.get("/api/rooms", headers=as_(ws, "rep1")).json()["rooms"]
    assert {r["room_id"] for r in mine} == {"R1", "R3"}  # own and unassigned, never a colleague's
    assert ws.get("/api/rooms/R2", headers=as_(ws, "rep1")).status_code == 403
    assert ws.get("/api/rooms?unassigned=true", headers=API).json()["rooms"][0]["room_id"] == "R3"
    detail = ws.get("/api/rooms/R1", headers=as_(ws, "rep1")).json()
    assert detail["waiting"] and [m["text"] for m in detail["messages"]] == ["在吗"]


def test_cancel_stops_the_clock_and_its_alerts_and_is_audited(ws):
    customer_writes(ws, "R1", "价格多少？", T, "m1")
    assert ws.post("/api/rooms/R1/cancel", json={}, headers=as_(ws, "rep2")).status_code == 403
    assert ws.post("/api/rooms/R1/cancel", json={}, headers=as_(ws, "look")).status_code == 403
    r = ws.post("/api/rooms/R1/cancel", json={"reason": "客户说好的"}, headers=as_(ws, "rep1"))
    assert r.status_code == 202
    settle(ws, T + 60 * M)
    assert not ws.get("/api/rooms/R1", headers=API).json()["waiting"]
    assert load_alerts(ws.pipeline.r, ws.pipeline.keys) == []
    assert ws.post("/api/rooms/R1/cancel", json={}, headers=as_(ws, "rep1")).status_code == 409  # nothing runs now
    [entry] = ws.get("/api/audit", headers=API).json()["audit"]
    assert (entry["user"], entry["action"], entry["before"]["clock_id"], entry["after"]["reason"]) == (
        "rep1", "cancel_clock", "m1", "客户说好的")
    assert ws.get("/api/audit", headers=as_(ws, "rep1")).status_code == 403  # the whole log is for managers
    report = ws.get("/api/metrics?start=2026-11-20", headers=API).json()
    assert report["episodes"][0]["ended_by"] == "cancelled" and report["episodes"][0]["cancelled_by"] == "rep1"


def test_snooze_holds_the_alerts_for_the_minutes_asked(ws):
    customer_writes(ws, "R1", "在吗", T, "m1")
    assert ws.post("/api/rooms/R1/snooze", json={"minutes": 0}, headers=as_(ws, "rep1")).status_code == 422
    assert ws.post("/api/rooms/R1/snooze", json={"minutes": 30}, headers=as_(ws, "rep1")).status_code == 202
    settle(ws, T + 29 * M)
    assert load_alerts(ws.pipeline.r, ws.pipeline.keys) == []
    settle(ws, T + 30 * M)
    assert [(a["level"], a["waited_minutes"]) for a in load_alerts(ws.pipeline.r, ws.pipeline.keys)] == [("red", 30)]
    assert ws.get("/api/rooms/R1", headers=API).json()["snoozed_until"] is None  # over


def test_take_over_and_manager_reassignment(ws):
    customer_writes(ws, "R3", "有人吗", T, "m1")
    assert ws.post("/api/rooms/R2/take-over", headers=as_(ws, "rep1")).status_code == 403  # a colleague's room
    assert ws.post("/api/rooms/R3/take-over", headers=as_(ws, "rep1")).status_code == 202
    settle(ws, T + 6 * M)
    assert ws.get("/api/rooms/R3", headers=API).json()["owner_id"] == "s1"
    [green] = load_alerts(ws.pipeline.r, ws.pipeline.keys)
    assert green["owner_id"] == "s1" and green["targets"] == ["private"]  # the new owner's private group
    bad = ws.post("/api/rooms/R3/owner", json={"owner_id": "a1", "stage": "pre_sales"}, headers=API)
    assert bad.status_code == 422 and "不是售前人员" in bad.json()["error_zh"]
    assert bad.json()["code"] == "wrong_role" and bad.json()["error_en"] == (
        "荣生 is not sales staff and cannot own a pre_sales room")
    assert ws.post("/api/rooms/R3/owner", json={"owner_id": "s2", "stage": "pre_sales"},
                   headers=as_(ws, "rep1")).status_code == 403
    assert ws.post("/api/rooms/R3/owner", json={"owner_id": "s2", "stage": "pre_sales"}, headers=API).status_code == 202
    settle(ws, T + 7 * M)
    assert ws.get("/api/rooms/R3", headers=API).json()["owner_id"] == "s2"


def test_stage_change_needs_a_managers_approval(ws):
    propose = ws.post("/api/rooms/R1/stage-proposals", json={"to_stage": "after_sales", "to_owner": "a1"},
                      headers=as_(ws, "rep1"))
    assert propose.status_code == 201
    approval = propose.json()
    again = ws.post("/api/rooms/R1/stage-proposals", json={"to_owner": "a1"}, headers=as_(ws, "rep1"))
    assert again.status_code == 409 and "待核准" in again.json()["error_zh"]
    assert ws.post(f"/api/approvals/{approval['id']}/approve", json={}, headers=as_(ws, "rep1")).status_code == 403
    assert ws.get("/api/rooms/R1", headers=API).json()["pending_approval"] == approval["id"]
    done = ws.post(f"/api/approvals/{approval['id']}/approve", json={"note": "交接完成"}, headers=as_(ws, "boss"))
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert ws.post(f"/api/approvals/{approval['id']}/reject", json={}, headers=API).status_code == 409  # decided once
    settle(ws, T)
    room = ws.get("/api/rooms/R1", headers=API).json()
    assert (room["stage"], room["owner_id"], room["pending_approval"]) == ("after_sales", "a1", None)
    back = ws.post("/api/rooms/R1/stage-proposals", json={"to_stage": "pre_sales", "to_owner": "s1"}, headers=API)
    assert back.status_code == 409 and "不能退回售前" in back.json()["error_zh"]
    actions = [e["action"] for e in ws.get("/api/audit?room_id=R1", headers=API).json()["audit"]]
    assert actions == ["approve_stage", "propose_stage"]


def test_metrics_and_exports_are_scoped_and_readable(ws):
    customer_writes(ws, "R1", "在吗", T, "m1")
    ws.pipeline.push([Message("r1", "R1", "s1", "在的", T + 3 * M)])
    customer_writes(ws, "R2", "在吗", T + 4 * M, "m2")
    ws.pipeline.push([Message("r2", "R2", "s2", "您好", T + 5 * M)])
    settle(ws, T + 6 * M)
    mine = ws.get("/api/metrics?start=2026-11-20", headers=as_(ws, "rep1")).json()
    assert [s["staff_id"] for s in mine["sales"]] == ["s1"] and {e["room_id"] for e in mine["episodes"]} == {"R1"}
    team = ws.get("/api/metrics?start=2026-11-20", headers=API).json()
    assert [row["staff_id"] for row in team["leaderboard"]] == ["s2", "s1"]  # 1 min beats 3 min
    assert team["by_hour"][9]["replies"] == 2 and team["by_hour"][9]["team_messages"] == 2
    text = ws.get("/api/export/sales.csv?start=2026-11-20", headers=API).content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert "平均回复(分钟)" in header and [row[0] for row in rows] == ["a1", "s1", "s2"]
    book = load_workbook(io.BytesIO(ws.get("/api/export/episodes.xlsx?start=2026-11-20", headers=API).content))
    assert book.active.max_row == 3
    assert ws.get("/api/export/nope.csv", headers=API).status_code == 404


def test_session_login_csrf_and_pages(ws):
    assert ws.get("/", follow_redirects=False).headers["location"] == "/login"
    page = ws.get("/login").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = ws.post("/login", data={"username": "rep1", "password": "nope-nope", "csrf_token": csrf},
                    follow_redirects=False)
    assert wrong.headers["location"] == "/login?error=1"
    assert ws.post("/login", data={"username": "rep1", "password": "rep1-password", "csrf_token": "forged"},
                   follow_redirects=False).status_code == 403
    ok = ws.post("/login", data={"username": "rep1", "password": "rep1-password", "csrf_token": csrf},
                 follow_redirects=False)
    assert ok.status_code == 303
    today = ws.get("/")
    assert today.status_code == 200 and "今日群聊" in today.text
    csrf = today.text.split('name="csrf-token" content="')[1].split('"')[0]
    customer_writes(ws, "R1", "<script>alert(1)</script>", T, "m1")
    html = ws.get("/").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # autoescaped
    assert ws.post("/api/rooms/R1/snooze", json={"minutes": 10}).status_code == 403  # no CSRF header
    assert ws.post("/api/rooms/R1/snooze", json={"minutes": 10}, headers={"X-CSRF-Token": csrf}).status_code == 202
    for path in ("/rooms", "/approvals", "/unassigned", "/performance", "/alerts", "/roster", "/rooms/R1"):
        assert ws.get(path).status_code == 200, path
    assert "这不是您负责的群聊" in ws.get("/rooms/R2").text
    assert "this room is not yours" in ws.get("/rooms/R2?lang=en").text
    css = ws.get("/levels.css")  # the badges' colours, from core/levels.py
    assert css.headers["content-type"].startswith("text/css")
    assert all(f".lv-{level.value}{{background:{info.web}}}" in css.text for level, info in LEVELS.items())
    assert '<link rel="stylesheet" href="/levels.css">' in html
    assert ws.get("/audit").status_code == 403
    assert "Today" in ws.get("/?lang=en").text and "Today" in ws.get("/").text  # English, remembered
