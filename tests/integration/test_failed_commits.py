"""A Redis failure in the middle of a shard's or the supervisor's step loses nothing and repeats nothing.

Found by the chaos run (benchmarks/chaos.py): a step that fails before its commit has already moved
its state on in memory, so what it took came back as "already seen" and was dropped. Real embedded
Redis, in-process shells (no Ray); the failure is a commit that raises, as during a Redis restart.
"""
from __future__ import annotations

import pytest
import redis

import sales_assistant.actors.shard as shard_module
import sales_assistant.actors.supervisor as supervisor_module
from sales_assistant.actors.shard import RoomShard
from sales_assistant.actors.supervisor import Supervision
from sales_assistant.benchmarks import workload
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.config.settings import load_policy
from sales_assistant.core.messages import Message
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import EVENTS_GROUP, caught_up, load_alerts, load_episodes, save_roster, stats
from sales_assistant.store.wire import KIND_MESSAGE, MessageRow, ShardEntry

pytestmark = pytest.mark.integration
T = 1_795_136_400_000  # 2026-11-20 09:00 +08:00
MIN = 60_000
TZ = "Asia/Shanghai"


def fail_once(monkeypatch, module, name: str, when=lambda *a, **k: True) -> None:
    """The first call of `module.name` for which `when` holds raises as if Redis were restarting."""
    real, failed = getattr(module, name), []

    def flaky(*args, **kwargs):
        if not failed and when(*args, **kwargs):
            failed.append(1)
            raise redis.ConnectionError("Connection closed by server.")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)


def entry(seq: int, msg_id: str, sender: str, text: str, ts: int) -> ShardEntry:
    return ShardEntry(seq, KIND_MESSAGE, MessageRow.of(Message(msg_id, "R0", sender, text, ts)))


@pytest.fixture
def store(redis_dir, namespace):
    _, url = redis_dir
    r, keys = connect(url), Keys(namespace)
    save_roster(r, keys, RosterFile.model_validate(workload.roster(1, reps=1)).to_roster(), overwrite_rooms=True)
    return url, namespace, r, keys


def supervisor(url: str, namespace: str) -> Supervision:
    return Supervision(url, namespace, load_policy(None), "virtual")


def test_a_shard_batch_that_failed_to_commit_is_applied_when_the_ingest_sends_it_again(store, monkeypatch):
    url, namespace, r, keys = store
    shard = RoomShard(0, 1, url, namespace, TZ)
    first = [entry(1, "m1", "c0-0", "在吗", T), entry(2, "m2", "s0", "稍等", T + 3 * MIN)]
    later = [entry(3, "m3", "c0-0", "价格是多少？", T + 4 * MIN)]
    fail_once(monkeypatch, shard_module, "commit_shard_batch")

    with pytest.raises(redis.ConnectionError):
        shard.apply(first)
    with pytest.raises(RuntimeError, match="out of step"):
        shard.apply(later, after=2)  # the ingest had already sent the next batch: it must not overtake
    assert shard.apply(first)["applied"] == 2  # sent again from the oldest: applied, not skipped as seen
    assert shard.apply(later, after=2)["applied"] == 1
    assert shard.apply(first)["redelivered"] == 2  # and only once

    assert stats(r, keys)["applied"] == 3
    assert [ep.episode_id for ep in load_episodes(r, keys, ["2026-11-20"])] == ["R0/m1"]
    assert RoomShard(0, 1, url, namespace, TZ).rooms["R0"].clock.clock_id == "m3"


def test_a_restarted_shard_takes_no_batch_before_the_oldest_unacknowledged_one(store):
    """Ray retries the calls of a shard that died in any order: the later batch came first, and the
    earlier one's messages were then skipped as seen (the chaos run lost 69 of 20,000)."""
    url, namespace, r, keys = store
    first = [entry(1, "m1", "c0-0", "在吗", T), entry(2, "m2", "s0", "稍等", T + 3 * MIN)]
    later = [entry(3, "m3", "c0-0", "价格是多少？", T + 4 * MIN)]
    restarted = RoomShard(0, 1, url, namespace, TZ)
    with pytest.raises(RuntimeError, match="out of step"):
        restarted.apply(later, after=2)
    assert restarted.apply(first)["applied"] == 2
    assert restarted.apply(later, after=2)["applied"] == 1
    assert stats(r, keys)["applied"] == 3


def test_a_batch_after_a_refused_one_does_not_overtake_it(store):
    """A restarted shard took the retried chain start, refused the batch after it (retried first),
    then took the third batch, which overtook the second: its messages for the same rooms were
    later skipped as seen (the chaos run lost 72 of 20,000). Each batch names the one it follows."""
    url, namespace, r, keys = store
    first = [entry(1, "m1", "c0-0", "在吗", T)]
    second = [entry(2, "m2", "s0", "稍等", T + 3 * MIN)]
    third = [entry(3, "m3", "c0-0", "价格是多少？", T + 4 * MIN)]
    restarted = RoomShard(0, 1, url, namespace, TZ)
    with pytest.raises(RuntimeError, match="out of step"):
        restarted.apply(second, after=1)  # retried before the chain start
    assert restarted.apply(first)["applied"] == 1
    with pytest.raises(RuntimeError, match="out of step"):
        restarted.apply(third, after=2)  # the second was refused: the third must wait for it
    assert restarted.apply(first + second)["applied"] == 1  # the ingest resends from the oldest
    assert restarted.apply(third, after=2)["applied"] == 1
    assert stats(r, keys)["applied"] == 3
    assert [ep.episode_id for ep in load_episodes(r, keys, ["2026-11-20"])] == ["R0/m1"]


def test_alerts_of_a_supervisor_step_that_failed_to_commit_fire_on_the_next_step(store, monkeypatch):
    url, namespace, r, keys = store
    RoomShard(0, 1, url, namespace, TZ).apply([entry(1, "m1", "c0-0", "在吗", T)])  # a clock starts
    sup = supervisor(url, namespace)
    fail_once(monkeypatch, supervisor_module, "commit_escalation", when=lambda r, keys, alerts, *rest: alerts)

    with pytest.raises(redis.ConnectionError):
        sup.advance(T + 6 * MIN)  # the green alert fired in memory, its commit failed
    assert sup.advance(T + 6 * MIN) == 1
    assert sup.advance(T + 7 * MIN) == 0
    assert [a["alert_id"] for a in load_alerts(r, keys)] == ["R0/m1/0"]


def test_clock_events_a_failed_supervisor_step_took_are_read_again(store, monkeypatch):
    url, namespace, r, keys = store
    sup = supervisor(url, namespace)
    RoomShard(0, 1, url, namespace, TZ).apply([entry(1, "m1", "c0-0", "在吗", T)])
    fail_once(monkeypatch, supervisor_module, "commit_escalation")

    with pytest.raises(redis.ConnectionError):
        sup.advance(T + MIN)  # took the start event, failed to acknowledge it
    sup.advance(T + MIN)
    assert caught_up(r, keys.clock_events, EVENTS_GROUP)
    assert sup.advance(T + 6 * MIN) == 1


def test_a_restarted_supervisor_names_the_room_of_a_clock_it_only_sees_stop(store):
    url, namespace, r, keys = store
    shard = RoomShard(0, 1, url, namespace, TZ)
    shard.apply([entry(1, "m1", "c0-0", "在吗", T)])
    supervisor(url, namespace).advance(T + MIN)  # takes the start; nothing is due yet, nothing is stored
    shard.apply([entry(2, "m2", "s0", "稍等", T + 7 * MIN)])  # the reply, while the supervisor is down

    restarted = supervisor(url, namespace)  # the room's snapshot shows no clock: it learns of it from the stop
    assert restarted.advance(T + 7 * MIN) == 1
    (alert,) = load_alerts(r, keys)
    assert (alert["alert_id"], alert["topic"]) == ("R0/m1/0", "服务群-0")
