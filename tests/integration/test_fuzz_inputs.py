"""Property tests for POST /api/messages against a real embedded Redis: whatever arrives, the answer is one of
the documented statuses (never a 500), a refusal changes nothing but its rejection counter, and what is
accepted is in the inbox exactly once."""
from __future__ import annotations

import uuid

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.connectors.wechaty import MAX_TEXT_CHARS
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import stats
from sales_assistant.web.app import create_app
from tests.support.strategies import (
    BROKEN_MESSAGE_FIELDS,
    NASTY,
    json_values,
    long_text,
    to_json_bytes,
    wechaty_messages,
)

pytestmark = pytest.mark.integration

TOKEN = "ingest-secret-0123456789"
INGEST = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
DOCUMENTED = {202, 400, 401, 413, 422, 429, 503}
T = 1_795_136_400_000
# The client fixture lives for the whole test while hypothesis runs many examples against it: each example
# compares the inbox and counters with what they were just before it, so the shared state is the point.
FUZZ = settings(deadline=None, max_examples=60,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture
def client(redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, ingest_token=TOKEN,
                         api_token="api-secret-0123456789", max_backlog=1_000_000)
    keys = Keys(namespace)
    inbox = Inbox(connect(url), keys, config.settings.max_backlog)
    with TestClient(create_app(build_services(config, inbox))) as c:
        c.inbox = inbox
        yield c


def state(c) -> tuple[int, dict[str, int]]:
    return c.inbox.r.xlen(c.inbox.keys.inbox), stats(c.inbox.r, c.inbox.keys)


def post(c, body: bytes, headers: dict | None = None):
    """Post raw bytes and check the invariants that hold for every request, whatever it carried."""
    before = state(c)
    r = c.post("/api/messages", content=body, headers=INGEST if headers is None else headers)
    after = state(c)
    assert r.status_code in DOCUMENTED, (r.status_code, r.text)
    changed = {k: after[1].get(k, 0) - before[1].get(k, 0) for k in after[1].keys() | before[1].keys()}
    changed = {k: v for k, v in changed.items() if v}
    if r.status_code == 202:
        accepted, duplicates = r.json()["accepted"], r.json()["duplicates"]
        assert after[0] - before[0] == accepted
        assert changed == {k: v for k, v in {"accepted": accepted, "duplicates": duplicates}.items() if v}
    else:
        assert after[0] == before[0], "a refused request wrote to the inbox"
        assert all(k.startswith("rejected:") for k in changed) and sum(changed.values()) <= 1, changed
        assert r.headers["content-type"].startswith("application/json")
    return r


def fresh(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:12]


content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "application/vnd.api+json", "multipart/form-data; boundary=x", ""])


@FUZZ
@given(body=st.binary(max_size=2000), ctype=content_types)
@example(body=b"\xff\xfe\x00{", ctype="application/json")
@example(body=b"[" * 10_000, ctype="application/json")
@example(body=b'{"id": "m1", "roomId":', ctype="application/json")
@example(body=b"1" * 5000, ctype="application/json")  # an integer past Python's 4300-digit limit
def test_arbitrary_bytes_are_answered_and_change_nothing(client, body, ctype):
    post(client, body, {**INGEST, "Content-Type": ctype} if ctype else {"Authorization": INGEST["Authorization"]})


@FUZZ
@given(value=json_values)
@example(value=None)
@example(value=[])
@example(value={"id": "\ud800", "roomId": "R", "fromId": "c", "timestamp": T, "type": 7})
def test_arbitrary_json_is_answered_and_changes_nothing_unless_accepted(client, value):
    post(client, to_json_bytes(value))


@FUZZ
@given(messages=st.lists(wechaty_messages(), min_size=1, max_size=4), field=st.sampled_from(sorted(BROKEN_MESSAGE_FIELDS)),
       data=st.data())
def test_one_broken_field_refuses_the_whole_batch_and_names_the_field(client, messages, field, data):
    victim = data.draw(st.integers(0, len(messages) - 1))
    bad = data.draw(st.sampled_from(BROKEN_MESSAGE_FIELDS[field]))
    messages[victim] = {**messages[victim], field: bad}
    r = post(client, to_json_bytes(messages))
    assert r.status_code == 422, r.text
    named = [f["field"] for f in r.json()["fields"]]
    # A batch names the list position and the field: body.list[WechatyMessage].2.timestamp
    assert any(f".{victim}.{field}" in f for f in named), named
    assert r.json()["error"] == "invalid request"


@FUZZ
@given(messages=st.lists(wechaty_messages(st.sampled_from(["a", "b", "c", "d", "e"])), min_size=1, max_size=8),
       cut=st.integers(0, 8))
def test_accepted_messages_are_in_the_inbox_exactly_once_and_intact(client, messages, cut):
    prefix = fresh()
    for m in messages:
        m["id"] = prefix + m["id"]  # duplicates within this example only
    already = client.inbox.backlog()
    first, second = messages[:cut], messages[cut:]
    accepted = 0
    for batch in (first, second):
        if batch:
            r = post(client, to_json_bytes(batch) if len(batch) > 1 else to_json_bytes(batch[0]))
            assert r.status_code == 202, r.text
            accepted += r.json()["accepted"]
    unique = list(dict.fromkeys(m["id"] for m in messages))
    assert accepted == len(unique)
    rows = [orjson.loads(f["d"]) for _, f in client.inbox.r.xrange(client.inbox.keys.inbox)[already:]]
    assert [row[0] for row in rows] == unique
    firsts = {}
    for m in messages:
        firsts.setdefault(m["id"], m)
    assert [(row[3], row[4], row[6]) for row in rows] == [
        (firsts[i]["text"], firsts[i]["timestamp"], firsts[i]["mentionIdList"]) for i in unique]


@FUZZ
@given(header=st.one_of(st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
                        st.sampled_from(["", "Bearer", "Bearer ", f"bearer {TOKEN}x", f"Basic {TOKEN}",
                                         f"Bearer {TOKEN[:-1]}", f"Bearer  {TOKEN}", f"Bearer {TOKEN}\t"])))
def test_any_wrong_authorization_is_a_401_and_changes_nothing(client, header):
    message = {"id": fresh(), "roomId": "R1", "fromId": "c1", "text": "在吗", "timestamp": T, "type": 7}
    r = post(client, to_json_bytes(message),
             {"Authorization": header.encode("latin-1"), "Content-Type": "application/json"})
    assert r.status_code == 401


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=long_text(3 * MAX_TEXT_CHARS), nasty=st.sampled_from(NASTY))
def test_text_length_limit_is_exact_and_named(client, text, nasty):
    text = (nasty + text)[: len(text)]
    message = {"id": fresh(), "roomId": "R1", "fromId": "c1", "text": text, "timestamp": T, "type": 7}
    r = post(client, to_json_bytes(message))
    if len(text) <= MAX_TEXT_CHARS:
        assert r.status_code == 202 and r.json()["accepted"] == 1
    else:
        assert r.status_code == 422
        assert "body.WechatyMessage.text" in [f["field"] for f in r.json()["fields"]], r.json()
        (named,) = [f for f in r.json()["fields"] if f["field"] == "body.WechatyMessage.text"]
        assert str(MAX_TEXT_CHARS) in named["message"]
