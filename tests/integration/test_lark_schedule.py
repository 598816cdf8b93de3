"""The notifier's Lark jobs on an injected clock, against real embedded Redis and the Lark stand-in through
lark-oapi: the daily leaderboard (once per day, even across a crash) and the reps' digests (held in Redis,
one card per rep per interval, never twice)."""
from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
import yaml

from sales_assistant.actors.jobs import DailyLeaderboard, DigestFlusher
from sales_assistant.actors.notifier import Notification, SinkSpec
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.config.settings import DEFAULT_POLICY, load_policy
from sales_assistant.connectors.lark import LarkSettings, LarkSink, idempotency_key
from sales_assistant.connectors.lark import log as lark_log
from sales_assistant.core.messages import Message
from sales_assistant.core.room import ClockStopped, Room
from sales_assistant.core.roster import Speaker
from sales_assistant.core.timeutil import day_of, hour_of, zone
from sales_assistant.policies.deadlines import Alert, Watch
from sales_assistant.store.digest import DigestStore
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_escalation, commit_shard_batch, save_roster
from tests.support.lark_standin import LarkStandIn
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration

SECRET = "app-secret-value"
TZ = "Asia/Shanghai"
ROSTER = RosterFile.model_validate({
    "staff": [{"id": "s1", "name": "董森", "role": "sales"}, {"id": "s2", "name": "荣升", "role": "sales"},
              {"id": "s3", "name": "李雷", "role": "sales"}],
    "rooms": [{"id": "R1", "topic": "网易严选", "owner": "s1"}, {"id": "R2", "topic": "华东客户群", "owner": "s1"},
              {"id": "R3", "topic": "荣升的群", "owner": "s2"}, {"id": "R4", "topic": "上海客户群", "owner": "s1"}],
}).to_roster()


def local_ms(day: int, hhmm: str, seconds: int = 0) -> int:
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 11, day, h, m, seconds, tzinfo=zone(TZ)).timestamp() * 1000)


class Clock:
    """The notifier's `now`, moved by the test (`clock.ms = ...`). It notes which thread read it since it
    last moved, so a test can wait until the scheduled jobs have looked at the new time instead of
    sleeping and hoping they did."""

    def __init__(self, ms: int) -> None:
        self._lock = threading.Lock()
        self._reads: Counter[str] = Counter()
        self.ms = ms

    @property
    def ms(self) -> int:
        return self._ms

    @ms.setter
    def ms(self, value: int) -> None:
        with self._lock:
            self._ms = value
            self._reads.clear()

    def __call__(self) -> int:
        with self._lock:
            self._reads[threading.current_thread().name] += 1
            return self._ms

    def ticked(self, notifier: Notification) -> bool:
        """Every scheduled job of `notifier` has run a whole tick at the current time: each reads the
        clock once per tick, so its second read since the move starts the tick after that one."""
        with self._lock:
            return all(self._reads[thread.name] >= 2 for thread in notifier.jobs.threads)




@pytest.fixture
def lark() -> Iterator[LarkStandIn]:
    with LarkStandIn(app_id=f"cli_{uuid.uuid4().hex[:12]}", app_secret=SECRET) as standin:
        yield standin


@pytest.fixture
def redis(redis_dir, namespace):
    r, keys = connect(redis_dir[1]), Keys(namespace)
    save_roster(r, keys, ROSTER, overwrite_rooms=True)
    return r, keys, redis_dir[1]


def lark_settings(lark: LarkStandIn, **over: Any) -> dict[str, Any]:
    return {"app_id": lark.app_id, "app_secret": SECRET, "domain": lark.url, "timeout_s": 2,
            "public_chats": {"default": "oc_team"}, "private_chats": {"s1": "oc_s1"}, **over}


def sink_for(lark: LarkStandIn, **over: Any) -> LarkSink:
    return LarkSink(LarkSettings(**lark_settings(lark, **over)), TZ)


def chats(lark: LarkStandIn) -> list[str]:
    return [m["chat_id"] for m in lark.messages]


def text(message: dict) -> str:
    return orjson.dumps(message["content"]).decode()


# --- the daily leaderboard ------------------------------------------------------------------------


def converse(r, keys: Keys, room_id: str, started: int, reply_after_min: float | None, seq: int) -> None:
    """A customer writes; the owner answers after `reply_after_min` (None: still waiting). Committed as a
    shard would: room snapshot, counts per day and hour, the closed episode."""
    info = ROSTER.rooms[room_id]
    room = Room(info)
    customer = Message(f"c{seq}", room_id, "cust", "请问价格？", started, sender_name="王女士")
    room.handle(customer, None, seq)
    counts = {(day_of(started, TZ), room_id, Speaker.CUSTOMER): 1}
    hourly = {(day_of(started, TZ), hour_of(started, TZ), Speaker.CUSTOMER): 1}
    episodes = []
    if reply_after_min is not None:
        at = started + int(reply_after_min * 60_000)
        outcome = room.handle(Message(f"s{seq}", room_id, info.owner, "您好，在的", at), ROSTER.role_of(info.owner), seq + 1)
        assert isinstance(outcome.event, ClockStopped)
        episodes.append((day_of(started, TZ), outcome.event.episode))
        counts[(day_of(at, TZ), room_id, Speaker.OWNER)] = 1
        hourly[(day_of(at, TZ), hour_of(at, TZ), Speaker.OWNER)] = 1
    commit_shard_batch(r, keys, [room], counts, episodes, [], {}, hourly=hourly)


@pytest.fixture
def day_of_work(redis) -> tuple:
    r, keys, url = redis
    converse(r, keys, "R1", local_ms(20, "09:10"), 1.5, 10)
    converse(r, keys, "R3", local_ms(20, "14:00"), 40.0, 20)
    converse(r, keys, "R2", local_ms(20, "21:00"), None, 30)  # still waiting at 22:00
    return r, keys, url


def test_leaderboard_goes_out_once_at_the_configured_time(day_of_work, lark: LarkStandIn) -> None:
    r, keys, _ = day_of_work
    sink = sink_for(lark, leaderboard_chat="oc_board")
    board = DailyLeaderboard(r, keys, sink, threshold_minutes=2.0)
    assert board.tick(local_ms(20, "21:59", 59)) is False and lark.messages == []
    assert board.tick(local_ms(20, "22:00")) is True
    assert board.tick(local_ms(20, "22:00", 1)) is False
    assert DailyLeaderboard(r, keys, sink, 2.0).tick(local_ms(20, "23:30")) is False  # a restarted notifier
    [card] = lark.messages
    assert card["chat_id"] == "oc_board" and card["uuid"] == idempotency_key("leaderboard/2026-11-20", "oc_board")
    shown = text(card)
    for expected in ("今日回复排行 · 2026-11-20", "回复次数：2 次", "仍在等待：1 个群",
                     "1. 董森 · 平均 1.5 分钟 · 回复 1 次 · 超时 0 次", "2. 荣升 · 平均 40.0 分钟 · 回复 1 次 · 超时 1 次",
                     "09 时 · 平均 1.5 分钟 · 回复 1 次 · 团队消息 1 条", "14 时 · 平均 40.0 分钟",
                     "华东客户群 · 董森 · 60 分钟（仍在等待）"):
        assert expected in shown, expected
    # The next day has a card of its own, at its own 22:00.
    assert board.tick(local_ms(21, "21:00")) is False
    assert board.tick(local_ms(21, "22:00")) is True and len(lark.messages) == 2


def test_a_crash_between_sending_and_marking_does_not_post_twice(day_of_work, lark: LarkStandIn) -> None:
    r, keys, _ = day_of_work
    sink = sink_for(lark, leaderboard_chat="oc_board")
    assert DailyLeaderboard(r, keys, sink, 2.0).tick(local_ms(20, "22:00"))
    r.delete(keys.lark_leaderboard("2026-11-20"))  # as if the notifier died before writing its marker
    assert DailyLeaderboard(r, keys, sink_for(lark, leaderboard_chat="oc_board"), 2.0).tick(local_ms(20, "22:00", 5))
    assert chats(lark) == ["oc_board"]  # Lark dropped the resend: same day, same uuid


def test_leaderboard_time_zone_and_language_are_configurable(day_of_work, lark: LarkStandIn) -> None:
    r, keys, _ = day_of_work
    sink = sink_for(lark, leaderboard_chat="oc_board", leaderboard_time="18:30", leaderboard_tz="Europe/Berlin",
                    lang="en")
    board = DailyLeaderboard(r, keys, sink, 2.0)
    berlin = zone("Europe/Berlin")
    assert not board.tick(int(datetime(2026, 11, 20, 18, 29, tzinfo=berlin).timestamp() * 1000))
    assert board.tick(int(datetime(2026, 11, 20, 18, 30, tzinfo=berlin).timestamp() * 1000))
    assert "Today's reply leaderboard · 2026-11-20" in text(lark.messages[0])


def test_the_notifier_sends_it_on_its_own_clock_and_skips_it_without_a_chat(day_of_work, lark: LarkStandIn,
                                                                            caplog) -> None:
    r, keys, url = day_of_work
    clock = Clock(local_ms(20, "21:59", 58))
    spec = SinkSpec("lark", tz=TZ, lark=lark_settings(lark, leaderboard_chat="oc_board"))
    notifier = Notification(url, keys.ns, [spec], now=clock)
    try:
        assert wait_for(lambda: clock.ticked(notifier))
        assert lark.messages == []
        clock.ms = local_ms(20, "22:00", 1)
        assert wait_for(lambda: chats(lark) == ["oc_board"])
        clock.ms = local_ms(20, "22:00", 3)
        assert wait_for(lambda: clock.ticked(notifier))
        assert chats(lark) == ["oc_board"]
    finally:
        notifier.close()
    caplog.set_level(logging.INFO, logger=lark_log.name)
    quiet = Notification(url, keys.ns, [SinkSpec("lark", tz=TZ, lark=lark_settings(lark))], now=Clock(local_ms(21, "22:00")))
    quiet.close()
    assert "no lark.leaderboard_chat configured" in caplog.text


# --- digests --------------------------------------------------------------------------------------


def waiting_room(r, keys: Keys, room_id: str, clock_id: str, started: int) -> None:
    room = Room(ROSTER.rooms[room_id])
    room.handle(Message(clock_id, room_id, "cust", "在吗？", started, sender_name="王女士"), None, started)
    commit_shard_batch(r, keys, [room], {}, [], [], {})


def fire(r, keys: Keys, room_id: str, clock_id: str, step: int, level: str, minutes: int, started: int,
         targets: tuple[str, ...] = ("private",)) -> Alert:
    """An alert as the supervisor commits it: with its watch, which says how far the wait has escalated."""
    owner, topic = ROSTER.rooms[room_id].owner, ROSTER.rooms[room_id].topic
    alert = Alert(room_id, clock_id, step, level, minutes, targets, owner, "pre_sales", topic,
                  started + minutes * 60_000, started, "王女士", "在吗？")
    watch = Watch(room_id, clock_id, started, "pre_sales", owner, topic, "王女士", "在吗？", step + 1)
    commit_escalation(r, keys, [alert], {room_id: watch}, [])
    return alert


DIGEST = {"enabled": True, "interval_minutes": 30, "immediate_levels": ["orange", "red", "purple", "grey"]}


def test_lower_levels_wait_for_one_card_per_rep_the_rest_go_out_at_once(redis, lark: LarkStandIn) -> None:
    r, keys, url = redis
    t0 = local_ms(20, "09:50")
    for room_id in ("R1", "R2", "R3", "R4"):
        waiting_room(r, keys, room_id, f"m-{room_id}", t0)
    clock = Clock(local_ms(20, "10:05"))
    notifier = Notification(url, keys.ns, [SinkSpec("lark", tz=TZ, lark=lark_settings(lark, digest=DIGEST))], now=clock)
    try:
        fire(r, keys, "R1", "m-R1", 0, "green", 5, t0)
        fire(r, keys, "R1", "m-R1", 1, "yellow", 10, t0)
        fire(r, keys, "R2", "m-R2", 0, "green", 5, t0)
        fire(r, keys, "R2", "m-R2", 2, "orange", 20, t0, ("private", "public"))
        fire(r, keys, "R3", "m-R3", 0, "green", 5, t0)  # s2 has no private chat: the public one, at once
        fire(r, keys, "R4", "m-R4", 0, "green", 6, t0)
        assert wait_for(notifier.drained)
        assert sorted(chats(lark)) == ["oc_s1", "oc_team", "oc_team"]  # R2's orange twice, R3's green
        clock.ms = local_ms(20, "10:29", 59)
        assert wait_for(lambda: clock.ticked(notifier))
        assert len(lark.messages) == 3
        clock.ms = local_ms(20, "10:30")  # the half hour: s1's digest
        assert wait_for(lambda: len(lark.messages) == 4)
        digest = lark.messages[3]
        assert digest["chat_id"] == "oc_s1" and digest["uuid"] == idempotency_key(
            f"digest/{local_ms(20, '10:30')}", "oc_s1")
        shown = text(digest)
        assert "待回复汇总 · 2 个群" in shown and digest["content"]["header"]["template"] == "yellow"
        assert "黄色提醒 · 网易严选 · 10:00 时已等待 10 分钟" in shown and "王女士：在吗？" in shown
        assert "绿色提醒 · 上海客户群 · 09:56 时已等待 6 分钟" in shown
        assert "网易严选 · 09:55" not in shown  # R1's green is old news: its yellow is on the card
        assert "华东客户群" not in shown  # R2's green was overtaken by its orange, which went out at once
        clock.ms = local_ms(20, "11:30")
        assert wait_for(lambda: clock.ticked(notifier))
        assert len(lark.messages) == 4  # nothing more was held
    finally:
        notifier.close()


def test_held_alerts_survive_the_notifier_and_answered_rooms_are_left_out(redis, lark: LarkStandIn) -> None:
    r, keys, url = redis
    t0 = local_ms(20, "09:50")
    waiting_room(r, keys, "R1", "m-R1", t0)
    waiting_room(r, keys, "R2", "m-R2", t0)
    clock = Clock(local_ms(20, "10:05"))
    first = Notification(url, keys.ns, [SinkSpec("lark", tz=TZ, lark=lark_settings(lark, digest=DIGEST))], now=clock)
    fire(r, keys, "R1", "m-R1", 0, "green", 5, t0)
    fire(r, keys, "R2", "m-R2", 0, "green", 5, t0)
    assert wait_for(first.drained)
    first.close()  # the notifier dies before the half hour (its threads are joined)
    waiting_room(r, keys, "R2", "m-R2-later", t0 + 30 * 60_000)  # R2 was answered and asks again: a new wait
    clock.ms = local_ms(20, "10:31")
    second = Notification(url, keys.ns, [SinkSpec("lark", tz=TZ, lark=lark_settings(lark, digest=DIGEST))], now=clock)
    try:
        assert wait_for(lambda: len(lark.messages) == 1)
        shown = text(lark.messages[0])
        assert "待回复汇总 · 1 个群" in shown and "网易严选" in shown and "华东客户群" not in shown
    finally:
        second.close()


def test_a_batch_is_sent_once_whatever_crashes_and_an_alert_is_held_once(redis, lark: LarkStandIn) -> None:
    r, keys, _ = redis
    t0 = local_ms(20, "09:50")
    waiting_room(r, keys, "R1", "m-R1", t0)
    store, sink = DigestStore(r, keys, 30), sink_for(lark, digest=DIGEST)
    green = fire(r, keys, "R1", "m-R1", 0, "green", 5, t0).to_dict()
    now = local_ms(20, "10:05")
    assert store.hold("oc_s1", green, now) and not store.hold("oc_s1", green, now)  # a redelivery
    assert store.due(local_ms(20, "10:29")) == [] and store.due(local_ms(20, "10:30")) == ["oc_s1"]
    batch_id, alerts = store.seal("oc_s1")
    assert [a["alert_id"] for a in alerts] == ["R1/m-R1/0"]
    sink.deliver_digest("oc_s1", alerts, batch_id)  # sent; the notifier dies before dropping the batch
    flusher = DigestFlusher(r, keys, store, sink)
    assert flusher.tick(local_ms(20, "10:30", 5)) == 1  # the same sealed batch again: Lark drops it
    assert len(lark.messages) == 1 and "绿色提醒" in text(lark.messages[0])
    yellow = fire(r, keys, "R1", "m-R1", 1, "yellow", 10, t0).to_dict()
    assert store.hold("oc_s1", yellow, local_ms(20, "10:40"))
    assert flusher.tick(local_ms(20, "10:59")) == 0  # the yellow waits for the next boundary
    assert flusher.tick(local_ms(20, "11:00")) == 1
    assert len(lark.messages) == 2 and "黄色提醒" in text(lark.messages[1])
    assert store.due(local_ms(20, "23:00")) == []


def test_digest_off_or_for_immediate_levels_changes_nothing(lark: LarkStandIn) -> None:
    alert = {"alert_id": "R1/m/0", "level": "green", "targets": ["private", "public"], "owner_id": "s1"}
    assert sink_for(lark).digest_chat(alert) is None  # off by default
    sink = sink_for(lark, digest=DIGEST)
    assert sink.digest_chat(alert) == "oc_s1"
    assert sink.digest_chat({**alert, "level": "orange"}) is None
    assert sink.digest_chat({**alert, "owner_id": "s2"}) is None  # no private chat: the public one, not batched
    assert sink.digest_chat({**alert, "targets": ["public"]}) is None


def test_a_card_that_goes_out_after_its_room_was_answered_says_so_without_buttons(redis, lark: LarkStandIn) -> None:
    r, keys, url = redis
    t0 = local_ms(20, "09:50")
    waiting_room(r, keys, "R1", "m-R1", t0)
    waiting_room(r, keys, "R2", "m-R2", t0)
    waiting_room(r, keys, "R1", "m-R1-later", t0 + 20 * 60_000)  # R1 was answered and asks again: a new wait
    notifier = Notification(url, keys.ns, [SinkSpec("lark", tz=TZ, lark=lark_settings(lark))], now=Clock(t0 + 21 * 60_000))
    try:
        fire(r, keys, "R1", "m-R1", 0, "orange", 15, t0)  # late: its wait ended before the card could go out
        fire(r, keys, "R2", "m-R2", 0, "orange", 15, t0)
        assert wait_for(lambda: len(lark.messages) == 2)
    finally:
        notifier.close()
    cards = {("网易严选" in text(m)): m["content"] for m in lark.messages}
    late, waiting = cards[True], cards[False]  # R1 (网易严选), whose wait ended; R2, still waiting
    assert late["header"]["title"]["content"].endswith("（此后已回复或已处理）")
    assert late["header"]["template"] == "grey" and all(e["tag"] != "action" for e in late["elements"])
    assert not waiting["header"]["title"]["content"].endswith("（此后已回复或已处理）")
    assert waiting["header"]["template"] == "orange" and any(e["tag"] == "action" for e in waiting["elements"])


def test_the_leaderboard_averages_business_minutes_where_the_stage_counts_them(day_of_work, lark: LarkStandIn,
                                                                               tmp_path) -> None:
    r, keys, _ = day_of_work
    doc = yaml.safe_load(DEFAULT_POLICY.read_text())
    doc["pre_sales"] = {**doc["pre_sales"], "clock": "business"}  # a copy: both stages share one ladder anchor
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    converse(r, keys, "R4", local_ms(20, "11:50"), 110.0, 40)  # over lunch: 110 wall minutes, 20 business ones
    board = DailyLeaderboard(r, keys, sink_for(lark, leaderboard_chat="oc_board"), 2.0, load_policy(path))
    assert board.tick(local_ms(20, "22:00")) is True
    shown = text(lark.messages[0])
    # 董森 answered in 1.5 and 20 business minutes: 10.8 on average, where wall minutes would say 55.8.
    assert "平均回复（工作时间）" in shown and "1. 董森 · 平均 10.8 分钟 · 回复 2 次" in shown, shown
