"""Focus/away states and follow-up holds as orders: the API, the Lark buttons and commands, each applied
once by the pipeline (Ray actors, embedded Redis, virtual time) and audited."""
from __future__ import annotations

import pytest
import yaml

from sales_assistant.cli.bootstrap import load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.connectors.lark_actions import CardActions, parse_command
from sales_assistant.core.messages import Message
from sales_assistant.store.followups import load_followups
from tests.support.workspace import API, API_TOKEN, as_, settle, workspace_client

pytestmark = pytest.mark.integration
T, M, DAY = 1_795_136_400_000, 60_000, 86_400_000  # 2026-11-20 09:00 Asia/Shanghai, a Friday
ROSTER = {"staff": [{"id": "s1", "name": "董森", "role": "sales", "backup": "s2", "lark_open_id": "ou_s1"},
                    {"id": "s2", "name": "曾路", "role": "sales", "backup": "s1"},
                    {"id": "m1", "name": "王经理", "role": "manager"}],
          "rooms": [{"id": "R1", "topic": "网易严选", "owner": "s1"}, {"id": "R2", "topic": "得物", "owner": "s2"}]}
LADDER = {"steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]}]}


@pytest.fixture
def ws(ray_session, redis_dir, namespace, tmp_path):
    data, url = redis_dir
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"pre_sales": {**LADDER, "followup": {"idle_days": 7}}, "after_sales": LADDER}))
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, closing_model="keywords",
                         nlp={"check_staff": False}, api_token=API_TOKEN, policy_file=policy)
    with workspace_client(config, RosterFile.model_validate(ROSTER).to_roster(), users=("rep1", "boss")) as client:
        yield client


def reps(c) -> dict[str, dict]:
    return {r["staff_id"]: r for r in c.get("/api/presence", headers=as_(c, "rep1")).json()["reps"]}


def test_a_rep_sets_their_own_state_a_manager_anyones_each_change_an_audited_order(ws):
    settle(ws, T)
    assert ws.post("/api/users/s2/state", json={"state": "focus"}, headers=as_(ws, "rep1")).status_code == 403
    bad = ws.post("/api/users/s1/state", json={"state": "nap"}, headers=as_(ws, "rep1"))
    assert bad.status_code == 422 and "state" in bad.json()["error_en"]
    assert ws.post("/api/users/s1/state", json={"state": "focus", "minutes": 0},
                   headers=as_(ws, "rep1")).json()["code"] == "presence_length"
    assert ws.post("/api/users/s9/state", json={"state": "off"}, headers=as_(ws, "boss")).status_code == 404

    r = ws.post("/api/users/s1/state", json={"state": "focus", "minutes": 30}, headers=as_(ws, "rep1"))
    assert r.status_code == 202 and r.json()["audit"]["action"] == "set_presence"
    settle(ws, T + M)
    me = reps(ws)["s1"]
    assert (me["state"], me["state_text"], me["until"], me["covered_by"], me["covered_by_name"]) == (
        "focus", "专注", T + 30 * M, "s2", "曾路")
    assert ws.post("/api/users/s2/state", json={"state": "off", "until": "2026-11-20T18:30:00"},
                   headers=as_(ws, "boss")).status_code == 202
    settle(ws, T + 2 * M)
    assert reps(ws)["s1"]["held"] and reps(ws)["s1"]["covered_by"] is None  # the backup is off too: held

    ws.pipeline.push([Message("q1", "R1", "c1", "在吗", T + 2 * M)])
    settle(ws, T + 8 * M)
    assert ws.get("/api/alerts", headers=API).json()["alerts"] == []  # green at T+7M: held, nobody covers
    assert ws.delete("/api/users/s1/state", headers=as_(ws, "rep1")).status_code == 202
    settle(ws, T + 9 * M)
    assert reps(ws)["s1"]["state"] is None
    [alert] = ws.get("/api/alerts", headers=API).json()["alerts"]  # out when he is back, never lost
    assert (alert["presence"], alert["at"][11:16], alert["released_at"][11:16]) == ("focus", "09:07", "09:08")
    actions = [e["action"] for e in ws.get("/api/audit", headers=API).json()["audit"]]
    assert actions.count("set_presence") == 2 and actions.count("clear_presence") == 1


def test_follow_up_holds_and_lark_buttons_and_commands(ws):
    ws.pipeline.push([Message("a1", "R1", "s1", "方案已发您邮箱", T)])
    settle(ws, T)
    bad = ws.post("/api/rooms/R1/followup", json={"action": "later"}, headers=as_(ws, "rep1"))
    assert bad.status_code == 422 and bad.json()["code"] == "followup_hold"
    assert ws.post("/api/rooms/R2/followup", json={"action": "stop"}, headers=as_(ws, "rep1")).status_code == 403
    actions = CardActions(ws.services.workspace)
    answer = actions.press("ou_s1", {"action": "followup_customer", "room_id": "R1", "followup_id": "R1/x"})
    assert answer["toast"]["type"] == "success" and "等客户回复" in answer["toast"]["content"]
    settle(ws, T + 10 * DAY)
    r = ws.pipeline.r
    assert load_followups(r, ws.pipeline.keys) == []  # held until the customer writes
    ws.pipeline.push([Message("c1", "R1", "c1", "我们再评估一下", T + 10 * DAY), Message("a2", "R1", "s1", "好的", T + 10 * DAY + M)])
    settle(ws, T + 18 * DAY)
    [f] = load_followups(r, ws.pipeline.keys)
    assert (f["room_id"], f["last_message_at"], f["at"]) == ("R1", T + 10 * DAY + M, T + 17 * DAY + M)

    assert parse_command("专注 45") == ("focus", 45) and parse_command("下班") == ("off", None)
    assert parse_command("在岗") == (None, None) and parse_command("专注一下") is None
    assert parse_command("在岗 5") is None and parse_command("你好") is None
    assert actions.command("ou_s1", "会议 60") == "set_presence"
    assert actions.command("ou_nobody", "会议 60") is None
    settle(ws, T + 18 * DAY + M)
    assert reps(ws)["s1"]["state"] == "meeting"
    assert actions.command("ou_s1", "在岗") == "clear_presence"
    settle(ws, T + 18 * DAY + 2 * M)
    assert reps(ws)["s1"]["state"] is None
