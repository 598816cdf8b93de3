import orjson
import pytest
from pydantic import ValidationError

from sales_assistant.config.policy_file import PolicyFile
from sales_assistant.config.settings import default_policy
from sales_assistant.core.room import Clock, ClockStarted, ClockStopped, EndedBy, Episode
from sales_assistant.core.roster import Stage
from sales_assistant.policies.deadlines import SETTLED, Alert, DeadlineBoard

T, M = 1_763_600_000_000, 60_000


def test_seed_ladder():
    ladder = default_policy().ladder(Stage.PRE_SALES)
    steps = []
    i = 0
    while (step := ladder.step(i)) is not None:
        steps.append((step.after_minutes, step.level.value, tuple(t.value for t in step.targets)))
        i += 1
    assert steps[:5] == [(5, "green", ("private",)), (10, "yellow", ("private",)),
                         (20, "orange", ("private", "public")), (30, "red", ("private", "public")),
                         (40, "purple", ("private", "public"))]
    greys = steps[5:]
    assert [s[0] for s in greys] == list(range(50, 1001, 10))
    assert {s[1] for s in greys} == {"grey"}


@pytest.mark.parametrize("bad, field", [
    ({"steps": [{"after_minutes": 10, "level": "green", "targets": ["private"]},
                {"after_minutes": 5, "level": "yellow", "targets": ["private"]}]}, "steps[1].after_minutes"),
    ({"steps": [{"after_minutes": 5, "level": "pink", "targets": ["private"]}]}, "level"),
    ({"steps": [{"after_minutes": 5, "level": "green", "targets": ["everyone"]}]}, "targets"),
    ({"steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]}],
      "repeat": {"every_minutes": 10, "until_minutes": 3, "level": "grey", "targets": ["public"]}}, "until_minutes"),
])
def test_bad_policy_names_the_field(bad, field):
    good = {"steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]}]}
    with pytest.raises(ValidationError) as e:
        PolicyFile.model_validate({"pre_sales": good, "after_sales": bad})
    assert field in str(e.value) and "after_sales" in str(e.value)


def started(room="R1", clock="m1", at=T, owner="s1", stage=Stage.PRE_SALES):
    return ClockStarted(room, Clock(clock, at, "c1", "客户", "价格？", "价格？"), stage, owner, "网易严选")


def stopped(room="R1", clock="m1", at=T, ended=T + 12 * M, by=EndedBy.REPLY, owner="s1"):
    return ClockStopped(Episode(room, clock, owner, Stage.PRE_SALES, "c1", "客户", "价格？", at, by, ended))


def test_due_fires_each_threshold_once_stamped_at_the_crossing():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    assert board.due(T + 4 * M) == []
    alerts = board.due(T + 11 * M)
    assert [(a.level, a.at, a.targets) for a in alerts] == [("green", T + 5 * M, ("private",)),
                                                            ("yellow", T + 10 * M, ("private",))]
    assert board.due(T + 11 * M) == []
    assert board.next_deadline() == T + 20 * M


def test_stop_fires_what_was_crossed_before_it_and_drops_the_rest():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    alerts = board.apply(stopped(ended=T + 12 * M))
    assert [a.level for a in alerts] == ["green", "yellow"]
    assert board.due(T + 10_000 * M) == []
    assert board.apply(stopped(ended=T + 12 * M)) == []  # redelivered stop: nothing twice


def test_reply_exactly_at_threshold_does_not_alert():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    assert board.apply(stopped(ended=T + 5 * M)) == []


def test_batching_does_not_change_the_alerts():
    one = DeadlineBoard(default_policy())
    one.apply(started())
    stepwise = one.due(T + 6 * M) + one.due(T + 25 * M) + one.apply(stopped(ended=T + 33 * M))
    other = DeadlineBoard(default_policy())
    other.apply(started())
    at_once = other.apply(stopped(ended=T + 33 * M))
    assert [a.alert_id for a in stepwise] == [a.alert_id for a in at_once]
    assert [a.level for a in at_once] == ["green", "yellow", "orange", "red"]


def test_unassigned_room_alerts_go_to_public_group_only():
    board = DeadlineBoard(default_policy())
    board.apply(started(owner=None))
    assert {a.targets for a in board.due(T + 60 * M)} == {("public",)}


def test_restored_watch_carries_on_without_repeating():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    board.due(T + 11 * M)
    saved = board.drain_changes()["R1"]
    assert saved.next_step == 2
    fresh = DeadlineBoard(default_policy())
    fresh.restore(saved)
    assert [a.level for a in fresh.due(T + 21 * M)] == ["orange"]
    fresh.apply(stopped(ended=T + 22 * M))
    assert fresh.drain_changes()["R1"].next_step == SETTLED


def test_ladder_ends_at_until_minutes():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    alerts = board.due(T + 5000 * M)
    assert len(alerts) == 5 + 96 and alerts[-1].waited_minutes == 1000
    assert board.next_deadline() is None


def test_rungs_are_the_steps_as_alerts_carry_them():
    ladder = default_policy().ladder(Stage.AFTER_SALES)
    for i in range(200):
        step = ladder.step(i)
        expected = None if step is None else (step.after_minutes * M, step.level.value,
                                              tuple(t.value for t in step.targets))
        assert ladder.rung(i) == expected


def burst_board(rooms: int) -> DeadlineBoard:
    board = DeadlineBoard(default_policy())
    for i in range(rooms):  # started up to 40 min apart: many clocks several steps behind, some not yet due
        start = T + (i * 7919 % rooms) * (40 * M // rooms)
        board.apply(ClockStarted(f"R{i}", Clock(f"m{i}", start, "c", "客户", "价格？", "价格？"), Stage.PRE_SALES,
                                 f"s{i % 7}" if i % 5 else None, "群"))
    return board


@pytest.mark.parametrize("rooms", [50, 3000])  # popped one by one; a burst taken from the heap in one pass
def test_a_burst_fires_every_crossed_step_in_deadline_order(rooms):
    board = burst_board(rooms)
    now = T + 30 * M
    ladder = default_policy().ladder(Stage.PRE_SALES)
    expected = sorted((w.started_at + ladder.step(i).after_minutes * M, w.room_id, w.clock_id, i)
                      for w in board.watches.values() for i in range(40)
                      if ladder.step(i) is not None and w.started_at + ladder.step(i).after_minutes * M <= now)
    alerts = board.due(now)
    assert [(a.at, a.room_id, a.clock_id, a.step) for a in alerts] == expected
    assert board.next_deadline() == min(w.started_at + ladder.step(w.next_step).after_minutes * M
                                        for w in board.watches.values())
    assert board.due(now) == []


@pytest.mark.parametrize(("rooms", "limit"), [(50, 7), (3000, 400)])  # 400: parts end inside a burst taken at once
def test_a_burst_taken_in_parts_fires_the_same_alerts_in_the_same_order(rooms, limit):
    now = T + 30 * M
    whole = [(a.at, a.room_id, a.clock_id, a.step) for a in burst_board(rooms).due(now)]
    board, parts = burst_board(rooms), []
    while part := board.due(now, limit=limit):
        assert len(part) <= limit
        assert board.next_deadline() <= now or len(part) < limit  # the rest is still due, and nothing was lost
        parts += [(a.at, a.room_id, a.clock_id, a.step) for a in part]
    assert parts == whole and board.next_deadline() > now


def test_an_alert_encodes_directly_as_the_document_to_dict_makes():
    """The supervisor's commit encodes alerts as they are (store/state.send_escalation): a field added to the
    dataclass and not to `to_dict`, or in another order, must show here."""
    alert = Alert("R1", "c1", 2, "red", 30, ("owner", "manager"), "s1", Stage.PRE_SALES, "报价", 1_000, 500, "王总",
                  "价格多少？", business_minutes=25)
    assert orjson.dumps(alert) == orjson.dumps(alert.to_dict())
    assert alert.alert_id == "R1/c1/2"
