"""What the deadline board hands over to be stored (drain_changes) and what it falls back on after
a restart. Both cases were found by the chaos run (benchmarks/chaos.py): a restarted supervisor
fired alerts for a clock that had long stopped, and named no room on the alerts of a clock it only
saw stop."""
from core.deadlines import SETTLED, DeadlineBoard
from core.room import Clock, ClockStarted, ClockStopped, EndedBy, Episode
from policies.escalation import default_policy

T, M = 1_763_600_000_000, 60_000


def started(clock: str, at: int) -> ClockStarted:
    return ClockStarted("R1", Clock(clock, at, "c1", "客户", "价格？", "价格？"), "pre_sales", "s1", "网易严选")


def stopped(clock: str, at: int, ended: int) -> ClockStopped:
    return ClockStopped(Episode("R1", clock, "s1", "pre_sales", "c1", "客户", "价格？", at, EndedBy.REPLY, ended))


def test_a_settled_watch_is_recorded_even_when_the_next_clock_starts_before_the_drain():
    board = DeadlineBoard(default_policy())
    board.apply(started("m1", T))
    assert len(board.due(T + 6 * M)) == 1
    board.drain_changes()
    # One step takes both: the reply that stops m1, and the next question that starts m3.
    board.apply(stopped("m1", T, T + 7 * M))
    board.apply(started("m3", T + 8 * M))
    records = board.drain_changes()
    # Before: the room's record became m3 at step 0, the "fired and not done" truth of a rebuild,
    # and m1's settlement was never stored.
    assert (records["R1"].clock_id, records["R1"].next_step) == ("m1", SETTLED)


def test_a_watch_that_never_fired_leaves_no_record():
    board = DeadlineBoard(default_policy())
    board.apply(started("m1", T))
    board.apply(stopped("m1", T, T + 3 * M))
    board.apply(started("m3", T + 4 * M))
    assert board.drain_changes() == {}


def test_a_stop_whose_start_was_never_seen_names_the_room():
    board = DeadlineBoard(default_policy(), topic_of={"R1": "网易严选"}.get)
    alerts = board.apply(stopped("m1", T, T + 12 * M))
    assert [(a.alert_id, a.topic) for a in alerts] == [("R1/m1/0", "网易严选"), ("R1/m1/1", "网易严选")]


def test_average_reply_times_do_not_depend_on_the_order_episodes_are_read_in():
    """Redis hands a day's episodes back in hash order, which a Redis restart changes: the chaos
    run saw 5.65 against 5.66 minutes for the same episodes. Sums are now exact."""
    import itertools

    from core import metrics
    from core.roster import Role, RoomInfo, Roster, Staff

    durations = [786_160, 12_567, 373_973]  # ms; summed as float minutes: 6.51 or 6.52 by order
    eps = [Episode("R1", f"m{i}", "s1", "pre_sales", "c1", None, "在吗", T + i * 60 * M, EndedBy.REPLY,
                   T + i * 60 * M + d) for i, d in enumerate(durations)]
    roster = Roster({"s1": Staff("s1", "销售1", Role.SALES)}, {"R1": RoomInfo("R1", "群", "s1")})
    orders = [list(p) for p in itertools.permutations(eps)]
    views = [metrics.compute(order, {}, roster.rooms, roster) for order in orders]
    assert len({v["rooms"][0]["avg_reply_minutes"] for v in views}) == 1
    assert len({v["sales"][0]["avg_reply_minutes"] for v in views}) == 1
    assert len({str(metrics.by_hour(order, {})) for order in orders}) == 1
