"""Restart safety: SIGKILL the running service mid-stream, start it again, lose nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import httpx
import orjson
import pytest

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.benchmarks import workload
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import Message
from tests.support.service import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
START = 1_795_136_400_000  # 2026-11-20 09:00 +08:00
UNTIL = START + 10 * 60 * 60_000
DAY = date(2026, 11, 20)
INGEST = {"Authorization": "Bearer ingest-token"}
API = {"Authorization": "Bearer api-token"}


def wire(m: Message) -> dict:
    return {"id": m.id, "roomId": m.room_id, "fromId": m.sender_id, "text": m.text, "timestamp": m.ts,
            "type": int(m.type), "mentionIdList": []}


def comparable(report: dict) -> dict:
    return {"alerts": sorted(json.dumps(a, sort_keys=True) for a in report["alerts"]),
            "episodes": report["episodes"], "sales": report["sales"], "rooms": report["rooms"]}


def reference(tmp_path, redis_url, items, roster_dict) -> dict:
    config = load_config(data_dir=tmp_path / "ref", redis_url=redis_url, namespace="reference", shards=2,
                         closing_model="keywords", nlp={"check_staff": False})
    p = build_pipeline(config, "virtual", [SinkSpec("null")])
    p.load_roster(RosterFile.model_validate(roster_dict).to_roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    try:
        p.replay(items, chunk=50)
        p.advance(UNTIL)
        return p.report(DAY, DAY)
    finally:
        p.stop()


def test_sigkill_mid_stream_loses_nothing_and_repeats_nothing(ray_session, tmp_path, redis_dir):
    items = [m for m in workload.day(rooms=40, messages=800, start_ms=START, span_ms=6 * 60 * 60_000, seed=3)]
    roster_dict = workload.roster(40, reps=5)
    (tmp_path / "roster.json").write_text(json.dumps(roster_dict, ensure_ascii=False))
    data = tmp_path / "svc"
    env = {"SA_INGEST_TOKEN": "ingest-token", "SA_API_TOKEN": "api-token", "SA_SINKS": '["jsonl"]',
           "SA_ROSTER_FILE": str(tmp_path / "roster.json"), "SA_BATCH_SIZE": "16", "SA_NAMESPACE": "svc",
           "SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}
    svc = Service(data, env).start()
    batches = [items[i:i + 25] for i in range(0, 300, 25)] + [items[300:700]] + [items[i:i + 25] for i in range(700, 800, 25)]
    cut = 13  # the big batch of 400 is the last one before the kill
    try:
        for batch in batches[:cut]:
            assert httpx.post(f"{svc.url}/api/messages", json=[wire(m) for m in batch], headers=INGEST).status_code == 202
        assert not httpx.get(f"{svc.url}/api/health").json()["caught_up"], "the kill must land mid-stream"
        svc.kill()  # the inbox still holds unprocessed entries, clocks are running
        svc.start()
        # The platform retries what it is not sure of: the last batch again (deduplicated), then the rest.
        for batch in batches[cut - 1:]:
            r = httpx.post(f"{svc.url}/api/messages", json=[wire(m) for m in batch], headers=INGEST)
            assert r.status_code == 202
        svc.wait_until(lambda: httpx.get(f"{svc.url}/api/health").json()["caught_up"], what="inbox drained")
        httpx.post(f"{svc.url}/api/clock/tick", json={"now": UNTIL}, headers=API).raise_for_status()
        got = httpx.get(f"{svc.url}/api/metrics", params={"start": str(DAY), "end": str(DAY)}, headers=API).json()
        expected = reference(tmp_path, redis_dir[1], items, roster_dict)
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
        assert health["stats"]["duplicates"] == 400  # the retried batch

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
