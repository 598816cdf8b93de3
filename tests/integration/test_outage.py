"""An outage, as the live service meets it: a day fed through the HTTP door window by window, the clock
ticked to just before each window as replay does; then 40 minutes of messages arrive at once and the
clock is moved past them while they still wait in the inbox. Alerts, episodes and metrics must be those
of a replay of the same messages: no alert for a wait whose reply sat in the backlog. A second run kills
the whole service (every process of its tree at once) in the middle of that backlog, starts it again and
resends the window; the result is still the replay's.
"""
from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from sales_assistant.benchmarks import workload
from sales_assistant.store.inbox import unapplied_since
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect, embedded_url, stop_embedded
from tests.support.service import Service, comparable, replay_report, wire

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START = 1_795_136_400_000  # 2026-11-20 09:00 +08:00
M = 60_000
SPAN = 4 * 60 * M
OUTAGE = (START + 90 * M, START + 130 * M)  # the 40 minutes whose messages arrive late, at once
UNTIL = START + SPAN + 60 * M
DAY = date(2026, 11, 20)
INGEST = {"Authorization": "Bearer ingest-token"}
API = {"Authorization": "Bearer api-token"}
NS = "svc"


def windows(items: list) -> list[tuple[int, list]]:
    """(start, messages) for every 10 minutes, the outage's 40 minutes as one window."""
    out: list[tuple[int, list]] = []
    t = START
    while t < START + SPAN + 10 * M:
        end = OUTAGE[1] if t == OUTAGE[0] else t + 10 * M
        out.append((t, [m for m in items if t <= m.ts < end]))
        t = end
    return out


def post(svc: Service, batch: list) -> None:
    if batch:
        r = httpx.post(f"{svc.url}/api/messages", json=[wire(m) for m in batch], headers=INGEST, timeout=30)
        assert r.status_code == 202, r.text


def tick(svc: Service, now: int) -> None:
    httpx.post(f"{svc.url}/api/clock/tick", json={"now": now}, headers=API, timeout=60).raise_for_status()


@pytest.mark.parametrize("closing", ["learned", "keywords"])  # the shipped default and the built-in list
@pytest.mark.parametrize("crash", [False, True], ids=["late-backlog", "late-backlog-and-whole-tree-kill"])
def test_a_late_backlog_gives_the_alerts_and_episodes_of_replay(ray_session, tmp_path, redis_dir, crash, closing):
    items = workload.day(rooms=60, messages=2000, start_ms=START, span_ms=SPAN, seed=11)
    roster_dict = workload.roster(60, reps=5)
    (tmp_path / "roster.json").write_text(json.dumps(roster_dict, ensure_ascii=False))
    data = tmp_path / "svc"
    env = {"SA_INGEST_TOKEN": "ingest-token", "SA_API_TOKEN": "api-token", "SA_SINKS": '["jsonl"]',
           "SA_ROSTER_FILE": str(tmp_path / "roster.json"), "SA_BATCH_SIZE": "4", "SA_NAMESPACE": NS,
           "SA_CLOSING_MODEL": closing, "SA_NLP__CHECK_STAFF": "false"}
    svc = Service(data, env)
    try:
        svc.start(timeout_s=300)
        r, keys = connect(embedded_url(data)), Keys(NS)
        for start, batch in windows(items):
            if start != OUTAGE[0]:
                tick(svc, start - 1)  # time reaches the window before its messages do, as in replay
                post(svc, batch)
                continue
            assert len(batch) > 200
            post(svc, batch)  # the backlog arrives at once ...
            tick(svc, OUTAGE[1] - 1)  # ... and time has moved past all of it
            assert unapplied_since(r, keys) is not None, "the tick must land while the backlog waits"
            if crash:
                waiting: list[int | None] = []  # the watermark, read while the whole tree is frozen
                svc.kill(lambda _procs, r=r, keys=keys, waiting=waiting: waiting.append(unapplied_since(r, keys)))
                assert waiting[0] is not None and waiting[0] < OUTAGE[1], "the kill must land in the backlog"
                svc.start(timeout_s=300)
                post(svc, batch)  # the platform resends what it is not sure was taken
                tick(svc, OUTAGE[1] - 1)
        svc.wait_until(lambda: httpx.get(f"{svc.url}/api/health").json()["caught_up"], what="inbox drained")
        tick(svc, UNTIL)
        got = httpx.get(f"{svc.url}/api/metrics", params={"start": str(DAY), "end": str(DAY)}, headers=API,
                        timeout=60).json()
        health = httpx.get(f"{svc.url}/api/health", timeout=30).json()
    finally:
        svc.stop()
        stop_embedded(data)
    expected = replay_report(tmp_path / "ref", redis_dir[1], items, roster_dict, UNTIL, DAY, shards=2,
                             closing_model=closing, nlp={"check_staff": False})
    assert len(expected["alerts"]) > 30
    assert comparable(got) == comparable(expected)
    assert health["stats"].get("nlp_fallback", 0) == 0, health  # every label the model's or the list's, as configured
