"""Alerts through the real notifier to lark-oapi and the local Lark stand-in; a down Lark blocks nothing."""
from __future__ import annotations

import re
import uuid
from datetime import date

import orjson
import pytest
from fastapi.testclient import TestClient

from sales_assistant.actors.notifier import sink_specs
from sales_assistant.cli.bootstrap import build_pipeline, build_services, load_config
from sales_assistant.policies.access import UserRole
from sales_assistant.web.app import create_app
from tests.support import scenario
from tests.support.lark_standin import LarkStandIn
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration


def test_alert_cards_reach_lark_in_order_after_an_outage(ray_session, redis_dir, namespace, tmp_path):
    data, url = redis_dir
    app_id = f"cli_{uuid.uuid4().hex[:8]}"
    with LarkStandIn(app_id=app_id, app_secret="s3cret-value") as lark:
        lark.set_down(True)
        config = load_config(
            data_dir=data, redis_url=url, namespace=namespace, sinks=["jsonl", "lark"], closing_model="keywords",
            nlp={"check_staff": False},
            alerts_jsonl=tmp_path / "alerts.jsonl",
            lark={"app_id": app_id, "app_secret": "s3cret-value", "domain": lark.url, "timeout_s": 1,
                  "public_chats": {"default": "oc_public"}, "private_chats": {"s1": "oc_dongsen", "s2": "oc_rongsheng"}})
        p = build_pipeline(config, "virtual", sink_specs(config.settings))
        p.load_roster(scenario.roster(), overwrite_rooms=True)
        p.start(log_to_driver=False)
        try:
            p.replay(scenario.items(), chunk=4)
            p.advance(scenario.UNTIL)
            expected = p.report(date(2026, 11, 20), date(2026, 11, 20))["alerts"]
            # Lark is down: the file sink and the pipeline carry on regardless.
            assert wait_for(lambda: len((tmp_path / "alerts.jsonl").read_bytes().splitlines()) == len(expected))
            assert lark.messages == []
            assert p.r.hget(p.keys.stats, "sink_failing:lark") is not None
            # ... and the service says so: the health API and a banner on every dashboard page.
            services = build_services(config, p.inbox)
            services.accounts.create("boss", "boss-password", UserRole.MANAGER)
            web = TestClient(create_app(services))
            health = web.get("/api/health").json()["sinks"]
            assert health["lark"]["failing_since"] and health["lark"]["waiting"] == len(expected)
            assert health["jsonl"] == {"failing_since": None, "waiting": 0, "folded": 0}
            csrf = web.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
            web.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf})
            assert "飞书暂时无法送达" in web.get("/").text and f"({len(expected)})" in web.get("/").text
            lark.set_down(False)
            wanted = sum(len(a["targets"]) for a in expected)
            assert wait_for(lambda: len(lark.messages) == wanted, timeout_s=40), lark.messages
        finally:
            p.stop()
        cards = lark.messages
        assert {m["chat_id"] for m in cards} == {"oc_dongsen", "oc_public"}
        assert all(m["msg_type"] == "interactive" for m in cards)
        # The notifier says why the room ranks where it does.
        assert all(re.search(r'优先原因：[^"]*客户已等待 \d+ 分钟', orjson.dumps(m["content"]).decode()) for m in cards)
        colours = [m["content"]["header"]["template"] for m in cards]
        sent_order = [orjson.loads(line)["alert_id"] for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines()]
        # Cards for waits that ended while Lark was down (R1's first, answered at 09:12, among them) say so, in
        # grey; the rooms still waiting (R3) keep their level's colour.
        answered = [m["content"]["header"]["title"]["content"].endswith("（此后已回复或已处理）") for m in cards]
        assert answered[0] and colours[0] == "grey" and all(c == "grey" for c, a in zip(colours, answered) if a)
        still = {c for c, a, m in zip(colours, answered, cards) if not a and "R3" in orjson.dumps(m["content"]).decode()}
        assert still and still <= {"green", "yellow", "orange", "red"}
        assert len(sent_order) == len(expected)
        card_order = []
        for m in cards:
            text = orjson.dumps(m["content"]).decode()
            alert_id = next(a for a in sent_order if a in text)
            if not card_order or card_order[-1] != alert_id:
                card_order.append(alert_id)
        assert card_order == sent_order  # in stream order, none lost, none twice
        assert "s3cret-value" not in (data / "redis.log").read_text()
        assert wait_for(lambda: web.get("/api/health").json()["sinks"]["lark"] == {"failing_since": None, "waiting": 0,
                                                                                 "folded": 0})
        assert "飞书暂时无法送达" not in web.get("/").text
