"""People's orders on a room (reassign, snooze) and who may give them."""
from string import Formatter

import pytest

from sales_assistant.config.settings import default_policy
from sales_assistant.connectors.i18n import REFUSALS, refusal_text
from sales_assistant.core.messages import Message, Reassign, Snooze
from sales_assistant.core.room import ClockReassigned, ClockSnoozed, Rejection, Room
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff, Stage
from sales_assistant.policies.access import (
    Action,
    Actor,
    Refusal,
    Refused,
    UserRole,
    can_view_room,
    check,
    check_owner,
    check_proposal,
    take_over_stage_fits,
)
from sales_assistant.policies.deadlines import DeadlineBoard
from tests.unit.test_escalation import M, T, started

ROSTER = Roster(staff={"s1": Staff("s1", "董森", Role.SALES), "s2": Staff("s2", "曾路", Role.SALES),
                       "a1": Staff("a1", "荣生", Role.AFTER_SALES), "m1": Staff("m1", "王经理", Role.MANAGER),
                       "e1": Staff("e1", "程序员小王", Role.EMPLOYEE)})
MANAGER = Actor("boss", "王经理", UserRole.MANAGER, "m1")
REP1 = Actor("rep1", "董森", UserRole.SALES, "s1")
VIEWER = Actor("v", "只读", UserRole.VIEWER)


def waiting_room() -> Room:
    room = Room(RoomInfo("R1", "网易严选", "s1", Stage.PRE_SALES))
    room.handle(Message("m1", "R1", "c1", "价格？", T), None, seq=1)
    return room


# --- the room ---------------------------------------------------------------------------------


def test_reassign_changes_owner_and_stage_and_tells_the_supervisor_while_a_clock_runs():
    room = waiting_room()
    outcome = room.reassign(Reassign("R1", "boss", T + M, "a1", "after_sales"), seq=2)
    assert (room.owner_id, room.stage) == ("a1", "after_sales")
    assert outcome.event == ClockReassigned("R1", "m1", "a1", "after_sales", at=T + M)
    assert room.reassign(Reassign("R1", "boss", T + M, "a1", "after_sales"), seq=2).rejected is Rejection.DUPLICATE


def test_reassign_without_a_clock_says_nothing_to_the_supervisor():
    room = Room(RoomInfo("R3", "无主群"))
    assert room.reassign(Reassign("R3", "boss", T, "s1", "pre_sales"), seq=1).event is None
    assert room.owner_id == "s1"


def test_snooze_holds_only_the_clock_it_names_and_survives_a_snapshot():
    room = waiting_room()
    assert room.snooze(Snooze("R1", "rep1", T, "other-clock", T + 30 * M), seq=2).event is None
    outcome = room.snooze(Snooze("R1", "rep1", T, "m1", T + 30 * M), seq=3)
    assert outcome.event == ClockSnoozed("R1", "m1", T + 30 * M, at=T)
    assert Room.from_dict(room.to_dict()).clock.snoozed_until == T + 30 * M


# --- the board ----------------------------------------------------------------------------------


def test_a_snooze_holds_the_alerts_then_reminds_once_at_the_level_reached():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    assert [a.level for a in board.due(T + 6 * M)] == ["green"]
    board.apply(ClockSnoozed("R1", "m1", T + 36 * M))  # held past yellow (10), orange (20) and red (30)
    assert board.due(T + 35 * M) == []
    reminder = board.due(T + 36 * M)
    assert [(a.level, a.at, a.waited_minutes) for a in reminder] == [("red", T + 36 * M, 36)]
    assert [a.level for a in board.due(T + 40 * M)] == ["purple"]  # the ladder goes on as before


def test_a_snooze_is_kept_across_a_restart_of_the_supervisor():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    board.apply(ClockSnoozed("R1", "m1", T + 15 * M))
    changed = board.drain_changes()["R1"]
    fresh = DeadlineBoard(default_policy())
    fresh.restore(type(changed)(*changed.to_list()))
    assert fresh.due(T + 14 * M) == []
    assert [a.level for a in fresh.due(T + 15 * M)] == ["yellow"]


def test_alerts_after_a_take_over_go_to_the_new_owner():
    board = DeadlineBoard(default_policy())
    board.apply(started())
    board.due(T + 6 * M)
    board.apply(ClockReassigned("R1", "m1", "s2", "pre_sales"))
    [yellow] = board.due(T + 10 * M)
    assert yellow.owner_id == "s2" and yellow.level == "yellow"


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor, action, owner, allowed", [
    (MANAGER, Action.REASSIGN, "s2", True),
    (MANAGER, Action.DECIDE, None, True),
    (REP1, Action.CANCEL, "s1", True),
    (REP1, Action.CANCEL, "s2", False),
    (REP1, Action.SNOOZE, "s2", False),
    (REP1, Action.PROPOSE, "s1", True),
    (REP1, Action.PROPOSE, "s2", False),
    (REP1, Action.DECIDE, "s1", False),
    (REP1, Action.REASSIGN, "s1", False),
    (REP1, Action.TAKE_OVER, None, True),  # an unassigned room: somebody has to pick it up
    (REP1, Action.TAKE_OVER, "s2", False),
    (REP1, Action.VIEW, "s2", False),
    (REP1, Action.VIEW, None, True),
    (VIEWER, Action.VIEW, "s2", True),
    (VIEWER, Action.CANCEL, "s2", False),
])
def test_who_may_do_what(actor, action, owner, allowed):
    if allowed:
        check(actor, action, owner)
    else:
        with pytest.raises(Refused) as e:
            check(actor, action, owner)
        assert refusal_text(e.value, "zh") and refusal_text(e.value, "en") and e.value.status == 403
    if action is Action.VIEW:
        assert can_view_room(actor, owner) == allowed


@pytest.mark.parametrize("stage, to_stage, to_owner, pending, reason", [
    (Stage.PRE_SALES, Stage.AFTER_SALES, "a1", True, "已有待核准"),
    (Stage.PRE_SALES, Stage.PRE_SALES, "s1", False, "已处于该阶段"),
    (Stage.AFTER_SALES, Stage.PRE_SALES, "s1", False, "不能退回售前"),
    (Stage.PRE_SALES, Stage.AFTER_SALES, None, False, "新的售后负责人"),
    (Stage.PRE_SALES, Stage.AFTER_SALES, "s2", False, "不是售后人员"),
    (Stage.PRE_SALES, Stage.AFTER_SALES, "nobody", False, "花名册中没有"),
])
def test_impossible_stage_changes_are_refused_with_the_reason(stage, to_stage, to_owner, pending, reason):
    with pytest.raises(Refused) as e:
        check_proposal(ROSTER, stage, "s1", to_stage, to_owner, pending)
    assert reason in refusal_text(e.value, "zh")


def test_a_refusal_is_said_with_its_facts_in_both_languages():
    with pytest.raises(Refused) as e:
        check_owner(ROSTER, "s2", Stage.AFTER_SALES)
    assert e.value.code is Refusal.WRONG_ROLE and e.value.status == 422
    assert refusal_text(e.value, "zh") == "曾路 不是售后人员，不能负责售后群"
    assert refusal_text(e.value, "en") == "曾路 is not after_sales staff and cannot own a after_sales room"
    with pytest.raises(Refused) as e:
        check_owner(ROSTER, "nobody", Stage.PRE_SALES)
    assert refusal_text(e.value, "en") == "no staff member 'nobody' on the roster"
    for code in Refusal:  # every code has words in both languages, well-formed templates over its facts
        zh, en = REFUSALS[code]
        facts = {name: "x" for _, name, _, _ in Formatter().parse(zh + en) if name and name != "stage_zh"}
        assert refusal_text(Refused(code, **facts), "zh") and refusal_text(Refused(code, **facts), "en")


def test_a_hand_over_to_after_sales_staff_is_fine():
    check_proposal(ROSTER, Stage.PRE_SALES, "s1", Stage.AFTER_SALES, "a1", pending=False)
    check_owner(ROSTER, "a1", Stage.AFTER_SALES)


def test_only_staff_who_fit_the_stage_take_a_room_over():
    take_over_stage_fits(ROSTER, "s1", Stage.PRE_SALES)
    take_over_stage_fits(ROSTER, "m1", Stage.AFTER_SALES)  # a manager may step in anywhere
    for staff_id, stage in (("a1", Stage.PRE_SALES), ("e1", Stage.PRE_SALES), (None, Stage.PRE_SALES)):
        with pytest.raises(Refused):
            take_over_stage_fits(ROSTER, staff_id, stage)
