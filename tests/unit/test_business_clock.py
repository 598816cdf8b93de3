"""The deadline board on `clock: business` stages: thresholds counted inside the owner's team calendar."""
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sales_assistant.config.policy_file import PolicyFile
from sales_assistant.config.settings import DEFAULT_POLICY
from sales_assistant.core.room import Clock, ClockSnoozed, ClockStarted, ClockStopped, EndedBy, Episode
from sales_assistant.core.roster import Stage
from sales_assistant.core.timeutil import iso, parse_iso
from sales_assistant.policies.deadlines import DeadlineBoard

SH, M = "Asia/Shanghai", 60_000
WORKDAY = ["09:00-12:00", "13:30-18:30"]
CALENDAR = {"timezone": SH, "holidays": "cn",
            "week": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [],
                     "sun": []}}


def policy(**calendars):
    """The shipped ladder (5, 10, 20, 30, 40, then every 10 until 1000 minutes): business for pre-sales."""
    doc = yaml.safe_load(DEFAULT_POLICY.read_text())
    doc["calendars"] = {"default": CALENDAR, **calendars}
    doc["pre_sales"] = {**doc["pre_sales"], "clock": "business"}
    doc["after_sales"] = {**doc["after_sales"], "clock": "wall"}
    return PolicyFile.model_validate(doc).to_policy()


POLICY = policy()


def at(text):
    return parse_iso(text, SH)


def started(when, room="R1", stage=Stage.PRE_SALES, owner="s1"):
    return ClockStarted(room, Clock("m1", at(when), "c1", "客户", "价格？", "价格？"), stage, owner, "网易严选")


def stopped(start, end, room="R1", stage=Stage.PRE_SALES):
    return ClockStopped(Episode(room, "m1", "s1", stage, "c1", "客户", "价格？", at(start), EndedBy.REPLY, at(end)))


def fired(alerts):
    return [(a.level, iso(a.at, SH)[:16], a.business_minutes) for a in alerts]


def test_friday_evening_climbs_until_closing_and_goes_on_monday_at_nine():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-11-20T17:58"))
    assert fired(board.due(at("2026-11-23T08:59"))) == [
        ("green", "2026-11-20T18:03", 5), ("yellow", "2026-11-20T18:08", 10), ("orange", "2026-11-20T18:18", 20),
        ("red", "2026-11-20T18:28", 30)]  # nothing over the weekend
    assert fired(board.due(at("2026-11-23T09:20"))) == [("purple", "2026-11-23T09:08", 40),
                                                         ("grey", "2026-11-23T09:18", 50)]


def test_a_make_up_saturday_is_the_next_workday():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-02-13T17:58"))
    assert fired(board.due(at("2026-02-14T09:09")))[-1] == ("purple", "2026-02-14T09:08", 40)


def test_a_question_in_the_lunch_break_counts_from_half_past_one():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-11-20T12:10"))
    assert board.next_deadline() == at("2026-11-20T13:35")
    assert fired(board.apply(stopped("2026-11-20T12:10", "2026-11-20T13:40"))) == [("green", "2026-11-20T13:35", 5)]


def test_an_after_hours_question_answered_before_opening_alerts_nobody():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-11-24T22:00"))
    assert board.next_deadline() == at("2026-11-25T09:05")
    assert board.due(at("2026-11-25T08:30")) == []
    assert board.apply(stopped("2026-11-24T22:00", "2026-11-25T08:30")) == []
    assert board.due(at("2026-11-30T00:00")) == [] and board.next_deadline() is None


def test_a_wall_stage_beside_a_business_one():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-11-20T22:00", room="R1"))
    board.apply(started("2026-11-20T22:00", room="R2", stage=Stage.AFTER_SALES))
    alerts = board.due(at("2026-11-20T22:11"))
    assert [(a.room_id, a.level, iso(a.at, SH)[11:16], a.business_minutes) for a in alerts] == [
        ("R2", "green", "22:05", None), ("R2", "yellow", "22:10", None)]


def test_a_snooze_that_ends_at_night_wakes_with_the_team():
    board = DeadlineBoard(POLICY)
    board.apply(started("2026-11-20T17:00"))
    board.apply(ClockSnoozed("R1", "m1", at("2026-11-20T20:00"), at("2026-11-20T17:01")))
    assert board.next_deadline() == at("2026-11-23T09:00")
    # the snooze held every step up to then: one reminder, at the level the wait has reached (90 business min)
    assert fired(board.due(at("2026-11-23T09:00"))) == [("grey", "2026-11-23T09:00", 90)]


def test_a_room_counts_in_its_owner_team_calendar_and_follows_a_team_change():
    teams = {"s1": "east"}
    p = policy(east={**CALENDAR, "timezone": "Europe/Berlin", "holidays": "none"})
    board = DeadlineBoard(p, team_of=lambda owner: teams.get(owner))
    board.apply(started("2026-11-20T20:00"))  # 13:00 in Berlin: open at 13:30 there
    assert board.next_deadline() == at("2026-11-20T20:35")
    teams["s1"] = "default"
    board.reschedule()
    assert board.next_deadline() == at("2026-11-23T09:05")
    assert fired(board.due(at("2026-11-23T09:05"))) == [("green", "2026-11-23T09:05", 5)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 14 * 24 * 60), st.lists(st.integers(1, 3 * 24 * 60), min_size=1, max_size=8))
def test_business_alerts_fire_only_in_hours_and_do_not_depend_on_when_the_board_is_asked(offset, steps):
    start = at("2026-11-16T00:00") + offset * M
    one, other = DeadlineBoard(POLICY), DeadlineBoard(POLICY)
    for board in (one, other):
        board.apply(ClockStarted("R1", Clock("m1", start, "c1", None, "在吗", "在吗"), Stage.PRE_SALES, "s1", ""))
    end = start + 30 * 24 * 60 * M
    stepwise, now = [], start
    for step in steps:
        now += step * M
        stepwise += one.due(now)
    stepwise += one.due(end)
    at_once = other.due(end)
    assert [a.alert_id for a in stepwise] == [a.alert_id for a in at_once]
    assert [a.at for a in stepwise] == [a.at for a in at_once]
    calendar = POLICY.calendar_of(None)
    assert all(calendar.is_open(a.at) for a in at_once)
    assert [a.business_minutes for a in at_once] == [5, 10, 20, 30, 40, *range(50, 1001, 10)]
