"""The clock semantics, exactly as the issue states them."""
import orjson

from sales_assistant.core.messages import CancelClock, Message, MessageType, Reassign
from sales_assistant.core.room import ClockStarted, ClockStopped, ClockTouched, EndedBy, Episode, Rejection, Room
from sales_assistant.core.roster import Role, RoomInfo, Speaker, Stage

T, M = 1_763_600_000_000, 60_000
ROLES = {"owner": Role.SALES, "other": Role.EMPLOYEE, "bot": Role.BOT, "as": Role.AFTER_SALES}


def feed(room: Room, *msgs: Message):
    outcomes = []
    for m in msgs:
        outcomes.append(room.handle(m, ROLES.get(m.sender_id), room.last_seq + 1))
    return outcomes


def msg(mid, sender, minute, text="在吗", closing=False, type_=MessageType.TEXT):
    return Message(mid, "R1", sender, text, T + minute * M, type_, closing=closing)


def new_room(owner="owner"):
    return Room(RoomInfo("R1", "网易严选", owner, Stage.PRE_SALES))


def test_customer_message_starts_clock_and_later_ones_do_not_restart_it():
    room = new_room()
    first, second = feed(room, msg("m1", "c1", 0, "价格多少？"), msg("m2", "c2", 3, "还有人吗"))
    assert isinstance(first.event, ClockStarted) and first.speaker is Speaker.CUSTOMER
    assert room.clock.started_at == T and room.clock.clock_id == "m1"
    assert isinstance(second.event, ClockTouched) and second.event.last_text == "还有人吗"
    assert room.clock.started_at == T and room.clock.customer_text == "价格多少？"


def test_any_human_staff_stops_clock_and_episode_belongs_to_owner():
    room = new_room()
    _, reply = feed(room, msg("m1", "c1", 0), msg("m2", "other", 7, "我来看下"))
    assert reply.speaker is Speaker.EMPLOYEE
    ep = reply.event.episode
    assert ep.owner_id == "owner" and ep.replier_id == "other" and ep.ended_by is EndedBy.REPLY
    assert ep.reply_minutes == 7 and ep.reply_text == "我来看下"
    assert room.clock is None


def test_bot_never_stops_a_clock():
    room = new_room()
    _, bot = feed(room, msg("m1", "c1", 0), msg("m2", "bot", 1, "自动回复"))
    assert bot.speaker is Speaker.BOT and bot.event is None and room.clock is not None


def test_staff_message_without_running_clock_is_just_counted():
    room = new_room()
    (out,) = feed(room, msg("m1", "owner", 0, "早上好"))
    assert out.speaker is Speaker.OWNER and out.event is None


def test_closing_reply_neither_starts_nor_stops():
    room = new_room()
    (out,) = feed(room, msg("m1", "c1", 0, "好的", closing=True))
    assert out.event is None and room.clock is None
    feed(room, msg("m2", "c1", 1, "发票呢？"))
    (late,) = feed(room, msg("m3", "c1", 2, "好的", closing=True))
    assert room.clock is not None and room.clock.clock_id == "m2"
    assert not isinstance(late.event, ClockStopped)


def test_sticker_and_recalled_do_not_start_clock_but_images_do():
    room = new_room()
    feed(room, msg("m1", "c1", 0, "[动画表情]", type_=MessageType.EMOTICON),
         msg("m2", "c1", 1, "", type_=MessageType.RECALLED))
    assert room.clock is None
    (img,) = feed(room, msg("m3", "c1", 2, "", type_=MessageType.IMAGE))
    assert isinstance(img.event, ClockStarted)


def test_cancel_ends_episode_as_cancelled():
    room = new_room()
    feed(room, msg("m1", "c1", 0))
    out = room.cancel(CancelClock("R1", "manager", T + 30 * M, "客户说好的"), room.last_seq + 1)
    ep = out.event.episode
    assert ep.ended_by is EndedBy.CANCELLED and ep.cancelled_by == "manager" and ep.ended_at == T + 30 * M
    assert room.clock is None
    assert room.cancel(CancelClock("R1", "manager", T + 31 * M), room.last_seq + 1).event is None


def test_redelivery_and_out_of_order_are_rejected_without_effect():
    room = new_room()
    room.handle(msg("m1", "c1", 5), None, 10)
    assert room.handle(msg("m1", "c1", 5), None, 10).rejected is Rejection.DUPLICATE
    late = room.handle(msg("m0", "owner", 1), Role.SALES, 11)
    assert late.rejected is Rejection.OUT_OF_ORDER and room.clock is not None


def test_unassigned_room_episode_has_no_owner():
    room = new_room(owner=None)
    _, reply = feed(room, msg("m1", "c1", 0), msg("m2", "as", 2))
    assert reply.speaker is Speaker.EMPLOYEE and reply.event.episode.owner_id is None


def test_snapshot_round_trip_keeps_running_clock():
    room = new_room()
    feed(room, msg("m1", "c1", 0, "合同呢？"))
    again = Room.from_dict(room.to_dict())
    assert again.to_dict() == room.to_dict()
    assert again.open_episode().ended_by is EndedBy.OPEN


def test_a_room_stage_is_a_stage_wherever_it_came_from():
    room = new_room()
    feed(room, msg("m1", "c1", 0, "合同呢？"))
    assert room.stage is Stage.PRE_SALES and room.info().stage is Stage.PRE_SALES
    room.reassign(Reassign("R1", "boss", T + M, "as", "after_sales"), room.last_seq + 1)  # the wire carries a str
    assert room.stage is Stage.AFTER_SALES
    again = Room.from_dict(orjson.loads(orjson.dumps(room.to_dict())))
    assert again.stage is Stage.AFTER_SALES and again.open_episode().stage is Stage.AFTER_SALES
    _, reply = feed(again, msg("m2", "c1", 2, "在吗"), msg("m3", "as", 3, "在的"))
    ep = reply.event.episode
    assert ep.stage is Stage.AFTER_SALES
    assert Episode.from_dict(orjson.loads(orjson.dumps(ep.to_dict()))) == ep
