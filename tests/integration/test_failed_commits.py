"""A Redis failure in the middle of a shard's or the supervisor's step loses nothing and repeats nothing.

Two failures look the same to the caller, a commit that raises, and both must end exactly where a run
without failure ends:
- the commit never happened (Redis restarting): what the step moved on in memory must not make what
  it took count as "already seen";
- the commit happened and its reply was lost (the connection dropped after EXEC): the same work comes
  again and must change nothing a second time.
Real embedded Redis, in-process shells (no Ray).
"""
from __future__ import annotations

import uuid

import orjson
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
from sales_assistant.store.state import EVENTS_GROUP, SentCommit, load_alerts, load_episodes, save_roster, stats
from sales_assistant.store.streams import caught_up
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


def lose_reply_once(monkeypatch, module, name: str, when=lambda *a, **k: True) -> None:
    """The first call of `module.name` for which `when` holds runs for real, then raises as if the
    connection had dropped before its reply came back."""
    real, failed = getattr(module, name), []

    def committed_then_lost(*args, **kwargs):
        result = real(*args, **kwargs)
        if not failed and when(*args, **kwargs):
            failed.append(1)
            if isinstance(result, SentCommit):
                result.wait()  # applied: only its answer is lost
            raise redis.ConnectionError("Connection closed by server.")
        return result

    monkeypatch.setattr(module, name, committed_then_lost)


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


def outcome(r: redis.Redis, keys: Keys) -> dict:
    """Everything a step commits that a person or a later reader sees."""
    return {"stats": {k: v for k, v in stats(r, keys).items() if k != "redelivered"},
            "episodes": sorted(ep.episode_id for ep in load_episodes(r, keys, ["2026-11-20"])),
            "clock_events": [event for _, f in r.xrange(keys.clock_events) for event in orjson.loads(f["d"])],
            "alerts": [(a["alert_id"], a["at"]) for a in load_alerts(r, keys)],
            "escalation": sorted(r.hgetall(keys.escalation).items())}


def clean_run(url: str, steps) -> dict:
    """The same steps in a namespace of their own, with nothing failing: what exactly once means."""
    namespace = f"clean{uuid.uuid4().hex[:8]}"
    r, keys = connect(url), Keys(namespace)
    save_roster(r, keys, RosterFile.model_validate(workload.roster(1, reps=1)).to_roster(), overwrite_rooms=True)
    steps(url, namespace)
    return outcome(r, keys)


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


FIRST = [entry(1, "m1", "c0-0", "在吗", T), entry(2, "m2", "s0", "稍等", T + 3 * MIN), entry(3, "m3", "c0-0", "价格是多少？", T + 4 * MIN)]
LATER = [entry(4, "m4", "s0", "九折", T + 9 * MIN), entry(5, "m5", "c0-0", "还有别的吗", T + 10 * MIN)]


def test_a_shard_batch_whose_commit_reply_was_lost_is_applied_once(store, monkeypatch):
    """The commit went through; the shard saw an error. The ingest, unsure, sends the batch again."""
    url, namespace, r, keys = store

    def without_failure(url, namespace):
        shard = RoomShard(0, 1, url, namespace, TZ)
        shard.apply(FIRST)
        shard.apply(LATER, after=3)

    lose_reply_once(monkeypatch, shard_module, "commit_shard_batch")
    shard = RoomShard(0, 1, url, namespace, TZ)
    with pytest.raises(redis.ConnectionError):
        shard.apply(FIRST)
    with pytest.raises(RuntimeError, match="out of step"):
        shard.apply(LATER, after=3)  # already on its way: refused, the ingest resends from the oldest
    assert shard.apply(FIRST)["redelivered"] == 3  # it had been committed: nothing applies twice
    assert shard.apply(LATER, after=3)["applied"] == 2
    assert RoomShard(0, 1, url, namespace, TZ).apply(FIRST + LATER)["redelivered"] == 5  # a restart sees the same

    got = outcome(r, keys)
    assert got["stats"]["applied"] == 5 and len(got["clock_events"]) >= 3
    assert got == clean_run(url, without_failure)


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
    fail_once(monkeypatch, supervisor_module, "send_escalation", when=lambda r, keys, alerts, *rest: alerts)

    with pytest.raises(redis.ConnectionError):
        sup.advance(T + 6 * MIN)  # the green alert fired in memory, its commit failed
    assert sup.advance(T + 6 * MIN) == 1
    assert sup.advance(T + 7 * MIN) == 0
    assert [a["alert_id"] for a in load_alerts(r, keys)] == ["R0/m1/0"]


def test_alerts_of_a_supervisor_step_whose_commit_reply_was_lost_fire_once(store, monkeypatch):
    """The alerts and the watches' progress were committed; the supervisor saw an error. Its next steps
    must neither fire them again nor lose the levels still to come."""
    url, namespace, r, keys = store

    def steps(url, namespace):
        RoomShard(0, 1, url, namespace, TZ).apply([entry(1, "m1", "c0-0", "在吗", T)])
        sup = supervisor(url, namespace)
        fired = []
        for minutes in (6, 6, 12, 25, 31):
            try:
                fired.append(sup.advance(T + minutes * MIN))
            except redis.ConnectionError:
                fired.append("lost")
        RoomShard(0, 1, url, namespace, TZ).apply([entry(2, "m2", "s0", "稍等", T + 33 * MIN)], after=None)
        fired.append(sup.advance(T + 60 * MIN))
        return fired

    expected = clean_run(url, steps)
    assert [a for a, _ in expected["alerts"]] == ["R0/m1/0", "R0/m1/1", "R0/m1/2", "R0/m1/3"]
    lose_reply_once(monkeypatch, supervisor_module, "send_escalation", when=lambda r, keys, alerts, *rest: alerts)
    assert steps(url, namespace) == ["lost", 0, 1, 1, 1, 0]
    assert outcome(r, keys) == expected
    assert caught_up(r, keys.clock_events, EVENTS_GROUP)


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


@pytest.mark.parametrize("fault", [fail_once, lose_reply_once])
def test_a_burst_committed_in_parts_fires_each_alert_once_and_in_order_when_a_part_fails(store, monkeypatch, fault):
    """Each part commits its alerts with the progress that says they fired: a part that failed fires on the
    next step, one whose answer was lost does not fire again, and nothing overtakes an earlier level."""
    url, namespace, r, keys = store
    monkeypatch.setattr(supervisor_module, "FIRE_AT_ONCE", 2)

    def steps(url, namespace):
        RoomShard(0, 1, url, namespace, TZ).apply([entry(1, "m1", "c0-0", "在吗", T)])
        sup = supervisor(url, namespace)
        fired = []
        for minutes in (31, 31, 40):  # the first step finds four levels crossed: two parts and an empty one
            try:
                fired.append(sup.advance(T + minutes * MIN))
            except redis.ConnectionError:
                fired.append("lost")
        return fired

    expected = clean_run(url, steps)
    assert [a for a, _ in expected["alerts"]] == ["R0/m1/0", "R0/m1/1", "R0/m1/2", "R0/m1/3", "R0/m1/4"]
    fault(monkeypatch, supervisor_module, "send_escalation", when=lambda r, keys, alerts, *rest: alerts and alerts[0].step == 2)
    assert steps(url, namespace) == ["lost", 2 if fault is fail_once else 0, 1]
    assert outcome(r, keys) == expected
