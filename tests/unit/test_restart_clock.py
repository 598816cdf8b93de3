"""The safety net under the closing model (issue 14): a doubtful "closing" label is kept on the room, a
person restarts the clock it silenced, once, and every cancel and restart is a training label."""
import pickle
from pathlib import Path

import orjson

from sales_assistant.config.settings import NlpSettings
from sales_assistant.core.messages import CancelClock, Message, RestartClock
from sales_assistant.core.room import (
    ClockStarted,
    ClockStopped,
    ClockTouched,
    Correction,
    EndedBy,
    Judgement,
    Rejection,
    Room,
    correction_of,
    last_word,
)
from sales_assistant.core.roster import Role, RoomInfo, Stage
from sales_assistant.store.wire import (
    KIND_MESSAGE,
    KIND_RESTART,
    MessageRow,
    RestartRow,
    ShardBatch,
    ShardEntry,
    decode_inbox_row,
    encode,
    inbox_row,
)

T, M = 1_763_600_000_000, 60_000
ROLES = {"owner": Role.SALES}


def new_room() -> Room:
    return Room(RoomInfo("R1", "网易严选", "owner", Stage.PRE_SALES))


def feed(room: Room, *msgs: Message) -> list:
    return [room.handle(m, ROLES.get(m.sender_id), room.last_seq + 1) for m in msgs]


def doubtful(mid: str = "m1", minute: int = 0, text: str = "好的，那合同发我", score: float = 0.74) -> Message:
    return Message(mid, "R1", "c1", text, T + minute * M, sender_name="客户", closing=True, closing_score=score)


def restart(room: Room, minute: int, message_id: str = "m1"):
    return room.restart(RestartClock("R1", "boss", T + minute * M, message_id), room.last_seq + 1)


def test_a_doubtful_closing_label_starts_no_clock_but_is_kept_on_the_room():
    room = new_room()
    [outcome] = feed(room, doubtful())
    assert outcome.event is None and room.clock is None
    assert room.judged == Judgement("m1", "好的，那合同发我", 0.74, T, "c1", "客户")
    assert Room.from_dict(orjson.loads(orjson.dumps(room.to_dict()))).judged == room.judged  # in the snapshot


def test_a_confident_closing_label_is_not_kept():
    room = new_room()
    feed(room, Message("m1", "R1", "c1", "好的", T, closing=True))
    assert room.judged is None and "judged" not in room.to_dict()


def test_restart_starts_the_clock_from_the_silenced_messages_time_once():
    room = new_room()
    feed(room, doubtful())
    first = restart(room, 12)
    assert isinstance(first.event, ClockStarted)
    clock = first.event.clock
    assert (clock.clock_id, clock.started_at, clock.customer_id, clock.customer_name, clock.customer_text) == (
        "m1", T, "c1", "客户", "好的，那合同发我")
    assert room.clock.started_at == T and room.judged is None
    # the same order pushed twice: the second finds the clock running and nothing to restart
    assert restart(room, 13).event is None and room.clock.started_at == T
    # a redelivered entry is skipped as ever
    assert room.restart(RestartClock("R1", "boss", T + 14 * M, "m1"), room.last_seq).rejected is Rejection.DUPLICATE


def test_the_restarted_clock_is_an_ordinary_clock_a_reply_stops():
    room = new_room()
    feed(room, doubtful())
    restart(room, 12)
    [reply] = feed(room, Message("m2", "R1", "owner", "合同已发您邮箱", T + 20 * M))
    episode = reply.event.episode
    assert (episode.clock_id, episode.started_at, episode.ended_by, episode.reply_minutes) == (
        "m1", T, EndedBy.REPLY, 20.0)


def test_a_restart_after_staff_answered_or_for_another_message_does_nothing():
    room = new_room()
    feed(room, doubtful(), Message("m2", "R1", "owner", "好的，马上发", T + M))
    assert room.judged is None
    assert restart(room, 5).event is None and room.clock is None
    feed(room, doubtful("m3", 6))
    assert restart(room, 7, message_id="m1").event is None and room.judged.message_id == "m3"


def test_a_clock_started_by_a_later_message_clears_the_judgement():
    room = new_room()
    feed(room, doubtful(), Message("m2", "R1", "c1", "在吗？", T + 2 * M))
    assert room.judged is None and room.clock.clock_id == "m2"
    assert restart(room, 3).event is None and room.clock.clock_id == "m2"


def test_a_doubtful_label_while_a_clock_runs_only_touches_it():
    room = new_room()
    [_, touch] = feed(room, Message("m1", "R1", "c1", "报价呢", T), doubtful("m2", 1))
    assert isinstance(touch.event, ClockTouched) and room.judged is None


def test_cancels_and_restarts_are_labels_and_the_latest_per_message_wins():
    room = new_room()
    feed(room, doubtful())
    started = restart(room, 2).event
    restart_label = correction_of(RestartClock("R1", "boss", T + 2 * M, "m1"), started, room.owner_id)
    assert restart_label == Correction("R1", "m1", "好的，那合同发我", 0, "restart", T + 2 * M, "boss", "owner")
    cancel = CancelClock("R1", "rep1", T + 3 * M)
    stopped = room.cancel(cancel, room.last_seq + 1).event
    assert isinstance(stopped, ClockStopped)
    cancel_label = correction_of(cancel, stopped, room.owner_id)
    assert (cancel_label.label, cancel_label.source, cancel_label.text) == (1, "cancel", "好的，那合同发我")
    assert correction_of(cancel, None, "owner") is None  # a cancel that found no clock says nothing
    assert last_word([restart_label, cancel_label]) == [cancel_label]
    assert cancel_label.training_row() == {"text": "好的，那合同发我", "label": 1, "room_id": "R1", "source": "cancel",
                                           "at": T + 3 * M}
    assert Correction(**orjson.loads(orjson.dumps(cancel_label.to_dict()))) == cancel_label


def test_only_a_doubtful_label_carries_its_score_to_the_shard():
    plain = decode_inbox_row(KIND_MESSAGE, encode(MessageRow.of(Message("1", "R1", "c1", "好的", T))))
    sure = decode_inbox_row(KIND_MESSAGE, encode(MessageRow.of(Message("2", "R1", "c1", "好的", T))))
    unsure = decode_inbox_row(KIND_MESSAGE, encode(MessageRow.of(Message("3", "R1", "c1", "好的，那合同发我", T))))
    plain.label_closing(False, None)
    sure.label_closing(True, None)
    unsure.label_closing(True, 0.74)
    batch = pickle.loads(pickle.dumps(ShardBatch([ShardEntry(i, KIND_MESSAGE, r)
                                                  for i, r in enumerate((plain, sure, unsure))])))
    got = [(e.row.message().closing, e.row.message().closing_score) for e in batch]
    assert got == [(False, None), (True, None), (True, 0.74)]
    # no field is added to any row: a doubtful label's score stands where its `true` would
    assert {len(orjson.loads(encode(row))) for row in (plain, sure, unsure)} == {len(orjson.loads(encode(plain)))}


def test_a_restart_comes_back_from_the_inbox_as_the_same_order():
    order = RestartClock("R1", "boss", T, "m1")
    row = inbox_row(order)
    assert isinstance(row, RestartRow) and row.kind == KIND_RESTART
    assert decode_inbox_row(row.kind, encode(row)).order() == order


def test_the_default_confidence_bar_lies_above_the_served_threshold():
    """A bar at or below the learned model's threshold would show no judgement at all: every closing label
    scores at least the threshold."""
    config = Path(__file__).resolve().parents[2] / "models" / "closing" / "artifacts" / "config.json"
    threshold = orjson.loads(config.read_bytes())["serving"]["threshold"]
    assert threshold < NlpSettings().closing_confident < 1.0
