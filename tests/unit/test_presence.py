"""Focus and away states: the spells a rep's orders make, and who receives an alert at a moment
(policies/presence.py)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sales_assistant.core.messages import SetPresence
from sales_assistant.core.roster import Role, Staff, Team
from sales_assistant.policies.presence import HeldAlerts, Presence, PresenceState, Route, route

T0 = 1_764_900_000_000
MIN = 60_000
ALICE = Staff("s1", "张三", Role.SALES, "east", backup="s2")
BOB = Staff("s2", "李四", Role.SALES, "east", backup="s1")
CAROL = Staff("s3", "王五", Role.SALES, "east")
BACKUP, HOLD = Team("east"), Team("east", away="hold")


def presence(staff_id: str, *orders: tuple) -> Presence:
    p = Presence(staff_id)
    for seq, (state, at, until) in enumerate(orders):
        p.apply(SetPresence(staff_id, staff_id, at, state, until), seq)
    return p


def test_a_state_for_a_duration_then_at_work_again():
    p = presence("s1", ("focus", T0, T0 + 30 * MIN))
    assert p.at(T0 - 1) is None
    assert p.at(T0).state is PresenceState.FOCUS and p.at(T0 + 30 * MIN - 1) is not None
    assert p.at(T0 + 30 * MIN) is None
    assert p.away_until(T0 + MIN) == T0 + 30 * MIN


def test_until_cleared_and_a_new_state_ends_the_last():
    p = presence("s1", ("meeting", T0, None))
    assert p.away_until(T0 + 5 * MIN) is None  # not known yet: until cleared
    p.apply(SetPresence("s1", "s1", T0 + 10 * MIN, "off", T0 + 60 * MIN), 5)
    assert p.at(T0 + 9 * MIN).state is PresenceState.MEETING
    assert p.at(T0 + 10 * MIN).state is PresenceState.OFF
    assert p.away_until(T0) == T0 + 60 * MIN  # one stretch away, without a gap
    p.apply(SetPresence("s1", "s1", T0 + 20 * MIN, None), 6)
    assert p.at(T0 + 20 * MIN) is None and p.away_until(T0) == T0 + 20 * MIN


def test_an_order_applies_once():
    p = presence("s1", ("focus", T0, None))
    assert not p.apply(SetPresence("s1", "s1", T0 + MIN, None), 0)
    assert p.at(T0 + 2 * MIN) is not None


def test_the_history_round_trips_through_its_stored_form():
    p = presence("s1", ("focus", T0, T0 + MIN), ("away", T0 + 2 * MIN, None))
    assert Presence.from_list("s1", p.to_list()) == p


def test_at_work_the_alert_goes_as_it_is():
    assert route(("private", "public"), ALICE, T0, {}, BACKUP) == Route(("private", "public"))


def test_away_with_a_backup_the_private_alert_goes_to_the_backup_and_public_still_runs():
    reps = {"s1": presence("s1", ("focus", T0, None))}
    r = route(("private", "public"), ALICE, T0 + MIN, reps, BACKUP)
    assert r == Route(("private", "public"), (), "s2", PresenceState.FOCUS)


def test_a_backup_who_is_away_too_covers_nobody_and_the_alert_is_held():
    reps = {"s1": presence("s1", ("focus", T0, None)), "s2": presence("s2", ("off", T0, None))}
    assert route(("private",), ALICE, T0 + MIN, reps, BACKUP) == Route((), ("private",), None, PresenceState.FOCUS)
    # without a named backup, the same
    assert route(("private",), CAROL, T0 + MIN, {"s3": presence("s3", ("off", T0, None))}, BACKUP).held == ("private",)


def test_a_holding_team_holds_the_private_part_and_may_hold_the_public_escalation_too():
    reps = {"s1": presence("s1", ("meeting", T0, T0 + 60 * MIN))}
    assert route(("private", "public"), ALICE, T0 + MIN, reps, HOLD).held == ("private",)
    quiet = Team("east", away="hold", public_while_away=False)
    r = route(("private", "public"), ALICE, T0 + MIN, reps, quiet)
    assert r.send == () and r.held == ("private", "public")


def test_held_alerts_go_out_when_the_rep_is_back_never_before_and_never_lost():
    reps = {"s1": presence("s1", ("meeting", T0, None))}
    held = HeldAlerts()
    alert = {"alert_id": "R1/m1/0", "room_id": "R1", "owner_id": "s1", "at": T0 + MIN, "targets": ["private"]}
    r = route(("private",), ALICE, alert["at"], reps, HOLD)
    assert held.hold(alert, r) == "R1/m1/0"
    assert held.due(T0 + 10**9, reps) == [] and held.next_release(reps) is None  # until cleared
    reps["s1"].apply(SetPresence("s1", "s1", T0 + 40 * MIN, None), 9)
    assert held.next_release(reps) == T0 + 40 * MIN
    assert held.due(T0 + 40 * MIN - 1, reps) == []
    [out] = held.due(T0 + 40 * MIN, reps)
    assert out["released_at"] == T0 + 40 * MIN and out["held_from"] == T0 + MIN and out["targets"] == ["private"]
    assert held.held == {}


def test_the_held_part_of_an_alert_whose_public_part_went_out_has_an_id_of_its_own():
    reps = {"s1": presence("s1", ("off", T0, T0 + 60 * MIN))}
    held = HeldAlerts()
    alert = {"alert_id": "R1/m1/2", "room_id": "R1", "owner_id": "s1", "at": T0 + MIN, "targets": ["private", "public"]}
    assert held.hold(alert, route(("private", "public"), ALICE, alert["at"], reps, HOLD)) == "R1/m1/2/held"


spells = st.lists(st.tuples(st.sampled_from([None, "focus", "meeting", "away", "off"]),
                            st.integers(0, 500), st.one_of(st.none(), st.integers(1, 300))), max_size=12)


@given(spells, st.integers(0, 900))
def test_whoever_is_covered_at_a_moment_the_alert_goes_out_once_or_is_held(orders, t):
    """Every target ends up sent or held, never both, never dropped; a private target only to the owner
    or the backup; nothing changes for a rep at work."""
    p = Presence("s1")
    for seq, (state, at, length) in enumerate(sorted(orders, key=lambda o: o[1])):
        p.apply(SetPresence("s1", "s1", T0 + at * MIN, state, None if length is None else T0 + (at + length) * MIN), seq)
    for team in (BACKUP, HOLD, Team("east", "hold", False)):
        r = route(("private", "public"), ALICE, T0 + t * MIN, {"s1": p}, team)
        assert sorted(r.send + r.held) == ["private", "public"]
        assert (r.state is None) == (p.at(T0 + t * MIN) is None)
        if r.state is None:
            assert r == Route(("private", "public"))
        assert r.private_to in (None, "s2")
        back = p.away_until(T0 + t * MIN)
        assert back is None or back >= T0 + t * MIN
