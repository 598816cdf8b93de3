"""Restart safety: the whole service dies at once in the middle of a backlog, starts again, loses nothing.

The crash is a whole-tree kill (tests/support/service.py: every process frozen, then SIGKILLed, Ray's
actor workers included), so no worker lives on to drain the inbox: what the ingest had taken and not
acknowledged is left pending, and the restarted service must finish it exactly once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import httpx
import orjson
import psutil
import pytest

from sales_assistant.benchmarks import workload
from sales_assistant.benchmarks.process_tree import tree
from sales_assistant.store.keys import INBOX_GROUP, Keys
from sales_assistant.store.redis import connect, embedded_url
from sales_assistant.store.streams import backlog_of
from tests.support.service import Service, comparable, replay_report, wire

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START = 1_795_136_400_000  # 2026-11-20 09:00 +08:00
UNTIL = START + 10 * 60 * 60_000
DAY = date(2026, 11, 20)
INGEST = {"Authorization": "Bearer ingest-token"}
API = {"Authorization": "Bearer api-token"}


def ray_workers(svc: Service, actor_class: str) -> list[psutil.Process]:
    """The service's Ray worker processes that host `actor_class` (Ray titles them `ray::<class>`)."""
    found = []
    for p in tree(svc.proc.pid):
        try:
            title = " ".join(p.cmdline()).strip()
        except psutil.Error:
            continue
        if title == f"ray::{actor_class}" or title.startswith(f"ray::{actor_class}."):
            found.append(p)
    return found


def test_a_whole_service_kill_mid_backlog_loses_nothing_and_repeats_nothing(ray_session, tmp_path, redis_dir):
    items = [m for m in workload.day(rooms=40, messages=1600, start_ms=START, span_ms=6 * 60 * 60_000, seed=3)]
    roster_dict = workload.roster(40, reps=5)
    (tmp_path / "roster.json").write_text(json.dumps(roster_dict, ensure_ascii=False))
    data = tmp_path / "svc"
    env = {"SA_INGEST_TOKEN": "ingest-token", "SA_API_TOKEN": "api-token", "SA_SINKS": '["jsonl"]',
           "SA_ROSTER_FILE": str(tmp_path / "roster.json"), "SA_BATCH_SIZE": "16", "SA_NAMESPACE": "svc",
           "SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}
    svc = Service(data, env).start()
    # Small batches, then a backlog in two requests of 1,000 and 100, the last ones before the kill.
    batches = ([items[i:i + 25] for i in range(0, 300, 25)] + [items[300:1300], items[1300:1400]]
               + [items[i:i + 25] for i in range(1400, 1600, 25)])
    cut = 14
    try:
        store, inbox = connect(embedded_url(data)), Keys("svc").inbox

        def taken_not_acknowledged() -> int:
            return store.xpending(inbox, INBOX_GROUP)["pending"]

        def post(batch) -> None:
            assert httpx.post(f"{svc.url}/api/messages", json=[wire(m) for m in batch], headers=INGEST).status_code == 202

        for batch in batches[:cut - 1]:
            post(batch)
        # The ingest is frozen in the middle of the backlog, holding batches it took and has not
        # acknowledged; the last request then lands behind it. The whole service dies in that state.
        [ingest] = svc.wait_until(lambda: ray_workers(svc, "IngestActor"), what="the ingest's worker")
        svc.wait_until(taken_not_acknowledged, timeout_s=30, what="the ingest at work on the backlog")
        ingest.suspend()
        post(batches[cut - 1])
        at_kill = {}

        def look(_frozen) -> None:  # nothing of the service runs now: this is what the crash leaves behind
            at_kill.update(backlog=backlog_of(store, inbox, INBOX_GROUP), taken=taken_not_acknowledged())

        svc.kill(while_frozen=look)
        assert at_kill["taken"] > 0 and at_kill["backlog"] >= at_kill["taken"] + len(batches[cut - 1]), at_kill
        svc.start()
        # The platform retries what it is not sure of: the last batch again (deduplicated), then the rest.
        for batch in batches[cut - 1:]:
            r = httpx.post(f"{svc.url}/api/messages", json=[wire(m) for m in batch], headers=INGEST)
            assert r.status_code == 202
        svc.wait_until(lambda: httpx.get(f"{svc.url}/api/health").json()["caught_up"], what="inbox drained")
        httpx.post(f"{svc.url}/api/clock/tick", json={"now": UNTIL}, headers=API).raise_for_status()
        got = httpx.get(f"{svc.url}/api/metrics", params={"start": str(DAY), "end": str(DAY)}, headers=API).json()
        expected = replay_report(tmp_path / "ref", redis_dir[1], items, roster_dict, UNTIL, DAY, shards=2,
                                 closing_model="keywords", nlp={"check_staff": False})
        assert len(expected["alerts"]) > 50 and any(e["ended_by"] == "open" for e in expected["episodes"])
        assert comparable(got) == comparable(expected)
        alerts_file = data / "alerts.jsonl"

        def delivered():
            lines = alerts_file.read_bytes().splitlines() if alerts_file.exists() else []
            return lines if len(lines) >= len(expected["alerts"]) else None

        lines = svc.wait_until(delivered, what="every alert written")
        ids = [orjson.loads(line)["alert_id"] for line in lines]
        assert len(ids) == len(set(ids)), "an alert was sent twice"
        assert set(ids) == {a["alert_id"] for a in expected["alerts"]}, "an alert was skipped"
        health = httpx.get(f"{svc.url}/api/health").json()
        assert health["stats"]["duplicates"] == len(batches[cut - 1])  # the retried batch

        # A manager cancels a clock that still runs, from the command line.
        open_ep = next(e for e in expected["episodes"] if e["ended_by"] == "open")
        done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "cancel", open_ep["room_id"], "--by", "manager",
                               "--url", svc.url], env={**os.environ, "SA_API_TOKEN": "api-token"},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

        def cancelled():
            eps = httpx.get(f"{svc.url}/api/metrics", params={"start": str(DAY), "end": str(DAY)}, headers=API).json()
            return next(e for e in eps["episodes"] if e["episode_id"] == open_ep["episode_id"])["ended_by"] == "cancelled"

        svc.wait_until(cancelled, timeout_s=10, what="the cancelled clock")
    finally:
        svc.stop()
        from sales_assistant.store.redis import stop_embedded

        stop_embedded(data)
