"""The webhook's limits against a real embedded Redis: requests per token, body size, message size, and
backpressure from a full or slow inbox without the web process holding anything back in memory."""
from __future__ import annotations

import gc
import threading
import time
import tracemalloc

import orjson
import pytest
from fastapi.testclient import TestClient

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.connectors.wechaty import MAX_TEXT_CHARS
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import stats
from sales_assistant.web.app import MAX_BATCH, create_app

pytestmark = pytest.mark.integration
TOKEN = "ingest-secret-0123456789"
INGEST = {"Authorization": f"Bearer {TOKEN}"}
T = 1_795_136_400_000


def message(i: int | str, **over) -> dict:
    return {"id": f"m{i}", "roomId": "R1", "fromId": "c1", "text": "在吗", "timestamp": T, "type": 7, **over}


@pytest.fixture
def make_client(redis_dir, namespace):
    data, url = redis_dir
    clients = []

    def make(**http) -> TestClient:
        config = load_config(data_dir=data, redis_url=url, namespace=namespace, ingest_token=TOKEN,
                             api_token="api-secret-0123456789", max_backlog=1000, http=http)
        inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
        c = TestClient(create_app(build_services(config, inbox)))
        c.inbox = inbox
        clients.append(c.__enter__())
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def test_a_token_over_its_rate_gets_429_with_retry_after_and_nothing_is_written(make_client):
    c = make_client(rate_per_token_per_s=0.5, burst=3)
    for i in range(3):
        assert c.post("/api/messages", json=message(i), headers=INGEST).status_code == 202
    r = c.post("/api/messages", json=message(99), headers=INGEST)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"
    assert "请求过于频繁" in r.json()["detail"] and "too many requests" in r.json()["detail"]
    assert c.inbox.backlog() == 3
    assert stats(c.inbox.r, c.inbox.keys) == {"accepted": 3, "rejected:rate_limited": 1}
    # A wrong token is refused as such, and spends nothing of the right token's bucket.
    assert c.post("/api/messages", json=message(98), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_rate_zero_means_no_limit(make_client):
    c = make_client(rate_per_token_per_s=0, burst=1)
    for i in range(30):
        assert c.post("/api/messages", json=message(i), headers=INGEST).status_code == 202


def test_message_text_over_the_limit_is_refused_naming_the_field(make_client):
    c = make_client()
    r = c.post("/api/messages", json=[message(1), message(2, text="好" * (MAX_TEXT_CHARS + 1))], headers=INGEST)
    assert r.status_code == 422
    (field,) = [f for f in r.json()["fields"] if f["field"].endswith(".1.text")]
    assert f"at most {MAX_TEXT_CHARS} characters" in field["message"]
    assert c.inbox.backlog() == 0


def test_more_than_max_batch_messages_is_a_413(make_client):
    c = make_client()
    r = c.post("/api/messages", json=[message(i) for i in range(MAX_BATCH + 1)], headers=INGEST)
    assert r.status_code == 413 and str(MAX_BATCH) in r.json()["detail"]
    assert c.inbox.backlog() == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_client):
    c = make_client(max_body_bytes=100_000)
    r = c.post("/api/messages", content=b" " * 100_001, headers={**INGEST, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json() == {"error": "request body larger than 100000 bytes"}


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(make_client):
    c = make_client(max_body_bytes=100_000)
    sent = []

    def chunks():
        for _ in range(50):  # 5 MB offered, without a content-length
            sent.append(1)
            yield b" " * 100_000

    r = c.post("/api/messages", content=chunks(), headers={**INGEST, "Content-Type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413


def test_a_full_inbox_answers_503_and_the_web_process_buffers_nothing(make_client):
    c = make_client()
    for start in (0, 500):
        assert c.post("/api/messages", json=[message(i) for i in range(start, start + 500)],
                      headers=INGEST).json()["accepted"] == 500
    before = stats(c.inbox.r, c.inbox.keys)
    batch = [message(f"x{i}", text="请问发货了吗？" * 20) for i in range(100)]
    assert c.post("/api/messages", json=batch, headers=INGEST).status_code == 503  # warms every code path once
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        offered = 0
        for n in range(100):
            body = orjson.dumps([{**m, "id": f"{m['id']}-{n}"} for m in batch])
            offered += len(body)
            r = c.post("/api/messages", content=body, headers={**INGEST, "Content-Type": "application/json"})
            assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert offered > 3_000_000
    assert grown < offered / 20, f"{grown} bytes still held after refusing {offered} bytes"
    assert c.inbox.backlog() == 1000
    assert stats(c.inbox.r, c.inbox.keys) == before  # nothing accepted, nothing marked as seen
    assert c.inbox.r.exists(c.inbox.keys.seen("x0-0")) == 0

    # Once the pipeline catches up, the very same messages go in: a 503 is "later", never "lost".
    c.inbox.ensure_group()
    c.inbox.ack([e.stream_id for e in c.inbox.read("test", 1000, None, pending=False)])
    c.inbox.r.xtrim(c.inbox.keys.inbox, maxlen=0)
    r = c.post("/api/messages", content=orjson.dumps([{**m, "id": f"{m['id']}-0"} for m in batch]),
               headers={**INGEST, "Content-Type": "application/json"})
    assert r.status_code == 202 and r.json() == {"accepted": 100, "duplicates": 0}


def test_a_slow_redis_slows_the_caller_instead_of_queueing_in_memory(make_client):
    c = make_client()
    pause_ms = 800
    c.inbox.r.execute_command("CLIENT", "PAUSE", pause_ms, "WRITE")  # Redis stops taking writes for a while
    paused_at = time.monotonic()
    done = threading.Event()
    answered: list = []

    def send():
        answered.append(c.post("/api/messages", json=message("slow"), headers=INGEST))
        done.set()

    threading.Thread(target=send).start()
    assert not done.wait(pause_ms / 1000 / 2), "the webhook answered before Redis had the message"
    assert done.wait(10)
    assert time.monotonic() - paused_at >= pause_ms / 1000 * 0.9
    assert answered[0].status_code == 202 and c.inbox.backlog() == 1
