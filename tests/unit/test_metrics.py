from sales_assistant.config.calendars import CalendarEntry
from sales_assistant.core.metrics import business_reply_ms, by_hour, compute, over_threshold_by_day
from sales_assistant.core.room import EndedBy, Episode
from sales_assistant.core.roster import Role, RoomInfo, Roster, Speaker, Staff, Stage

T, M = 1_763_600_000_000, 60_000
TZ = "Asia/Shanghai"  # the business zone the seed runs in
ROSTER = Roster(
    staff={"s1": Staff("s1", "董森", Role.SALES), "s2": Staff("s2", "宗强", Role.SALES),
           "e1": Staff("e1", "佳芮", Role.EMPLOYEE)},
    rooms={"R1": RoomInfo("R1", "网易严选", "s1", Stage.PRE_SALES),
           "R2": RoomInfo("R2", "流利说", "s1", Stage.AFTER_SALES)},
)
ROOMS = {**ROSTER.rooms, "R3": RoomInfo("R3", "无主群", None, Stage.PRE_SALES)}


def ep(room, minutes, by=EndedBy.REPLY, owner="s1", start=T):
    ended = None if by is EndedBy.OPEN else start + int(minutes * M)
    return Episode(room, f"m{room}{minutes}{by.value}", owner, "pre_sales", "c1", "客户", "问题", start, by, ended,
                   "r1" if by is EndedBy.REPLY else None, "回复" if by is EndedBy.REPLY else None)


def test_three_views():
    episodes = [ep("R1", 1.5), ep("R1", 3.0), ep("R2", 0.5), ep("R2", 40, EndedBy.CANCELLED), ep("R1", 0, EndedBy.OPEN),
                ep("R3", 10, owner=None)]
    counts = {("R1", Speaker.CUSTOMER): 5, ("R1", Speaker.OWNER): 3, ("R1", Speaker.EMPLOYEE): 1,
              ("R2", Speaker.CUSTOMER): 2, ("R2", Speaker.BOT): 4, ("R3", Speaker.CUSTOMER): 1}
    views = compute(episodes, counts, ROOMS, ROSTER, threshold_minutes=2, tz=TZ)
    sales = {row["staff_id"]: row for row in views["sales"]}
    assert sales["s1"] == {"staff_id": "s1", "name": "董森", "role": "sales", "episodes": 3, "over_threshold": 1,
                           "avg_reply_minutes": 1.67, "avg_reply_clock": "wall", "avg_wall_reply_minutes": 1.67,
                           "total_messages": 15, "cancelled_episodes": 1, "open_episodes": 1,
                           "checked_messages": 0, "flagged_messages": 0, "flagged_per_100": None}
    assert sales["s2"]["episodes"] == 0 and sales["s2"]["avg_reply_minutes"] == 0.0
    assert "e1" not in sales  # employees answer but own no rooms
    rooms = {row["room_id"]: row for row in views["rooms"]}
    assert rooms["R1"]["sales_messages"] == 3 and rooms["R1"]["employee_messages"] == 1
    assert rooms["R1"]["customer_messages"] == 5 and rooms["R1"]["total_messages"] == 9
    assert rooms["R2"]["avg_reply_minutes"] == 0.5 and rooms["R2"]["total_messages"] == 6
    assert rooms["R3"]["unassigned"] and rooms["R3"]["over_threshold"] == 1
    ended = [row["ended_by"] for row in views["episodes"]]
    assert sorted(ended) == ["cancelled", "open", "reply", "reply", "reply", "reply"]
    cancelled = next(r for r in views["episodes"] if r["ended_by"] == "cancelled")
    assert cancelled["reply_minutes"] is None
    assert next(r for r in views["episodes"] if r["reply_minutes"] == 1.5)["customer_at"].endswith("+08:00")


def test_threshold_is_configurable():
    views = compute([ep("R1", 3.0)], {}, ROOMS, ROSTER, threshold_minutes=5, tz=TZ)
    assert views["sales"][0]["over_threshold"] == 0


def test_quality_figure_per_rep_and_room():
    checks = {("staff", "s1", "checked"): 40, ("staff", "s1", "flagged"): 3, ("room", "R1", "checked"): 50,
              ("room", "R1", "flagged"): 5}
    views = compute([], {}, ROOMS, ROSTER, tz=TZ, checks=checks)
    s1 = next(r for r in views["sales"] if r["staff_id"] == "s1")
    assert (s1["checked_messages"], s1["flagged_messages"], s1["flagged_per_100"]) == (40, 3, 7.5)
    r1 = next(r for r in views["rooms"] if r["room_id"] == "R1")
    assert r1["flagged_per_100"] == 10.0
    assert next(r for r in views["rooms"] if r["room_id"] == "R2")["flagged_per_100"] is None


WORKDAY = ["09:00-12:00", "13:30-18:30"]
SHANGHAI = CalendarEntry.model_validate({"timezone": TZ, "holidays": "cn", "week": {
    "mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [], "sun": []}}).to_calendar()


def test_business_reply_time_beside_the_wall_one():
    """A question at Friday 18:20, answered Monday 09:05: 3 days of wall time, 15 business minutes."""
    friday = 1_795_170_000_000  # 2026-11-20 18:20 +08:00
    late = ep("R1", (2 * 24 * 60) + 14 * 60 + 45, start=friday)  # Monday 09:05
    quick = ep("R2", 1.0, owner="s1", start=friday - 8 * 60 * M)  # a wall-clock wait of the same rep
    business = business_reply_ms([late, quick], lambda e: SHANGHAI if e.room_id == "R1" else None)
    assert business == {late.episode_id: 15 * M}
    views = compute([late, quick], {}, ROOMS, ROSTER, threshold_minutes=2, tz=TZ, business=business)
    rows = {r["room_id"]: r for r in views["episodes"]}
    assert (rows["R1"]["reply_minutes"], rows["R1"]["business_reply_minutes"]) == (3765.0, 15.0)
    assert (rows["R2"]["reply_minutes"], rows["R2"]["business_reply_minutes"]) == (1.0, None)
    rooms = {r["room_id"]: r for r in views["rooms"]}
    assert (rooms["R1"]["avg_reply_minutes"], rooms["R1"]["avg_reply_clock"]) == (15.0, "business")
    assert rooms["R1"]["avg_wall_reply_minutes"] == 3765.0 and rooms["R1"]["over_threshold"] == 1
    assert (rooms["R2"]["avg_reply_minutes"], rooms["R2"]["avg_reply_clock"]) == (1.0, "wall")
    s1 = next(r for r in views["sales"] if r["staff_id"] == "s1")
    assert (s1["avg_reply_minutes"], s1["avg_reply_clock"], s1["avg_wall_reply_minutes"]) == (8.0, "mixed", 1883.0)
    hours = {h["hour"]: h for h in by_hour([late, quick], {}, TZ, business)}
    assert hours[18]["avg_reply_minutes"] == 15.0 and hours[10]["avg_reply_minutes"] == 1.0
    assert over_threshold_by_day([late], 20, TZ, business) == [{"day": "2026-11-20", "episodes": 1,
                                                                "over_threshold": 0}]
    assert over_threshold_by_day([late], 20, TZ) == [{"day": "2026-11-20", "episodes": 1, "over_threshold": 1}]
