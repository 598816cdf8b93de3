"""Follow-ups of idle rooms: the pure rule (policies/followups.py) over the room's own record of its
activity (core/room.py: active_at, free_at, hold)."""
from __future__ import annotations

import orjson

from sales_assistant.core.messages import CancelClock, HoldFollowUp, Message, MessageType
from sales_assistant.core.room import Room
from sales_assistant.core.roster import Role, RoomInfo
from sales_assistant.policies.followups import DAY_MS, Due, due, fire_at

T0 = 1_764_900_000_000  # some moment; the rule never reads a clock
DAYS = 7


def fires(d: Due | None, sent_key: str | None, now: int, next_open) -> int | None:
    """What the supervisor decides (actors/followups.py): the moment it fires, if due by `now` and not sent."""
    if d is None or d.key == sent_key:
        return None
    at = fire_at(d, next_open)
    return at if at <= now else None


def room() -> Room:
    return Room(RoomInfo("R1", "客户群", "s1"))


class Feed:
    """Messages into one room in order, as the shard applies them."""

    def __init__(self) -> None:
        self.room, self.seq = room(), 0

    def say(self, who: str, text: str, at: int, *, closing: bool = False, type: int = MessageType.TEXT) -> None:
        self.seq += 1
        role = None if who.startswith("c") else Role.SALES
        self.room.handle(Message(f"m{self.seq}", "R1", who, text, at, type, closing=closing), role, self.seq)

    def order(self, order) -> None:
        self.seq += 1
        if isinstance(order, HoldFollowUp):
            self.room.hold_follow_up(order, self.seq)
        else:
            self.room.cancel(order, self.seq)

    def due(self) -> Due | None:
        r = self.room
        return due(r.active_at, r.clock is not None, r.free_at, r.hold, DAYS)


def test_due_n_days_after_the_reply_that_ended_the_wait():
    feed = Feed()
    feed.say("c1", "报价单收到了吗？", T0)
    assert feed.due() is None  # a waiting customer is the ladder's job
    feed.say("s1", "收到了，今天内给您回复", T0 + 60_000)
    assert feed.due() == Due(T0 + 60_000 + DAYS * DAY_MS, T0 + 60_000, str(T0 + 60_000))


def test_a_customers_closing_reply_a_sticker_and_a_system_note_do_not_reset_idle_time():
    feed = Feed()
    feed.say("c1", "在吗", T0)
    feed.say("s1", "在的，请讲", T0 + 60_000)
    before = feed.due()
    feed.say("c1", "好的", T0 + 120_000, closing=True)
    feed.say("c1", "[表情]", T0 + 180_000, type=MessageType.EMOTICON)
    feed.say("c1", "", T0 + 240_000, type=MessageType.GROUP_NOTE)
    feed.say("c1", "", T0 + 300_000, type=MessageType.RECALLED)
    assert feed.due() == before
    feed.say("c1", "那明天再聊", T0 + 360_000)  # a real message starts a wait, and later a new idle period
    feed.say("s1", "好的明天联系", T0 + 420_000)
    assert feed.due().period == T0 + 420_000


def test_once_per_idle_period_then_again_only_after_a_new_message():
    feed = Feed()
    feed.say("s1", "方案已发您邮箱", T0)
    d = feed.due()
    now = d.at + 3 * DAY_MS
    assert fires(d, None, now, lambda t: t) == d.at
    assert fires(d, d.key, now, lambda t: t) is None  # sent: nothing more for this period, however long it stays quiet
    feed.say("s1", "您看过方案了吗？", now)
    again = feed.due()
    assert again.key != d.key and fires(again, d.key, again.at, lambda t: t) == again.at


def test_it_waits_for_the_owners_next_business_minute():
    feed = Feed()
    feed.say("s1", "周五下班前发您合同", T0)
    d = feed.due()
    opening = d.at + 15 * 3_600_000
    assert fire_at(d, lambda t: opening) == opening
    assert fires(d, None, opening - 1, lambda t: opening) is None
    assert fires(d, None, opening, lambda t: opening) == opening


def test_snooze_until_a_time_fires_once_more_then():
    feed = Feed()
    feed.say("s1", "方案已发", T0)
    first = feed.due()
    later = first.at + 2 * DAY_MS
    feed.order(HoldFollowUp("R1", "s1", first.at, "snooze", later))
    snoozed = feed.due()
    assert snoozed.at == later and snoozed.period == first.period and snoozed.key != first.key
    assert fires(snoozed, first.key, later - 1, lambda t: t) is None
    assert fires(snoozed, first.key, later, lambda t: t) == later


def test_snooze_until_the_customer_writes():
    feed = Feed()
    feed.say("s1", "方案已发", T0)
    feed.order(HoldFollowUp("R1", "s1", T0 + 1, "customer"))
    assert feed.due() is None
    feed.say("s1", "还在吗？", T0 + DAY_MS)  # the rep's own message does not lift it
    assert feed.due() is None
    feed.say("c1", "好的", T0 + 2 * DAY_MS, closing=True)  # nor does a closing reply
    assert feed.due() is None
    feed.say("c1", "我们内部再评估一下", T0 + 3 * DAY_MS)
    feed.say("s1", "好的，等您消息", T0 + 3 * DAY_MS + 60_000)
    assert feed.due() == Due(T0 + 10 * DAY_MS + 60_000, T0 + 3 * DAY_MS + 60_000, str(T0 + 3 * DAY_MS + 60_000))


def test_stopped_for_the_room_until_resumed():
    feed = Feed()
    feed.say("s1", "方案已发", T0)
    feed.order(HoldFollowUp("R1", "m1", T0 + 1, "stop"))
    feed.say("c1", "收到", T0 + DAY_MS)
    feed.say("s1", "好的", T0 + DAY_MS + 1)
    assert feed.due() is None
    feed.order(HoldFollowUp("R1", "m1", T0 + DAY_MS + 2, "resume"))
    assert feed.due().period == T0 + DAY_MS + 1


def test_never_while_a_clock_ran_a_cancelled_wait_counts_from_its_cancellation():
    feed = Feed()
    feed.say("c1", "有人吗", T0)
    feed.order(CancelClock("R1", "m1", T0 + 9 * DAY_MS))
    d = feed.due()
    assert d.at == T0 + 9 * DAY_MS and d.period == T0


def test_no_stage_follow_up_no_due():
    feed = Feed()
    feed.say("s1", "方案已发", T0)
    r = feed.room
    assert due(r.active_at, False, r.free_at, r.hold, None) is None


def test_the_room_keeps_its_follow_up_record_across_a_snapshot():
    feed = Feed()
    feed.say("c1", "有人吗", T0)
    feed.order(CancelClock("R1", "m1", T0 + 5))
    feed.order(HoldFollowUp("R1", "m1", T0 + 6, "snooze", T0 + DAY_MS))
    back = Room.from_dict(feed.room.to_dict())
    assert (back.active_at, back.free_at, back.hold) == (T0, T0 + 5, ("snooze", T0 + DAY_MS, T0))


def test_the_follow_up_card_shows_the_last_exchange_and_its_four_buttons():
    from sales_assistant.connectors.lark import build_followup_card

    followup = {"followup_id": f"R1/{T0}", "room_id": "R1", "topic": "客户群", "owner_id": "s1", "owner_name": "董森",
                "stage": "pre_sales", "at": T0 + 7 * DAY_MS, "last_message_at": T0, "idle_days": 7,
                "last": [{"ts": T0 - 60_000, "speaker": "customer", "sender_name": "刘", "text": "报价多少？"},
                         {"ts": T0, "speaker": "sales", "sender_name": "董森", "text": "稍后发您"}]}
    card = build_followup_card(followup, tz="Asia/Shanghai")
    text = orjson.dumps(card).decode()
    assert card["header"]["title"]["content"] == "跟进提醒 · 群聊已 7 天没有新消息"
    assert "客户（" in text and "报价多少？" in text and "我方（" in text and "稍后发您" in text
    buttons = [b for e in card["elements"] if e["tag"] == "action" for b in e["actions"]]
    assert [b["text"]["content"] for b in buttons] == ["我来跟进", "稍后提醒 1 天", "稍后提醒 3 天", "客户回复后再提醒", "不再跟进"]
    assert buttons[1]["value"] == {"action": "followup_snooze", "minutes": 1440, "room_id": "R1",
                                   "followup_id": f"R1/{T0}"}
    english = build_followup_card(followup, "en", tz="Asia/Shanghai", buttons=False)
    assert english["header"]["title"]["content"] == "Follow up · no new message for 7 days"
    assert not any(e["tag"] == "action" for e in english["elements"])


def test_a_replay_file_carries_state_and_follow_up_orders(tmp_path):
    from sales_assistant.connectors.replay import read_replay
    from sales_assistant.core.messages import SetPresence

    lines = [{"action": "state", "staffId": "s1", "by": "s1", "timestamp": T0, "state": "focus", "until": T0 + 60_000},
             {"action": "followup", "roomId": "R1", "by": "s1", "timestamp": T0 + 1, "hold": "stop"},
             {"action": "state", "staffId": "s1", "by": "s1", "timestamp": T0 + 2, "state": "nap"},
             {"action": ["state"], "staffId": "s1"}]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    data = read_replay(path)
    assert data.items == [SetPresence("s1", "s1", T0, "focus", T0 + 60_000), HoldFollowUp("R1", "s1", T0 + 1, "stop")]
    assert [e.split(":")[0] for e in data.errors] == ["line 3", "line 4"] and "state" in data.errors[0]
