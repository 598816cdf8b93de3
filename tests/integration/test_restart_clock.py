"""Issue 14's safety net on the real pipeline (Ray actors, the learned closing model in the NLP actor,
embedded Redis) in virtual time: a doubtful "closing" label shows on the room, a restart through the API
starts its clock from the message's time and the alerts follow; the order applies once, only the room's
rep or a manager may give it; cancels and restarts come out of `export-labels` as training data."""
from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from sales_assistant.cli.bootstrap import load_config
from sales_assistant.core.messages import Message, RestartClock
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff
from sales_assistant.store.state import load_alerts
from tests.support.workspace import API, API_TOKEN, as_, settle, workspace_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]
T, M = 1_795_136_400_000, 60_000  # 2026-11-20 09:00 Asia/Shanghai
# An acknowledgement with a plan of the customer's own: closing (issue 14), by the model, not a rule, so its
# score is below 1; with the bar at 1 every such label is doubtful and kept on the room.
ACK_WITH_PLAN = "好的，我先试试"


def roster() -> Roster:
    staff = {"s1": Staff("s1", "董森", Role.SALES), "s2": Staff("s2", "曾路", Role.SALES),
             "m1": Staff("m1", "王经理", Role.MANAGER)}
    rooms = {"R1": RoomInfo("R1", "网易严选", "s1"), "R2": RoomInfo("R2", "得物", "s1"), "R3": RoomInfo("R3", "小红书", "s2")}
    return Roster(staff, rooms)


@pytest.fixture
def ws(ray_session, redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, closing_model="learned",
                         nlp={"check_staff": False, "closing_confident": 1.0}, api_token=API_TOKEN)
    with workspace_client(config, roster()) as client:
        yield client


def silence_a_request(c, room: str = "R1", mid: str = "m1") -> dict:
    c.pipeline.push([Message(mid, room, "cust", ACK_WITH_PLAN, T, sender_name="客户")])
    settle(c, T + 2 * M)
    detail = c.get(f"/api/rooms/{room}", headers=API).json()
    judged = detail["judged"]
    assert judged is not None, f"{ACK_WITH_PLAN!r} was not judged closing below the bar: {detail['messages']}"
    assert not detail["waiting"] and judged["message_id"] == mid and judged["at"] == T and judged["score"] < 1
    return judged


def test_a_restart_starts_the_silenced_clock_from_the_message_and_the_alerts_follow(ws):
    judged = silence_a_request(ws)
    assert judged["label"] == f"判定为结束语 ({judged['score']:.2f})"
    en = ws.get("/api/rooms/R1?lang=en", headers=API).json()["judged"]
    assert en["label"] == f"judged closing ({judged['score']:.2f})"

    r = ws.post("/api/rooms/R1/restart", json={"message_id": "m1"}, headers=as_(ws, "rep1"))
    assert r.status_code == 202 and r.json()["audit"]["action"] == "restart_clock"
    settle(ws, T + 3 * M)
    detail = ws.get("/api/rooms/R1", headers=API).json()
    assert detail["waiting"] and detail["clock_id"] == "m1" and detail["started_at"] == T  # from the message's time
    assert detail["judged"] is None
    assert ws.post("/api/rooms/R1/restart", json={}, headers=as_(ws, "rep1")).status_code == 409  # nothing to restart

    settle(ws, T + 40 * M)
    alerts = [a for a in load_alerts(ws.pipeline.r, ws.pipeline.keys) if a["room_id"] == "R1"]
    assert alerts and {a["clock_id"] for a in alerts} == {"m1"}
    assert alerts[0]["started_at"] == T  # measured from the silenced message, not from the click
    [entry] = ws.get("/api/audit?room_id=R1", headers=API).json()["audit"]
    assert (entry["user"], entry["before"]["message_id"], entry["before"]["text"]) == ("rep1", "m1", ACK_WITH_PLAN)


def test_a_restart_pushed_twice_starts_one_clock_and_gives_one_label(ws):
    silence_a_request(ws)
    # two clicks before the shard applied the first: both accepted, the room applies the first only
    for _ in range(2):
        assert ws.post("/api/rooms/R1/restart", json={}, headers=as_(ws, "boss")).status_code == 202
    ws.pipeline.push([RestartClock("R1", "boss", T + 2 * M, "m1")])  # and the same order once more, raw
    settle(ws, T + 3 * M)
    starts = [e for _, f in ws.pipeline.r.xrange(ws.pipeline.keys.clock_events) for e in orjson.loads(f["d"])
              if e[0] == "start"]
    assert [(e[1], e[2][0], e[2][1]) for e in starts] == [("R1", "m1", T)]
    assert len(ws.get("/api/audit?room_id=R1", headers=API).json()["audit"]) == 2  # each click is audited
    labels = ws.get("/api/labels", headers=API).json()["labels"]
    assert labels == [{"text": ACK_WITH_PLAN, "label": 0, "room_id": "R1", "source": "restart", "at": T + 2 * M}]


def test_only_the_rooms_rep_or_a_manager_may_restart(ws):
    silence_a_request(ws)
    assert ws.post("/api/rooms/R1/restart", json={}, headers=as_(ws, "rep2")).status_code == 403  # not their room
    assert ws.post("/api/rooms/R1/restart", json={}, headers=as_(ws, "look")).status_code == 403  # read-only
    assert ws.post("/api/rooms/R1/restart", json={"message_id": "other"}, headers=as_(ws, "rep1")).status_code == 409
    assert ws.post("/api/rooms/R1/restart", json={"bogus": 1}, headers=as_(ws, "rep1")).status_code == 422
    settle(ws, T + 3 * M)
    assert not ws.get("/api/rooms/R1", headers=API).json()["waiting"]  # nothing refused reached the room


def test_the_dashboard_shows_the_judgement_and_restarts_it_with_csrf(ws):
    silence_a_request(ws)
    log_in(ws, "look")
    page = ws.get("/rooms/R1").text
    assert "判定为结束语 (" in page and ACK_WITH_PLAN in page and "/restart" not in page  # a viewer gets no button
    ws.cookies.clear()
    log_in(ws, "rep1")
    page = ws.get("/rooms/R1").text
    assert "判定为结束语 (" in page and 'data-post="/api/rooms/R1/restart"' in page and "重新计时" in page
    assert ws.post("/api/rooms/R1/restart", json={}).status_code == 403  # a session's write needs its CSRF token
    csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert ws.post("/api/rooms/R1/restart", json={"message_id": "m1"}, headers={"X-CSRF-Token": csrf}).status_code == 202
    settle(ws, T + 3 * M)
    page = ws.get("/rooms/R1").text
    assert "判定为结束语 (" not in page and f'data-started="{T}"' in page  # the clock runs from the message
    assert "Restart clock" in ws.get("/rooms/R1?lang=en").text  # the audit names the action in English too


def log_in(c, user: str) -> None:
    csrf = c.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    done = c.post("/login", data={"username": user, "password": f"{user}-password", "csrf_token": csrf},
                  follow_redirects=False)
    assert done.status_code == 303, done.text


def test_cancels_and_restarts_export_as_training_labels(ws, tmp_path):
    silence_a_request(ws)
    assert ws.post("/api/rooms/R1/restart", json={}, headers=as_(ws, "rep1")).status_code == 202
    ws.pipeline.push([Message("m2", "R2", "cust", "价格多少？", T + 3 * M, sender_name="客户")])
    settle(ws, T + 4 * M)
    assert ws.post("/api/rooms/R2/cancel", json={"reason": "电话里说了"}, headers=as_(ws, "rep1")).status_code == 202
    ws.pipeline.push([Message("m3", "R3", "cust", "发票开了吗", T + 5 * M, sender_name="客户")])
    settle(ws, T + 6 * M)
    assert ws.post("/api/rooms/R3/cancel", json={}, headers=as_(ws, "rep2")).status_code == 202
    settle(ws, T + 7 * M)

    out = tmp_path / "labels.jsonl"
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "export-labels", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **ws.env})
    assert done.returncode == 0, done.stderr + done.stdout
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [(r["room_id"], r["text"], r["label"], r["source"]) for r in rows] == [
        ("R1", ACK_WITH_PLAN, 0, "restart"), ("R2", "价格多少？", 1, "cancel"), ("R3", "发票开了吗", 1, "cancel")]
    assert all(set(r) == {"text", "label", "room_id", "source", "at"} for r in rows)
    later = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "export-labels", "--since", "2026-11-21"],
                           capture_output=True, text=True, timeout=120, env={**os.environ, **ws.env})
    assert later.returncode == 0 and later.stdout == ""

    # a rep exports the labels of their own rooms only
    mine = ws.get("/api/labels", headers=as_(ws, "rep2")).json()["labels"]
    assert [r["room_id"] for r in mine] == ["R3"]

    # the training side reads them back as extra training rows
    from sales_assistant.models.lab.closing.train import load_extra

    extra = load_extra(out)
    assert [(r["text"], r["label"]) for r in extra] == [(r["text"], r["label"]) for r in rows]
