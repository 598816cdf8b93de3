"""Business hours through the real pipeline: `sales-assistant replay --policy` with calendars, each
scenario of issue 16 in a room of its own, and the alerts and reply times in the report it writes."""
from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import yaml

from sales_assistant.cli.bootstrap import load_config, start_service
from sales_assistant.config.settings import ConfigError
from sales_assistant.core.timeutil import parse_iso
from tests.integration.test_cli import cli

pytestmark = pytest.mark.integration

SH = "Asia/Shanghai"
WORKDAY = ["09:00-12:00", "13:30-18:30"]
WEEK = {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [], "sun": []}
LADDER = {
    "steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]},
              {"after_minutes": 10, "level": "yellow", "targets": ["private"]},
              {"after_minutes": 20, "level": "orange", "targets": ["private", "public"]},
              {"after_minutes": 30, "level": "red", "targets": ["private", "public"]},
              {"after_minutes": 40, "level": "purple", "targets": ["private", "public"]}],
    "repeat": {"every_minutes": 10, "until_minutes": 1000, "level": "grey", "targets": ["private", "public"]},
}
POLICY = {
    "calendars": {
        "default": {"timezone": SH, "week": WEEK, "holidays": "cn", "dates": {"2026-12-24": ["09:00-15:00"]}},
        "east": {"timezone": "Europe/Berlin", "week": WEEK, "holidays": "none"},
    },
    "pre_sales": {"clock": "business", **LADDER},
    "after_sales": {"clock": "wall", **LADDER},
}
ROSTER = {
    "staff": [{"id": "s1", "name": "董森", "role": "sales"},
              {"id": "s2", "name": "荣生", "role": "after_sales"},
              {"id": "s3", "name": "Lena", "role": "sales", "team": "east"}],
    "rooms": [{"id": f"R{i}", "topic": f"群{i}", "owner": "s2" if i == 6 else "s3" if i == 7 else "s1",
               "stage": "after_sales" if i == 6 else "pre_sales"} for i in range(1, 8)],
}
# room: (question, answer, owner) in Shanghai time; what each room shows is in the test below.
WAITS = {
    "R1": ("2026-11-20T17:58", "2026-11-23T09:15", "s1"),  # Friday evening, answered Monday
    "R2": ("2026-02-13T17:58", "2026-02-14T09:15", "s1"),  # Friday before the 调休 Saturday
    "R3": ("2026-11-19T12:10", "2026-11-19T13:40", "s1"),  # lunch break
    "R4": ("2026-02-14T18:40", "2026-02-24T09:07", "s1"),  # after the make-up Saturday: Spring Festival
    "R5": ("2026-11-24T22:00", "2026-11-25T08:30", "s1"),  # after hours, answered before opening
    "R6": ("2026-11-20T22:00", "2026-11-20T22:12", "s2"),  # after-sales counts wall minutes
    "R7": ("2026-11-20T20:00", "2026-11-20T20:37", "s3"),  # team east: 13:00 in Berlin, open from 13:30
}


def write_inputs(tmp_path: Path, policy: dict, roster: dict = ROSTER) -> tuple[Path, Path, Path]:
    rows = []
    for room, (question, answer, owner) in WAITS.items():
        rows.append({"id": f"{room}-q", "roomId": room, "fromId": f"c-{room}", "text": "请问这个功能怎么开通？",
                     "timestamp": parse_iso(question, SH), "type": 7, "mentionIdList": []})
        rows.append({"id": f"{room}-a", "roomId": room, "fromId": owner, "text": "我来看下，稍等",
                     "timestamp": parse_iso(answer, SH), "type": 7, "mentionIdList": []})
    rows.sort(key=lambda r: r["timestamp"])
    messages = tmp_path / "messages.jsonl"
    messages.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    roster_path, policy_path = tmp_path / "roster.json", tmp_path / "policy.yaml"
    roster_path.write_text(json.dumps(roster, ensure_ascii=False))
    policy_path.write_text(yaml.safe_dump(policy, allow_unicode=True))
    return messages, roster_path, policy_path


@pytest.mark.slow
def test_business_hours_scenarios_through_replay(tmp_path):
    messages, roster, policy = write_inputs(tmp_path, POLICY)
    out = tmp_path / "report.json"
    done = cli("replay", str(messages), "--roster", str(roster), "--policy", str(policy), "--report", str(out),
               "--until", "2026-11-26T00:00:00+08:00", "--quiet")
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(out.read_text())
    alerts: dict[str, list] = {}
    for a in report["alerts"]:
        alerts.setdefault(a["room_id"], []).append((a["level"], a["at"][:16], a["business_minutes"]))
    # Friday 17:58, closing 18:30: the ladder climbs to red, then goes on Monday from 09:00
    assert alerts["R1"] == [("green", "2026-11-20T18:03", 5), ("yellow", "2026-11-20T18:08", 10),
                            ("orange", "2026-11-20T18:18", 20), ("red", "2026-11-20T18:28", 30),
                            ("purple", "2026-11-23T09:08", 40)]
    # the next workday is Saturday 14 February 2026, a 调休 make-up workday
    assert alerts["R2"][-1] == ("purple", "2026-02-14T09:08", 40)
    assert alerts["R3"] == [("green", "2026-11-19T13:35", 5)]  # the lunch break does not count
    assert alerts["R4"] == [("green", "2026-02-24T09:05", 5)]  # 15–23 February are off
    assert "R5" not in alerts  # answered before opening: nobody is alerted
    assert alerts["R6"] == [("yellow" if i else "green", f"2026-11-20T22:{5 * (i + 1):02d}", None) for i in range(2)]
    assert alerts["R7"] == [("green", "2026-11-20T20:35", 5)]  # the owner's team calendar (Berlin)

    episodes = {e["room_id"]: e for e in report["episodes"]}
    assert (episodes["R1"]["reply_minutes"], episodes["R1"]["business_reply_minutes"]) == (3797.0, 47.0)
    assert (episodes["R5"]["reply_minutes"], episodes["R5"]["business_reply_minutes"]) == (630.0, 0.0)
    assert (episodes["R6"]["reply_minutes"], episodes["R6"]["business_reply_minutes"]) == (12.0, None)
    rooms = {r["room_id"]: r for r in report["rooms"]}
    assert (rooms["R1"]["avg_reply_minutes"], rooms["R1"]["avg_reply_clock"]) == (47.0, "business")
    assert rooms["R1"]["avg_wall_reply_minutes"] == 3797.0
    assert (rooms["R6"]["avg_reply_minutes"], rooms["R6"]["avg_reply_clock"]) == (12.0, "wall")
    assert report["reply_clocks"] == {"pre_sales": "business", "after_sales": "wall"}


@pytest.mark.parametrize("change, words", [
    (lambda p: p["calendars"].update(eats=p["calendars"].pop("east")), "calendars.eats: unknown team"),
    (lambda p: p["calendars"]["default"]["week"].update(mon=["09:00-25:00"]), "calendars.default.week.mon"),
    (lambda p: p["calendars"]["default"]["week"].update(tue=["09:00-12:00", "11:30-14:00"]), "overlap"),
    (lambda p: p["calendars"]["default"].update(timezone="Mars/Olympus"), "calendars.default.timezone"),
    (lambda p: p["calendars"]["east"]["week"].update(frei=["09:00-12:00"]), "calendars.east.week.frei"),
])
def test_bad_calendars_stop_replay_at_start_with_the_field_named(tmp_path, change, words):
    policy = json.loads(json.dumps(POLICY))
    change(policy)
    messages, roster, policy_path = write_inputs(tmp_path, policy)
    done = cli("replay", str(messages), "--roster", str(roster), "--policy", str(policy_path),
               "--report", str(tmp_path / "report.json"), "--quiet")
    assert done.returncode != 0
    assert words in " ".join((done.stderr + done.stdout).split())


def test_run_refuses_a_calendar_of_a_team_nobody_is_in_before_starting_anything(tmp_path):
    policy = json.loads(json.dumps(POLICY))
    policy["calendars"]["eats"] = policy["calendars"].pop("east")
    _, roster, policy_path = write_inputs(tmp_path, policy)
    config = load_config(data_dir=tmp_path / "data", policy_file=policy_path, roster_file=roster,
                         closing_model="keywords", nlp={"check_staff": False})
    with pytest.raises(ConfigError, match=r"calendars\.eats: unknown team \(the roster's teams: default, east\)"):
        start_service(config, "virtual")
    assert not (tmp_path / "data").exists()  # refused before Redis or Ray were started
