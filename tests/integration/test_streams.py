"""The stream-consumer helper: pending entries first, then new ones, in batches; nothing lost across a restart."""
from __future__ import annotations

import orjson

from sales_assistant.policies.backlog import Card
from sales_assistant.store.folds import card_to_json, sink_backlog
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.streams import StreamConsumer, backlog_of, caught_up


def _add(r, stream: str, n: int, start: int = 0) -> list[str]:
    return [r.xadd(stream, {"d": orjson.dumps({"i": i})}) for i in range(start, start + n)]


def test_reads_new_entries_in_batches_and_acknowledges_them(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    consumer = StreamConsumer(r, keys.alerts, keys.sink_group("jsonl"), keys.sink_consumer("jsonl"), count=3)
    _add(r, keys.alerts, 5)
    first, second, third = consumer.read(), consumer.read(), consumer.read()
    assert [e.data["i"] for e in first] == [0, 1, 2] and [e.data["i"] for e in second] == [3, 4] and third == []
    consumer.ack([e.id for e in first + second])
    assert r.xpending(keys.alerts, keys.sink_group("jsonl"))["pending"] == 0


def test_a_restarted_consumer_reads_what_it_took_but_never_acknowledged_first(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("lark")
    crashed = StreamConsumer(r, keys.alerts, group, "lark-0", count=2)
    ids = _add(r, keys.alerts, 3)
    taken = crashed.read()
    crashed.ack([taken[0].id])  # the second one was taken, then the process died
    _add(r, keys.alerts, 2, start=3)

    again = StreamConsumer(r, keys.alerts, group, "lark-0", count=2)
    assert again.pending_first
    assert [e.id for e in again.read()] == [ids[1]]  # its own pending entry, before anything new
    assert [e.data["i"] for e in again.read()] == [2, 3]
    assert not again.pending_first


def test_pending_entries_are_read_once_per_pass_and_again_after_a_rewind(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("jsonl")
    StreamConsumer(r, keys.alerts, group, "c", count=10).read()  # takes nothing: the stream is empty
    _add(r, keys.alerts, 4)
    StreamConsumer(r, keys.alerts, group, "c", count=10).read()  # takes all four, acknowledges none
    consumer = StreamConsumer(r, keys.alerts, group, "c", count=2)
    seen = [e.data["i"] for e in consumer.read() + consumer.read()]
    assert seen == [0, 1, 2, 3] and consumer.read() == []  # not the same batch over and over
    consumer.rewind()
    assert [e.data["i"] for e in consumer.read()] == [0, 1]


def test_an_entry_trimmed_while_pending_comes_back_without_data(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("jsonl")
    ids = _add(r, keys.alerts, 2)
    StreamConsumer(r, keys.alerts, group, "c").read()
    r.xdel(keys.alerts, ids[0])
    assert StreamConsumer(r, keys.alerts, group, "c").read() == [(ids[0], None), (ids[1], {"i": 1})]


def test_consumers_of_one_group_split_the_new_entries(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("jsonl")
    a = StreamConsumer(r, keys.alerts, group, keys.sink_consumer("jsonl", 0), count=2)
    b = StreamConsumer(r, keys.alerts, group, keys.sink_consumer("jsonl", 1), count=2)
    _add(r, keys.alerts, 3)
    got = a.read() + b.read()
    assert sorted(e.data["i"] for e in got) == [0, 1, 2]


def test_how_far_a_group_is_behind_counts_taken_and_untaken_entries(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("lark")
    assert caught_up(r, keys.alerts, group) and backlog_of(r, keys.alerts, group) == 0  # no stream yet
    consumer = StreamConsumer(r, keys.alerts, group, "lark-0", count=2)
    _add(r, keys.alerts, 3)
    assert not caught_up(r, keys.alerts, group)
    assert backlog_of(r, keys.alerts, group) == 3 and backlog_of(r, keys.alerts, group, cap=2) == 2
    taken = consumer.read()
    assert backlog_of(r, keys.alerts, group) == 3 and not caught_up(r, keys.alerts, group)  # taken is not done
    consumer.ack([e.id for e in taken])
    assert backlog_of(r, keys.alerts, group) == 1 and not caught_up(r, keys.alerts, group)
    last = consumer.read()
    assert not caught_up(r, keys.alerts, group)  # delivered, not yet acknowledged
    consumer.ack([e.id for e in last])
    assert caught_up(r, keys.alerts, group) and backlog_of(r, keys.alerts, group) == 0


def test_a_sinks_backlog_counts_its_waiting_cards_and_what_folded_into_them(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    consumer = StreamConsumer(r, keys.alerts, keys.sink_group("lark"), "lark-0")
    ids = _add(r, keys.alerts, 2)
    r.hset(keys.sink_folds("lark"), ids[1], card_to_json(Card(ids[1], {"room_id": "R1"}, folded=4)))
    assert sink_backlog(r, keys, "lark") == {"waiting": 2, "folded": 4}
    assert sink_backlog(r, keys, "jsonl") == {"waiting": 0, "folded": 0}  # another sink's group is apart
    consumer.ack([e.id for e in consumer.read()])
    assert sink_backlog(r, keys, "lark")["waiting"] == 0


def test_a_batch_of_thousands_is_acknowledged_at_once_and_any_field_order_reads(redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("jsonl")
    consumer = StreamConsumer(r, keys.alerts, group, "c", count=3000)
    pipe = r.pipeline(transaction=False)
    for i in range(2500):  # past the 1,000 ids the acknowledgement hands XACK at a time
        pipe.xadd(keys.alerts, {"d": orjson.dumps({"i": i})})
    pipe.execute()
    r.xadd(keys.alerts, {"v": "1", "d": orjson.dumps({"i": 2500})})  # a field before `d`
    batch = consumer.read()
    assert [e.data["i"] for e in batch] == list(range(2501)) and all(isinstance(e.id, str) for e in batch)
    consumer.ack([e.id for e in batch])
    assert r.xpending(keys.alerts, group)["pending"] == 0 and caught_up(r, keys.alerts, group)


def test_a_sole_reader_keeps_no_pending_list_and_a_restart_reads_on_from_its_last_acknowledgement(
        redis_dir, namespace) -> None:
    r, keys = connect(redis_dir[1]), Keys(namespace)
    group = keys.sink_group("jsonl")
    StreamConsumer(r, keys.alerts, group, "c", count=10).read()  # an older reader of the group: takes nothing
    ids = _add(r, keys.alerts, 2)
    StreamConsumer(r, keys.alerts, group, "c", count=10).read()  # ...then takes two and dies before acknowledging
    _add(r, keys.alerts, 4, start=2)

    sole = StreamConsumer(r, keys.alerts, group, "c", count=3, sole=True)
    pending = sole.read()
    assert [e.id for e in pending] == ids  # what the older reader took comes first, acknowledged as pending
    sole.ack([e.id for e in pending])
    first = sole.read()
    assert [e.data["i"] for e in first] == [2, 3, 4]
    assert r.xpending(keys.alerts, group)["pending"] == 0  # read alone, past the pending list
    assert backlog_of(r, keys.alerts, group) == 4 and not caught_up(r, keys.alerts, group)  # read, not yet done
    sole.ack([e.id for e in first])
    assert backlog_of(r, keys.alerts, group) == 1

    crashed = sole.read()  # the last one is read, then the process dies before acknowledging it
    again = StreamConsumer(r, keys.alerts, group, "c", count=3, sole=True)
    assert again.read() == crashed and [e.data["i"] for e in crashed] == [5]
    again.ack([e.id for e in crashed])
    assert caught_up(r, keys.alerts, group) and again.read() == []

    sole.ack([first[0].id])  # a late acknowledgement of an older batch never moves the group back
    assert caught_up(r, keys.alerts, group)
