"""After an outage the backlog arrives at once, and time may have moved past all of it: the alerts and
episodes must still be those of a replay of the same messages. "An alert fires only if the clock still
ran when its threshold was crossed", whatever the batching and whenever time is advanced.

Drives the real pieces without Ray, on a real Redis: the inbox (its door script, its watermark), a
RoomShard, and the Supervision, acknowledged and advanced in the order the ingest uses. Hypothesis
chooses the messages, how they are pushed, how many entries each batch takes, how many batches are in
flight, and when (and how far) time is ticked. Time never goes back, and never past a message that has
not been pushed yet: what the service has not received it cannot know, in replay as live.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sales_assistant.actors.shard import RoomShard
from sales_assistant.actors.supervisor import Supervision
from sales_assistant.config.settings import default_policy
from sales_assistant.core.messages import Message
from sales_assistant.core.timeutil import day_of
from sales_assistant.store.inbox import Inbox, unapplied_since
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect, ensure_embedded, stop_embedded
from sales_assistant.store.state import load_alerts, load_episodes, save_roster
from sales_assistant.store.wire import ShardBatch, ShardEntry
from tests.support.scenario import M, T, roster

TZ = "Asia/Shanghai"
CONSUMER = "ingest-0"
SENDERS = {"R1": ("c1", "s1", "e1"), "R2": ("c2", "s2"), "R3": ("c9", "c8")}  # R3: no owner, public alerts


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("late-backlog")
    url = ensure_embedded(data)
    yield url
    stop_embedded(data)


@dataclass
class Service:
    """One namespace's pipeline, stepped by hand as the ingest steps it (actors/ingest.py)."""

    url: str
    ns: str = field(default_factory=lambda: f"p{uuid.uuid4().hex[:10]}")

    def __post_init__(self) -> None:
        self.r, self.keys = connect(self.url), Keys(self.ns)
        save_roster(self.r, self.keys, roster(), overwrite_rooms=True)
        self.inbox = Inbox(self.r, self.keys)
        self.inbox.ensure_group()
        self.shard = RoomShard(0, 1, self.url, self.ns, TZ)
        self.supervisor = Supervision(self.url, self.ns, default_policy(), "virtual")
        self.in_flight: list[list] = []
        self.last_sent: int | None = None

    def push(self, items: list[Message]) -> None:
        self.inbox.push(items)

    def take(self, count: int) -> bool:
        """Read up to `count` new entries and have the shard commit them (not yet acknowledged)."""
        entries = self.inbox.read(CONSUMER, count, None, pending=False)
        if not entries:
            return False
        self.shard.apply(ShardBatch(ShardEntry(e.seq, e.kind, e.row) for e in entries), self.last_sent)
        self.last_sent = entries[-1].seq
        self.in_flight.append(entries)
        return True

    def settle(self) -> None:
        """Acknowledge the oldest batch in flight, then advance virtual time to its newest event."""
        entries = self.in_flight.pop(0)
        self.inbox.ack([e.stream_id for e in entries])
        self.supervisor.advance(max(e.row.ts for e in entries))

    def drain(self) -> None:
        while self.in_flight or self.take(7):
            self.settle()

    def outcome(self, items: list[Message]) -> dict:
        days = sorted({day_of(m.ts, TZ) for m in items})
        return {"alerts": sorted(orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in load_alerts(self.r, self.keys)),
                "episodes": sorted(orjson.dumps(e.to_dict(), option=orjson.OPT_SORT_KEYS)
                                   for e in load_episodes(self.r, self.keys, days))}


@st.composite
def days(draw) -> list[Message]:
    """Up to 14 messages over three rooms, minutes apart or at the same moment; customers' closing
    verdicts drawn too (the label the ingest would have set)."""
    n = draw(st.integers(1, 14))
    ts, out = T, []
    for i in range(n):
        ts += draw(st.sampled_from([0, 1, 2, 4, 6, 9, 11, 19, 21, 29, 31, 45])) * M + draw(st.integers(0, 3)) * 1000
        room = draw(st.sampled_from(sorted(SENDERS)))
        sender = draw(st.sampled_from(SENDERS[room]))
        customer = sender.startswith("c")
        closing = customer and draw(st.booleans())
        out.append(Message(f"m{i}", room, sender, "好的" if closing else "在吗？", ts, closing=closing))
    return out


# One step of the schedule: push the next k messages; a batch of up to b entries committed by the shard;
# the oldest batch in flight acknowledged (and time advanced to it, as the ingest does); a tick of d minutes.
steps = st.one_of(st.tuples(st.just("push"), st.integers(1, 14)), st.tuples(st.just("take"), st.integers(1, 6)),
                  st.tuples(st.just("settle"), st.just(0)), st.tuples(st.just("tick"), st.integers(0, 90)))


def replay(url: str, items: list[Message], until: int) -> dict:
    """The reference: one message at a time, time ticked up to each before it arrives."""
    svc = Service(url)
    for m in items:
        svc.supervisor.advance(m.ts - 1)
        svc.push([m])
        svc.drain()
    svc.supervisor.advance(until)
    return svc.outcome(items)


def delivered(url: str, items: list[Message], schedule: list[tuple[str, int]], until: int) -> dict:
    svc = Service(url)
    pushed, now = 0, 0
    for op, n in schedule:
        if op == "push" and pushed < len(items):
            svc.push(items[pushed:pushed + n])
            pushed = min(len(items), pushed + n)
        elif op == "take" and len(svc.in_flight) < 2:  # the ingest keeps at most two batches in flight
            svc.take(n)
        elif op == "settle" and svc.in_flight:
            svc.settle()
        elif op == "tick":
            limit = items[pushed].ts - 1 if pushed < len(items) else until  # never past what is not yet sent
            now = max(now, min(limit, (now or items[0].ts) + n * M))
            svc.supervisor.advance(now)
    svc.push(items[pushed:])
    svc.drain()
    svc.supervisor.advance(until)
    return svc.outcome(items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=days(), schedule=st.lists(steps, max_size=30))
def test_any_batching_and_any_ticks_give_replays_alerts_and_episodes(redis_url, items, schedule):
    until = items[-1].ts + 60 * M
    assert delivered(redis_url, items, schedule, until) == replay(redis_url, items, until)


def test_a_reply_waiting_in_the_backlog_holds_back_the_alert_of_the_wait_it_ends(redis_url):
    """The issue's example: a customer wrote at 10:00, the rep answered at 10:27, both arrived after time
    had moved to 10:40. The start is applied a batch before the reply: the red (30 min) alert of that
    clock must not fire, nor any of the lower ones crossed after it stopped."""
    question = Message("q", "R1", "c1", "在吗？", T)
    answer = Message("a", "R1", "s1", "在的", T + 27 * M)
    svc = Service(redis_url)
    svc.push([question])
    svc.push([answer])
    svc.supervisor.advance(T + 40 * M)  # the tick of the outage, while the backlog waits
    assert unapplied_since(svc.r, svc.keys) == T
    svc.take(1)
    svc.settle()  # the question alone: its clock runs, the reply still waits in the inbox
    assert [a["level"] for a in load_alerts(svc.r, svc.keys)] == ["green", "yellow", "orange"]
    svc.take(1)
    svc.settle()
    assert unapplied_since(svc.r, svc.keys) is None
    svc.supervisor.advance(T + 90 * M)
    alerts = load_alerts(svc.r, svc.keys)
    assert [(a["level"], a["at"]) for a in alerts] == [("green", T + 5 * M), ("yellow", T + 10 * M),
                                                       ("orange", T + 20 * M)]


def test_a_push_holds_the_watermark_until_all_of_it_is_applied(redis_url):
    """The watermark keeps one member per push: while part of a push waits, the bound stays at the push's
    earliest time (earlier than it must be, never later), and it is released when the push is done."""
    svc = Service(redis_url)
    late, later = Message("l1", "R1", "c1", "在吗？", T + 5 * M), Message("l2", "R2", "c2", "在吗？", T)
    svc.push([late, later])
    svc.push([Message("l3", "R3", "c9", "在吗？", T + 50 * M)])
    assert unapplied_since(svc.r, svc.keys) == T
    svc.take(1)
    svc.settle()
    assert unapplied_since(svc.r, svc.keys) == T, "half of the first push still waits"
    svc.take(1)
    svc.settle()
    assert unapplied_since(svc.r, svc.keys) == T + 50 * M
    svc.drain()
    assert unapplied_since(svc.r, svc.keys) is None
    assert svc.r.llen(svc.keys.inbox_pushes) == 0 and svc.r.zcard(svc.keys.inbox_times) == 0
