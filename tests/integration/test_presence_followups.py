"""Focus/away states and follow-ups of idle rooms through the real pipeline (Ray actors, embedded Redis) on
virtual time: the replay's report, the alerts each sink got, and the follow-ups, each exactly once."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import orjson
import pytest
import yaml

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import HoldFollowUp, Message, SetPresence
from sales_assistant.core.timeutil import parse_iso

pytestmark = pytest.mark.integration

SH = "Asia/Shanghai"
WORKDAY = ["09:00-12:00", "13:30-18:30"]
LADDER = {"steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]},
                    {"after_minutes": 20, "level": "orange", "targets": ["private", "public"]}]}
POLICY = {
    "calendars": {"default": {"timezone": SH, "holidays": "cn", "week": {
        "mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [], "sun": []}}},
    "pre_sales": {**LADDER, "followup": {"idle_days": 7}},
    "after_sales": LADDER,
}
ROSTER = {
    "staff": [{"id": "s1", "name": "董森", "role": "sales", "backup": "s2"},
              {"id": "s2", "name": "荣生", "role": "sales", "backup": "s1"},
              {"id": "s3", "name": "李佳芮", "role": "sales", "team": "quiet"},
              {"id": "s4", "name": "周到", "role": "sales", "team": "quiet"}],
    "rooms": [{"id": f"R{i}", "topic": f"群{i}", "owner": "s3" if i == 5 else "s1"} for i in range(1, 6)],
    "teams": {"quiet": {"away": "hold", "public_while_away": False}},
}


def at(text: str) -> int:
    return parse_iso(text, SH)


def say(mid: str, room: str, who: str, text: str, when: str) -> Message:
    return Message(mid, room, who, text, at(when))


ITEMS = sorted([
    # R1: answered Wednesday 10:02; the customer's 好的 the next day does not reset the idle time
    say("a1", "R1", "c1", "报价单收到了吗？", "2026-11-18T10:00"), say("a2", "R1", "s1", "收到了，今天给您答复", "2026-11-18T10:02"),
    say("a3", "R1", "c1", "好的", "2026-11-19T10:00"),
    # R2: the rep wrote on a Saturday evening: seven days later is Saturday again, so Monday 09:00
    say("b1", "R2", "s1", "周末愉快，方案发您邮箱了", "2026-11-21T20:00"),
    # R3: due Friday 27th 10:03, snoozed then until Monday 30th 10:00
    say("c1", "R3", "c3", "这个版本支持私有部署吗？", "2026-11-20T10:00"), say("c2", "R3", "s1", "支持的", "2026-11-20T10:03"),
    HoldFollowUp("R3", "lark:s1", at("2026-11-27T10:10"), "snooze", at("2026-11-30T10:00")),
    # R4: the owner is in focus; his backup s2 gets the private alerts, the public escalation runs
    SetPresence("s1", "s1", at("2026-12-01T09:50"), "focus", at("2026-12-01T10:50")),
    say("d1", "R4", "c4", "合同什么时候能盖章？", "2026-12-01T10:00"), say("d2", "R4", "s1", "今天下午", "2026-12-01T10:30"),
    # R5: team "quiet" holds everything while s3 is in a meeting, until she clears it at 10:40
    SetPresence("s3", "s3", at("2026-12-01T09:00"), "meeting", None),
    say("e1", "R5", "c5", "发票抬头改一下", "2026-12-01T10:00"),
    SetPresence("s3", "s3", at("2026-12-01T10:40"), None, None),
    say("e2", "R5", "s3", "好的，马上改", "2026-12-01T10:45"),
], key=lambda item: item.ts)
UNTIL = at("2026-12-05T00:00")
FIRST, LAST = date(2026, 11, 18), date(2026, 12, 4)


@pytest.fixture
def pipeline(ray_session, redis_dir, namespace, tmp_path: Path):
    data, url = redis_dir
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY, allow_unicode=True))
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, batch_size=3,
                         policy_file=policy, closing_model="keywords", nlp={"check_staff": False})
    p = build_pipeline(config, "virtual", [SinkSpec("jsonl", path=str(tmp_path / "alerts.jsonl"), tz=SH)])
    p.load_roster(RosterFile.model_validate(ROSTER).to_roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    yield p
    p.stop()


def test_follow_ups_and_rerouted_alerts_in_the_report_and_at_the_sinks(pipeline, tmp_path):
    pipeline.replay(ITEMS, chunk=2)
    pipeline.advance(UNTIL)
    assert pipeline.wait_delivered(30)
    report = pipeline.report(FIRST, LAST)

    assert [(f["room_id"], f["at"][:16], f["last_message_at"][:16]) for f in report["followups"]] == [
        ("R1", "2026-11-25T10:02", "2026-11-18T10:02"),
        ("R3", "2026-11-27T10:03", "2026-11-20T10:03"),
        ("R2", "2026-11-30T09:00", "2026-11-21T20:00"),
        ("R3", "2026-11-30T10:00", "2026-11-20T10:03"),  # the snooze: once more, then
    ]
    alerts = {(a["room_id"], a["level"]): a for a in report["alerts"]}
    green, orange = alerts["R4", "green"], alerts["R4", "orange"]
    assert (green["at"][:16], green["targets"], green["presence"], green["private_to"]) == (
        "2026-12-01T10:05", ["private"], "focus", "s2")
    assert (orange["targets"], orange["private_to"]) == (["private", "public"], "s2")
    held = [alerts["R5", "green"], alerts["R5", "orange"]]
    assert [(a["at"][:16], a["released_at"][:16], a["targets"]) for a in held] == [
        ("2026-12-01T10:05", "2026-12-01T10:40", ["private"]),
        ("2026-12-01T10:20", "2026-12-01T10:40", ["private", "public"])]
    assert {a["room_id"] for a in report["alerts"]} == {"R4", "R5"}

    # Each sink got each follow-up once, with the last exchange and its owner, at the same moments.
    lines = [orjson.loads(line) for line in (tmp_path / "followups.jsonl").read_bytes().splitlines()]
    assert sorted((f["room_id"], f["at"]) for f in lines) == sorted(
        (f["room_id"], at(f["at"][:16])) for f in report["followups"])
    r1 = next(f for f in lines if f["room_id"] == "R1")
    assert [(row["speaker"], row["text"]) for row in r1["last"]] == [("sales", "收到了，今天给您答复"), ("customer", "好的")]
    assert r1["owner_name"] == "董森" and r1["idle_days"] == 7
    sent = [orjson.loads(line) for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines()]
    assert {(a["room_id"], a["level"], a.get("private_to")) for a in sent} == {
        ("R4", "green", "s2"), ("R4", "orange", "s2"), ("R5", "green", None), ("R5", "orange", None)}

    # Time moves on: nothing is sent a second time, and the next idle periods start from the latest words.
    pipeline.advance(at("2026-12-09T12:00"))
    assert pipeline.wait_delivered(30)
    later = pipeline.report(FIRST, date(2026, 12, 9))["followups"]
    assert later[:4] == report["followups"]
    assert [(f["room_id"], f["at"][:16]) for f in later[4:]] == [("R4", "2026-12-08T10:30"), ("R5", "2026-12-08T10:45")]
    assert json.loads(json.dumps(later)) == later
