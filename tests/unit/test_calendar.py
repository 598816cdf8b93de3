"""Business calendars: the arithmetic (property-based), China's holidays, DST, and the file's checks."""
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sales_assistant.config.calendars import CalendarEntry
from sales_assistant.config.policy_file import PolicyFile, check_teams
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.calendar import WALL
from sales_assistant.core.timeutil import iso, parse_iso

M = 60_000
SH, BERLIN = "Asia/Shanghai", "Europe/Berlin"
WORKDAY = ["09:00-12:00", "13:30-18:30"]
WEEK = {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [], "sun": []}
LADDER = {"steps": [{"after_minutes": 5, "level": "green", "targets": ["private"]}]}


def calendar(tz=SH, week=None, holidays="cn", dates=None):
    return CalendarEntry.model_validate({"timezone": tz, "week": week or WEEK, "holidays": holidays,
                                         "dates": dates or {}}).to_calendar()


SHANGHAI = calendar()
# Sunday's range straddles both of 2026's clock changes (Mar 29 02:00 -> 03:00, Oct 25 03:00 -> 02:00).
BERLIN_CAL = calendar(BERLIN, {**WEEK, "sat": ["10:00-10:30"], "sun": ["01:00-04:00", "22:00-24:00"]}, "none",
                      {"2026-12-24": ["09:00-15:00"], "2026-12-25": []})
CALENDARS = {"Asia/Shanghai (cn)": SHANGHAI, "Europe/Berlin (DST)": BERLIN_CAL}

FROM, TO = parse_iso("2025-12-01T00:00", SH), parse_iso("2027-03-01T00:00", SH)
moments = st.integers(FROM, TO)
which = st.sampled_from(sorted(CALENDARS))


def at(text, tz=SH):
    return parse_iso(text, tz)


# --- the arithmetic's laws -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(which, moments, moments, moments)
def test_elapsed_is_additive(name, x, y, z):
    a, b, c = sorted((x, y, z))
    cal = CALENDARS[name]
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert 0 <= cal.elapsed(a, c) <= c - a
    assert cal.elapsed(c, a) == 0


@settings(max_examples=300, deadline=None)
@given(which, moments, moments)
def test_add_inverts_elapsed_at_every_open_instant(name, x, y):
    """u open and u >= t: the business time from t to u, added to t, lands on u again."""
    cal = CALENDARS[name]
    t, u = sorted((x, y))
    u = cal.next_open(u)  # an open instant at or after y
    assert cal.is_open(u)
    assert cal.add(t, cal.elapsed(t, u)) == u


@settings(max_examples=300, deadline=None)
@given(which, moments, st.integers(0, 90 * 24 * 60 * M))
def test_add_lands_open_after_exactly_that_much_business_time(name, t, n):
    cal = CALENDARS[name]
    u = cal.add(t, n)
    assert u >= t and cal.is_open(u) and cal.elapsed(t, u) == n
    # and it is the first such instant: a millisecond earlier, less had passed or it was closed
    assert cal.elapsed(t, u - 1) < n or not cal.is_open(u - 1) or u == t


@settings(max_examples=200, deadline=None)
@given(which, moments)
def test_next_open_is_the_first_open_instant(name, t):
    cal = CALENDARS[name]
    u = cal.next_open(t)
    assert u >= t and cal.is_open(u) and cal.elapsed(t, u) == 0
    assert cal.is_open(t) == (u == t)


@given(moments, moments, st.integers(0, 10**9))
def test_the_wall_counts_every_millisecond(a, b, n):
    assert WALL.elapsed(a, b) == max(0, b - a) and WALL.add(a, n) == a + n
    assert WALL.is_open(a) and WALL.next_open(a) == a


# --- hours, holidays, DST --------------------------------------------------------------------------


def test_several_ranges_a_day_and_a_lunch_break():
    assert not SHANGHAI.is_open(at("2026-11-20T12:30")) and SHANGHAI.is_open(at("2026-11-20T13:30"))
    assert SHANGHAI.next_open(at("2026-11-20T12:10")) == at("2026-11-20T13:30")
    assert SHANGHAI.add(at("2026-11-20T12:10"), 5 * M) == at("2026-11-20T13:35")
    assert SHANGHAI.elapsed(at("2026-11-20T11:00"), at("2026-11-20T14:00")) == 90 * M


def test_a_threshold_met_exactly_at_closing_is_due_at_the_next_opening():
    friday = at("2026-11-20T18:25")
    assert SHANGHAI.add(friday, 4 * M) == at("2026-11-20T18:29")
    assert SHANGHAI.add(friday, 5 * M) == at("2026-11-23T09:00")  # Monday
    assert not SHANGHAI.is_open(at("2026-11-20T18:30"))


def test_spring_festival_2026_make_up_saturday_and_nine_days_off():
    friday = at("2026-02-13T17:58")
    assert SHANGHAI.add(friday, 5 * M) == at("2026-02-13T18:03")
    assert SHANGHAI.add(friday, 40 * M) == at("2026-02-14T09:08")  # Saturday the 14th is a 调休 workday
    for day in range(15, 24):
        assert SHANGHAI.ranges_on(date(2026, 2, day)) == ()
    assert SHANGHAI.next_open(at("2026-02-14T18:30")) == at("2026-02-24T09:00")
    assert SHANGHAI.elapsed(friday, at("2026-02-24T09:00")) == (32 + 480) * M


def test_national_day_and_its_make_up_workdays_2026():
    assert SHANGHAI.ranges_on(date(2026, 10, 1)) == ()
    assert SHANGHAI.ranges_on(date(2026, 10, 10)) == SHANGHAI.workday_hours  # a Saturday worked


def test_a_year_without_holiday_data_counts_its_week_and_is_warned_of_from_december():
    new_year = date(2027, 1, 1)  # a Friday: a statutory day off the package does not know yet
    assert SHANGHAI.ranges_on(new_year) == SHANGHAI.week[4]
    assert SHANGHAI.missing_years(date(2026, 11, 30)) == []
    assert SHANGHAI.missing_years(date(2026, 12, 5)) == [2027]
    assert SHANGHAI.missing_years(date(2027, 6, 1)) == [2027]
    given_2027 = calendar(dates={"2027-01-01": []})
    assert given_2027.missing_years(date(2026, 12, 5)) == [] and given_2027.ranges_on(new_year) == ()
    assert calendar(holidays="none").missing_years(date(2026, 12, 5)) == []


def test_date_overrides_win():
    assert BERLIN_CAL.ranges_on(date(2026, 12, 24)) == ((540, 900),)
    assert BERLIN_CAL.ranges_on(date(2026, 12, 25)) == ()
    assert BERLIN_CAL.next_open(at("2026-12-24T16:00", BERLIN)) == at("2026-12-26T10:00", BERLIN)


def test_berlin_keeps_local_hours_across_daylight_saving():
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)  # Sundays: 01:00-04:00 local
    def sunday_ms(day):
        return BERLIN_CAL.elapsed(at(f"{day}T00:00", BERLIN), at(f"{day}T12:00", BERLIN))
    assert sunday_ms(spring) == 2 * 60 * M  # 02:00-03:00 does not exist
    assert sunday_ms(autumn) == 4 * 60 * M  # 02:00-03:00 happens twice
    assert sunday_ms(date(2026, 11, 1)) == 3 * 60 * M
    assert iso(BERLIN_CAL.add(at("2026-03-29T01:30", BERLIN), 60 * M), BERLIN) == "2026-03-29T03:30:00+02:00"
    assert BERLIN_CAL.is_open(at("2026-11-29T23:59", BERLIN))  # a range may end at 24:00


def test_long_spans_walk_days_not_minutes():
    t = at("2026-01-05T09:00")
    far = SHANGHAI.add(t, 1_000_000 * M)  # the longest ladder the file allows, in business minutes
    assert SHANGHAI.elapsed(t, far) == 1_000_000 * M and SHANGHAI.is_open(far)
    assert far > at("2032-01-01T00:00")


# --- the file's checks ---------------------------------------------------------------------------


def policy(calendars, **pre):
    return {"calendars": calendars, "pre_sales": {**LADDER, **pre}, "after_sales": LADDER}


GOOD = {"timezone": SH, "week": WEEK, "holidays": "cn"}


@pytest.mark.parametrize("bad, field, words", [
    ({**GOOD, "week": {**WEEK, "mon": ["09:00-12:00", "11:00-13:00"]}}, "calendars.default.week.mon", "overlap"),
    ({**GOOD, "week": {**WEEK, "tue": ["09:00-25:00"]}}, "calendars.default.week.tue", "25:00"),
    ({**GOOD, "week": {**WEEK, "tue": ["9-17"]}}, "calendars.default.week.tue", "HH:MM-HH:MM"),
    ({**GOOD, "week": {**WEEK, "tue": ["18:00-09:00"]}}, "calendars.default.week.tue", "end after"),
    ({**GOOD, "week": {**WEEK, "fry": ["09:00-12:00"]}}, "calendars.default.week.fry", "Extra inputs"),
    ({**GOOD, "timezone": "Asia/Beijing"}, "calendars.default.timezone", "unknown time zone"),
    ({**GOOD, "holidays": "us"}, "calendars.default.holidays", "cn"),
    ({**GOOD, "dates": {"2026-02-30": []}}, "calendars.default.dates", "date"),
    ({**GOOD, "dates": {"2026-12-24": ["14:00-13:00"]}}, "calendars.default.dates.2026-12-24", "end after"),
    ({**GOOD, "week": dict.fromkeys(WEEK, [])}, "calendars.default.week", "no opening hours"),
    ({**GOOD, "week": {k: v for k, v in WEEK.items() if k != "fri"}}, "calendars.default.week.fri", "Field required"),
    ({k: v for k, v in GOOD.items() if k != "holidays"}, "calendars.default.holidays", "Field required"),
])
def test_bad_calendars_are_refused_naming_the_field(bad, field, words):
    with pytest.raises(ValidationError) as e:
        PolicyFile.model_validate(policy({"default": bad}))
    locs = [".".join(str(p) for p in err["loc"]) for err in e.value.errors()]
    assert any(loc.startswith(field) for loc in locs), locs
    assert words in str(e.value)


def test_business_clock_needs_a_default_calendar():
    with pytest.raises(ValidationError, match="pre_sales.clock: business needs a calendars"):
        PolicyFile.model_validate(policy({}, clock="business"))
    with pytest.raises(ValidationError, match="calendars.default: missing"):
        PolicyFile.model_validate(policy({"east": GOOD}))
    with pytest.raises(ValidationError, match="clock"):
        PolicyFile.model_validate(policy({"default": GOOD}, clock="weekdays"))


def test_a_calendar_for_a_team_nobody_is_in_is_refused():
    roster = RosterFile.model_validate({"staff": [{"id": "s1", "name": "董森", "role": "sales", "team": "east"},
                                                  {"id": "s2", "name": "荣生", "role": "sales"}]}).to_roster()
    good = PolicyFile.model_validate(policy({"default": GOOD, "east": {**GOOD, "timezone": BERLIN}})).to_policy()
    check_teams(good, roster, "policy.yaml")
    bad = PolicyFile.model_validate(policy({"default": GOOD, "eats": GOOD})).to_policy()
    with pytest.raises(ValueError, match=r"policy.yaml: calendars.eats: unknown team \(the roster's teams: "
                                         r"default, east\)"):
        check_teams(bad, roster, "policy.yaml")


def test_policy_clock_and_team_calendars():
    p = PolicyFile.model_validate(policy({"default": GOOD, "east": {**GOOD, "timezone": BERLIN}},
                                         clock="business", followup={"idle_days": 7})).to_policy()
    assert p.clock_of("after_sales", "east") is WALL
    assert p.clock_of("pre_sales", "east").timezone == BERLIN
    assert p.clock_of("pre_sales", "west").timezone == SH and p.clock_of("pre_sales", None).timezone == SH
    assert p.followup_days == {"pre_sales": 7} and p.counts_business
    with pytest.raises(ValidationError, match="idle_days"):
        PolicyFile.model_validate(policy({"default": GOOD}, followup={"idle_days": 0}))
