"""POST /api/messages and the manager API against a real embedded Redis."""
from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.core.room import Clock, Room
from sales_assistant.core.roster import RoomInfo
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_shard_batch
from sales_assistant.web.app import create_app

pytestmark = pytest.mark.integration
T = 1_795_136_400_000
INGEST = {"Authorization": "Bearer ingest-secret"}
API = {"Authorization": "Bearer api-secret"}


def message(i: int = 1, **over) -> dict:
    return {"id": f"m{i}", "roomId": "R1", "fromId": "c1", "text": "在吗", "timestamp": T + i, "type": 7,
            "mentionIdList": [], **over}


@pytest.fixture
def client(redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, ingest_token="ingest-secret",
                         api_token="api-secret", max_backlog=1000)
    inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
    ticks = []
    app = create_app(build_services(config, inbox, advance=lambda now: ticks.append(now) or 0))
    with TestClient(app) as c:
        c.inbox, c.ticks = inbox, ticks
        yield c


def entries(c) -> list:
    return [orjson.loads(f["d"]) for _, f in c.inbox.r.xrange(c.inbox.keys.inbox)]


def test_one_message_and_a_batch_enter_the_stream_once(client):
    assert client.post("/api/messages", json=message(1), headers=INGEST).json() == {"accepted": 1, "duplicates": 0}
    r = client.post("/api/messages", json=[message(1), message(2), message(3)], headers=INGEST)
    assert r.status_code == 202 and r.json() == {"accepted": 2, "duplicates": 1}
    assert [e[0] for e in entries(client)] == ["m1", "m2", "m3"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic ingest-secret"},
                                     API])
def test_ingest_requires_its_own_token(client, headers):
    assert client.post("/api/messages", json=message(), headers=headers).status_code == 401
    assert entries(client) == []


@pytest.mark.parametrize("payload, field", [
    ({k: v for k, v in message().items() if k != "roomId"}, "roomId"),
    (message(timestamp="yesterday"), "timestamp"),
    (message(timestamp=1.5e12), "timestamp"),
    (message(type=99), "type"),
    (message(text="字" * 100_000), "text"),
    (message(mentionIdList="u1"), "mentionIdList"),
    (message(id=""), "id"),
])
def test_bad_fields_are_named_and_nothing_is_written(client, payload, field):
    r = client.post("/api/messages", json=[message(7), payload], headers=INGEST)
    assert r.status_code == 422
    assert any(field in f["field"] for f in r.json()["fields"]), r.json()
    assert entries(client) == []  # the good message in the same batch is not half-written


def test_malformed_json_is_a_400(client):
    r = client.post("/api/messages", content=b'{"id": "m1", "roomId":', headers={**INGEST, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "malformed JSON"


def test_oversized_body_is_refused(client):
    r = client.post("/api/messages", content=b"x" * 6_000_000, headers={**INGEST, "Content-Type": "application/json"})
    assert r.status_code == 413


def test_backlog_limit_answers_503(client):
    for chunk in range(0, 1000, 500):
        client.post("/api/messages", json=[message(i) for i in range(chunk, chunk + 500)], headers=INGEST)
    r = client.post("/api/messages", json=message(5000), headers=INGEST)
    assert r.status_code == 503 and r.headers["Retry-After"]


def running_clock(c, room_id: str = "R1", started_at: int = T - 60_000) -> None:
    room = Room(RoomInfo(room_id, "群"))
    room.clock = Clock("m0", started_at, "c1", "客户", "在吗", "在吗")
    commit_shard_batch(c.inbox.r, c.inbox.keys, [room], {}, [], [], {})


def test_cancel_enters_the_stream_as_an_order(client):
    assert client.post("/api/rooms/R1/cancel", json={"by": "manager"}, headers=INGEST).status_code == 401
    assert client.post("/api/rooms/R1/cancel", json={"by": "manager"}, headers=API).status_code == 404  # no such room
    running_clock(client)
    client.post("/api/clock/tick", json={"now": T}, headers=API)
    r = client.post("/api/rooms/R1/cancel", json={"by": "manager", "reason": "客户说好的"}, headers=API)
    assert r.status_code == 202
    assert entries(client) == [["R1", "api", T, "客户说好的"]]  # the caller, never the body's "by"
    audit = client.get("/api/audit", headers=API).json()["audit"]
    assert [(a["user"], a["on_behalf_of"], a["action"], a["target"]) for a in audit] == [
        ("api", "manager", "cancel_clock", "R1")]


def test_tick_and_health(client):
    assert client.post("/api/clock/tick", json={"now": T}, headers=API).json() == {"alerts_fired": 0}
    assert client.ticks == [T]
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
