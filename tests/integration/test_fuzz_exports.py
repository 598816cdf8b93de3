"""Property test: whatever Unicode customers and staff send (control and bidi characters, NUL, U+FFFE,
formula starts; no lone surrogates, which JSON cannot carry to the door), once it is through the door
(POST /api/messages) and applied by the real pipeline (Ray actors, embedded Redis, virtual time, the
console sink among the sinks), every page, API view and export answers without a 500, for a manager and
for a rep."""
from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.cli.bootstrap import build_pipeline, build_services, load_config
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff
from sales_assistant.policies.access import UserRole
from sales_assistant.web.app import create_app
from sales_assistant.web.export import REPORT_TABLES, ROOM_LIST_TABLES
from tests.support.strategies import NASTY, room_ids, safe_chars

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INGEST, API = "ingest-secret-0123456789", "api-secret-0123456789"
T, M = 1_795_136_400_000, 60_000  # 2026-11-20 09:00 Asia/Shanghai
DAY = "start=2026-11-20&end=2026-11-20"
CONTROLS = ["\x00", "\x07", "\x1b[31m", "\x1b]0;title\x07", "\u202e", "\u2066", "\u200f", "\ufffe", "\uffff", "\r",
            "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "@SUM(1)", "\x85", "\u2028", "\x7f", "\x0b\x0c"]
texts = st.one_of(st.text(safe_chars, max_size=40), st.sampled_from(NASTY + CONTROLS),
                  st.lists(st.sampled_from(NASTY + CONTROLS + ["好的", "a"]), min_size=1, max_size=6).map("".join))
PAGES = ["/", "/fragments/today", "/rooms", "/unassigned", "/approvals", f"/performance?{DAY}", "/alerts", "/audit",
         "/roster"]
API_VIEWS = ["/api/rooms", f"/api/metrics?{DAY}", "/api/alerts", "/api/audit", "/api/approvals", "/api/roster"]


@pytest.fixture
def client(ray_session, redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=2, closing_model="keywords",
                         nlp={"check_staff": False}, api_token=API, ingest_token=INGEST)
    p = build_pipeline(config, "virtual", [SinkSpec(name, tz=config.settings.timezone) for name in ("console", "null")])
    p.load_roster(Roster({"s1": Staff("s1", "张三", Role.SALES), "m1": Staff("m1", "王经理", Role.MANAGER)},
                         {"R1": RoomInfo("R1", "\u202e群\x00", "s1")}), overwrite_rooms=True)
    p.start(log_to_driver=False)
    services = build_services(config, p.inbox, advance=p.advance)
    services.accounts.create("rep1", "rep1-password", UserRole.SALES, "张三", "s1")
    c = TestClient(create_app(services))
    c.pipeline, c.examples = p, itertools.count(1)
    c.headers_of = {"api": {"Authorization": f"Bearer {API}"},
              "rep1": {"Authorization": f"Bearer {services.accounts.issue_token('rep1')}"}}
    yield c
    p.stop()


def settle(c, now: int) -> None:
    c.pipeline.pump()
    assert c.post("/api/clock/tick", json={"now": now}, headers=c.headers_of["api"]).status_code == 200
    c.pipeline.pump()


conversations = st.lists(st.fixed_dictionaries({
    "room": st.one_of(st.just("R1"), room_ids()), "topic": texts, "customer": texts, "said": texts,
    "reply": st.one_of(st.none(), texts)}), min_size=1, max_size=3)


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(conversations=conversations)
def test_hostile_unicode_through_the_door_never_makes_a_page_or_an_export_answer_500(client, conversations):
    start = T + next(client.examples) * 10 * M  # each example later than the last: virtual time never goes back
    batch = []
    for i, conv in enumerate(conversations):
        batch.append({"id": f"f{start}-{i}-c", "roomId": conv["room"], "fromId": "cust", "text": conv["said"],
                      "timestamp": start + i, "type": 7, "roomTopic": conv["topic"], "fromName": conv["customer"]})
        if conv["reply"] is not None:
            batch.append({"id": f"f{start}-{i}-s", "roomId": conv["room"], "fromId": "s1", "text": conv["reply"],
                          "timestamp": start + M // 2 + i, "type": 7})
    r = client.post("/api/messages", json=batch, headers={"Authorization": f"Bearer {INGEST}"})
    assert r.status_code == 202, r.text
    settle(client, start + 3 * M)  # past the first alert of every open wait
    rooms = {conv["room"] for conv in conversations}
    for user, headers in client.headers_of.items():
        paths = (PAGES + API_VIEWS + [f"/rooms/{quote(room, safe='')}" for room in rooms]
                 + [f"/api/rooms/{quote(room, safe='')}" for room in rooms]
                 + [f"/api/export/{table}.{fmt}?{DAY}" for table in REPORT_TABLES + ROOM_LIST_TABLES
                    for fmt in ("csv", "xlsx")])
        for path in paths:
            answer = client.get(path, headers=headers)
            assert answer.status_code < 500, (user, path, answer.status_code, answer.text[:500])
            assert answer.status_code in (200, 403), (user, path, answer.status_code, answer.text[:300])
