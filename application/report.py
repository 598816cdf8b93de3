"""The period report: the three metric views, the charts and the alert log of a range of business days.

Read through the ReportSource port and computed by core/metrics.py. The same report feeds the
dashboard's performance page, the API, the exports, the CLI's report file and the daily leaderboard
card; a rep asking sees only their own rows (`scope_of`).
"""
from __future__ import annotations

from datetime import date

from sales_assistant.application.ports import ReportSource
from sales_assistant.core import metrics
from sales_assistant.core.room import EndedBy
from sales_assistant.core.timeutil import day_start, days, iso
from sales_assistant.policies.access import Actor, Refusal, Refused, UserRole

QUALITY_EXAMPLES = 50  # the latest flagged staff messages, with what to write instead
# The days a report may cover: the era of the timestamps the door accepts (connectors/wechaty.py), so the
# day after the last one is still a date and no period asks for data that cannot exist.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def check_days(**asked: date) -> None:
    """Refused (422, naming the query parameter) unless each day asked for is one a report can cover."""
    for name, day in asked.items():
        if not FIRST_DAY <= day <= LAST_DAY:
            raise Refused(Refusal.DAY_OUT_OF_RANGE, 422, field=name, first=FIRST_DAY.isoformat(),
                          last=LAST_DAY.isoformat())


def scope_of(actor: Actor) -> str | None:
    """The owner whose rows a person may see in a report: a rep their own (none if not linked to staff);
    None (everyone) for managers and viewers."""
    return (actor.staff_id or "") if actor.role is UserRole.SALES else None


def build_report(source: ReportSource, first: date, last: date, tz: str, threshold_minutes: float,
                 now_ms: int | None = None, owner: str | None = None) -> dict:
    """Episodes that started in [first, last] (business days in `tz`), open ones included, the
    messages of those days, and the alerts whose threshold was crossed in them; only `owner`'s
    rows when given."""
    period = days(first, last)
    start_ms = day_start(first, tz)
    end_ms = day_start(date.fromordinal(last.toordinal() + 1), tz)
    roster = source.roster()
    rooms = source.known_rooms(roster)
    episodes = source.episodes(period)
    episodes += [ep for room in rooms.values() if (ep := room.open_episode()) and start_ms <= ep.started_at < end_ms]
    views = metrics.compute(episodes, source.message_counts(period),
                            {rid: room.info() for rid, room in rooms.items()}, roster, threshold_minutes,
                            tz=tz, checks=source.quality(period))
    alerts = sorted(source.alerts(start_ms, end_ms), key=lambda a: (a["at"], a["room_id"], a["step"]))
    hourly = source.hourly(period)
    findings = sorted(source.findings(period), key=lambda f: f["ts"], reverse=True)
    leaderboard = metrics.leaderboard(views["sales"])
    if owner is not None:  # a rep's own view: their rows, their waits; the team's hourly traffic is not theirs
        episodes = [ep for ep in episodes if ep.owner_id == owner]
        views = {"sales": [row for row in views["sales"] if row["staff_id"] == owner],
                 "rooms": [row for row in views["rooms"] if row["owner_id"] == owner],
                 "episodes": [row for row in views["episodes"] if row["owner_id"] == owner]}
        alerts = [a for a in alerts if a["owner_id"] == owner]
        hourly = {}
        findings = [f for f in findings if f["sender_id"] == owner]
        leaderboard = [row for row in leaderboard if row["staff_id"] == owner]
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat(), "timezone": tz},
        "alerts": [alert_row(a, tz) for a in alerts],
        **views,
        "open_clocks": sum(1 for ep in episodes if ep.ended_by is EndedBy.OPEN),
        "by_hour": metrics.by_hour(episodes, hourly, tz),
        "over_threshold_by_day": metrics.over_threshold_by_day(episodes, threshold_minutes, tz),
        "leaderboard": leaderboard,
        "longest_waits": metrics.longest_waits(episodes, min(end_ms, now_ms) if now_ms else end_ms),
        "quality_examples": findings[:QUALITY_EXAMPLES],
    }


def alert_row(alert: dict, tz: str) -> dict:
    """An alert of the log as the report and the alerts feed show it: its moment as local ISO time."""
    return {"alert_id": alert["alert_id"], "room_id": alert["room_id"], "topic": alert["topic"],
            "level": alert["level"], "waited_minutes": alert["waited_minutes"], "targets": alert["targets"],
            "owner_id": alert["owner_id"], "at": iso(alert["at"], tz)}
