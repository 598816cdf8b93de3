"""Wall and business reply times side by side, on the real pipeline in virtual time: the metrics API, the
dashboard's performance page, the export and the console tables say which clock each average counts."""
from __future__ import annotations

import csv
import io

import pytest
import yaml
from fastapi.testclient import TestClient

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.cli.bootstrap import build_pipeline, build_services, load_config
from sales_assistant.config.settings import DEFAULT_POLICY
from sales_assistant.connectors.console import metric_tables
from sales_assistant.core.messages import Message
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff, Stage
from sales_assistant.core.timeutil import parse_iso
from sales_assistant.policies.access import UserRole
from sales_assistant.web.app import create_app

pytestmark = pytest.mark.integration
SH = "Asia/Shanghai"
API = {"Authorization": "Bearer api-secret-0123456789"}


def at(text: str) -> int:
    return parse_iso(text, SH)


@pytest.fixture
def ws(ray_session, redis_dir, namespace, tmp_path):
    doc = yaml.safe_load(DEFAULT_POLICY.read_text())
    doc["pre_sales"] = {**doc["pre_sales"], "clock": "business"}
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc, allow_unicode=True))
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, closing_model="keywords",
                         nlp={"check_staff": False}, api_token="api-secret-0123456789", policy_file=policy)
    p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
    p.load_roster(Roster({"s1": Staff("s1", "董森", Role.SALES), "a1": Staff("a1", "荣生", Role.AFTER_SALES)},
                         {"R1": RoomInfo("R1", "网易严选", "s1"),
                          "R2": RoomInfo("R2", "得物", "a1", Stage.AFTER_SALES)}), overwrite_rooms=True)
    p.start(log_to_driver=False)
    services = build_services(config, p.inbox, advance=p.advance)
    services.accounts.create("boss", "boss-password", UserRole.MANAGER)
    client = TestClient(create_app(services))
    client.pipeline = p
    client.token = {"Authorization": f"Bearer {services.accounts.issue_token('boss')}"}
    yield client
    p.stop()


def test_both_reply_times_and_which_clock_each_average_counts(ws):
    ws.pipeline.push([
        Message("q1", "R1", "c1", "请问价格多少？", at("2026-11-20T18:20")),  # Friday, 10 minutes before closing
        Message("q2", "R2", "c2", "发票开了吗？", at("2026-11-20T20:00")),
        Message("a2", "R2", "a1", "已经开好了", at("2026-11-20T20:03")),
        Message("a1", "R1", "s1", "您好，价格如下", at("2026-11-23T09:05")),  # Monday
    ])
    ws.pipeline.pump()
    assert ws.post("/api/clock/tick", json={"now": at("2026-11-23T10:00")}, headers=API).status_code == 200

    report = ws.get("/api/metrics?start=2026-11-20&end=2026-11-23", headers=ws.token).json()
    assert report["reply_clocks"] == {"pre_sales": "business", "after_sales": "wall"}
    episodes = {e["room_id"]: e for e in report["episodes"]}
    assert (episodes["R1"]["reply_minutes"], episodes["R1"]["business_reply_minutes"]) == (3765.0, 15.0)
    assert (episodes["R2"]["reply_minutes"], episodes["R2"]["business_reply_minutes"]) == (3.0, None)
    sales = {r["staff_id"]: r for r in report["sales"]}
    assert (sales["s1"]["avg_reply_minutes"], sales["s1"]["avg_reply_clock"]) == (15.0, "business")
    assert sales["s1"]["avg_wall_reply_minutes"] == 3765.0
    assert (sales["a1"]["avg_reply_minutes"], sales["a1"]["avg_reply_clock"]) == (3.0, "wall")
    # the business alert of R1 fired on Friday at 18:25, five open minutes in; none over the weekend
    alerts = [(a["room_id"], a["level"], a["at"][:16], a["business_minutes"]) for a in report["alerts"]
              if a["room_id"] == "R1"]
    assert alerts[0] == ("R1", "green", "2026-11-20T18:25", 5)
    assert all(a[2] < "2026-11-20T18:30" or a[2] >= "2026-11-23T09:00" for a in alerts)

    csrf_page = ws.get("/login").text
    csrf = csrf_page.split('name="csrf_token" value="')[1].split('"')[0]
    assert ws.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf},
                   follow_redirects=False).status_code == 303
    page = ws.get("/performance?start=2026-11-20&end=2026-11-23").text
    assert "回复用时的计法: 售前 工作时间 · 售后 自然时间" in page
    assert '15.0 <small class="clock">工作时间</small>' in page and "平均回复·自然时间(分钟)" in page
    english = ws.get("/performance?start=2026-11-20&end=2026-11-23&lang=en").text
    assert "business hours" in english and "Avg reply, wall clock (min)" in english

    export = ws.get("/api/export/episodes.csv?start=2026-11-20&end=2026-11-23&lang=zh", headers=ws.token)
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    r1 = next(r for r in rows if r["群ID"] == "R1")
    assert (r1["回复用时(分钟)"], r1["回复用时·工作时间(分钟)"]) == ("3765.0", "15.0")

    tables = metric_tables(report, "zh")
    headers = [c.header for c in tables[0].columns]
    assert "计法" in headers and "自然时间平均(分钟)" in headers
    assert "工作时间" in list(tables[0].columns[headers.index("计法")].cells)
