"""The named wire rows (store/wire.py): the same arrays on the streams as before, read back by name."""
import pickle

import orjson
import pytest
import ray.cloudpickle

from sales_assistant.core.messages import CancelClock, Message, Reassign, Snooze
from sales_assistant.core.room import (
    Clock,
    ClockReassigned,
    ClockSnoozed,
    ClockStarted,
    ClockStopped,
    ClockTouched,
    EndedBy,
    Episode,
)
from sales_assistant.core.roster import Stage
from sales_assistant.store.wire import (
    KIND_MESSAGE,
    CancelRow,
    MessageRow,
    RecentRow,
    ShardBatch,
    ShardEntry,
    StaffTextRow,
    decode_inbox_row,
    decode_recent,
    encode,
    event_from_wire,
    event_to_wire,
    inbox_row,
    staff_texts_of,
)

T = 1_795_136_400_000


def test_a_message_row_is_the_positional_array_the_inbox_always_held():
    row = inbox_row(Message("1", "R1", "c1", "在吗", 1, mentions=("s1",)))
    assert encode(row) == '["1","R1","c1","在吗",1,7,["s1"],null,null,false,false]'.encode()
    assert decode_inbox_row(row.kind, encode(row)) == row
    # a row written before the bot's mark (the last item) was carried still reads, as not the bot's
    assert decode_inbox_row(row.kind, '["1","R1","c1","在吗",1,7,["s1"],null,null,false]'.encode()) == row


def test_the_closing_label_travels_with_the_row_into_the_message():
    row = decode_inbox_row(KIND_MESSAGE, encode(MessageRow.of(Message("1", "R1", "c1", "好的，谢谢", T))))
    row.label_closing(True)
    assert row.message() == Message("1", "R1", "c1", "好的，谢谢", T, closing=True)


@pytest.mark.parametrize("order", [CancelClock("R1", "boss", T, "客户已电话联系"),
                                   Reassign("R1", "boss", T, None, "after_sales"),
                                   Snooze("R1", "rep1", T, "m1", T + 30 * 60_000)])
def test_an_order_comes_back_from_the_inbox_as_the_same_order(order):
    row = inbox_row(order)
    assert decode_inbox_row(row.kind, encode(row)).order() == order


def test_a_kind_this_version_does_not_know_is_no_row():
    assert decode_inbox_row("x", b'["R1"]') is None


def test_a_shard_batch_crosses_a_pickle_as_the_same_entries():
    batch = ShardBatch([ShardEntry(7, KIND_MESSAGE, MessageRow.of(Message("1", "R1", "c1", "在吗", T))),
                        ShardEntry(9, CancelRow.kind, CancelRow.of(CancelClock("R1", "boss", T + 1)))])
    for dumps in (pickle.dumps, ray.cloudpickle.dumps):
        back = pickle.loads(dumps(batch))
        assert isinstance(back, ShardBatch) and back == batch and back[-1].seq == 9


def test_staff_text_and_recent_rows_are_read_by_name():
    staff = StaffTextRow("m1", "R1", "s1", "董森", "s1", "网易严选", "您好，价格已发", T)
    [back] = staff_texts_of(orjson.loads(encode([staff])))  # as the stream consumer hands an entry over
    assert back == staff and back.text == "您好，价格已发"
    recent = RecentRow(T, "c1", None, "customer", "在吗", 7, False, "m1")
    assert decode_recent(encode(recent)) == recent


@pytest.mark.parametrize("event", [
    ClockStarted("R1", Clock("m1", T, "c1", "王女士", "价格？", "价格？"), Stage.PRE_SALES, "s1", "网易严选"),
    ClockTouched("R1", "m1", "还在吗"),
    ClockReassigned("R1", "m1", "a1", Stage.AFTER_SALES),
    ClockSnoozed("R1", "m1", T + 30 * 60_000),
])
def test_clock_event_rows_round_trip(event):
    assert event_from_wire(event_to_wire(event)) == event


def test_a_stop_row_carries_the_episode():
    ep = Episode("R1", "m1", "s1", Stage.PRE_SALES, "c1", "王女士", "价格？", T, EndedBy.REPLY, T + 60_000, "m2",
                 "您好", "s1")
    assert event_from_wire(event_to_wire(ClockStopped(ep))) == ClockStopped(ep)


def test_a_row_that_is_no_clock_event_is_refused_by_name():
    with pytest.raises(ValueError, match="not a clock event row"):
        event_from_wire(["start", "R1"])
