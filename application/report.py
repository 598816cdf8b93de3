"""The period report: the three metric views, the charts and the alert log of a range of business days.

Read through the ReportSource port and computed by core/metrics.py. The same report feeds the
dashboard's performance page, the API, the exports, the CLI's report file and the daily leaderboard
card; a rep asking sees only their own rows (`scope_of`). With the escalation policy at hand, the waits
of stages whose clock counts business time get their business reply time too, and the averages use it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sales_assistant.application.ports import ReportSource
from sales_assistant.core import metrics
from sales_assistant.core.calendar import Calendar
from sales_assistant.core.room import EndedBy, Episode
from sales_assistant.core.roster import Roster, Stage
from sales_assistant.core.timeutil import day_start, days, iso
from sales_assistant.policies.access import Actor, Refusal, Refused, UserRole
from sales_assistant.policies.escalation import ClockKind, Policy

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


def reply_clocks(policy: Policy | None) -> dict[str, str]:
    """stage -> the clock its reply times are counted in ("business" or "wall")."""
    return {stage.value: (policy.ladder(stage).clock.value if policy is not None else ClockKind.WALL.value)
            for stage in Stage}


def business_calendar_of(policy: Policy | None, roster: Roster) -> Callable[[Episode], Calendar | None]:
    """For core/metrics.py: the calendar an episode's reply time counts in, None where its stage counts wall time."""
    def calendar_of(ep: Episode) -> Calendar | None:
        if policy is None or policy.ladder(ep.stage).clock is not ClockKind.BUSINESS:
            return None
        member = roster.staff.get(ep.owner_id) if ep.owner_id else None
        return policy.calendar_of(member.team if member else None)
    return calendar_of


def build_report(source: ReportSource, first: date, last: date, tz: str, threshold_minutes: float,
                 now_ms: int | None = None, owner: str | None = None, policy: Policy | None = None) -> dict:
    """Episodes that started in [first, last] (business days in `tz`), open ones included, the
    messages of those days, and the alerts whose threshold was crossed in them; only `owner`'s
    rows when given. `policy`: which stages count business time (None: every reply time is wall time)."""
    period = days(first, last)
    start_ms = day_start(first, tz)
    end_ms = day_start(date.fromordinal(last.toordinal() + 1), tz)
    roster = source.roster()
    rooms = source.known_rooms(roster)
    episodes = source.episodes(period)
    episodes += [ep for room in rooms.values() if (ep := room.open_episode()) and start_ms <= ep.started_at < end_ms]
    infos = {rid: room.info() for rid, room in rooms.items()}
    business = metrics.business_reply_ms(episodes, business_calendar_of(policy, roster))
    views = metrics.compute(episodes, source.message_counts(period), infos, roster, threshold_minutes,
                            tz=tz, checks=source.quality(period), business=business)
    alerts = sorted(source.alerts(start_ms, end_ms), key=lambda a: (a["at"], a["room_id"], a["step"]))
    followups = sorted(source.followups(start_ms, end_ms), key=lambda f: (f["at"], f["room_id"]))
    hourly = source.hourly(period)
    findings = sorted(source.findings(period), key=lambda f: f["ts"], reverse=True)
    leaderboard = metrics.leaderboard(views["sales"])
    if owner is not None:  # a rep's own view: their rows, their waits; the team's hourly traffic is not theirs
        episodes = [ep for ep in episodes if ep.owner_id == owner]
        views = {"sales": [row for row in views["sales"] if row["staff_id"] == owner],
                 "rooms": [row for row in views["rooms"] if row["owner_id"] == owner],
                 "episodes": [row for row in views["episodes"] if row["owner_id"] == owner]}
        alerts = [a for a in alerts if a["owner_id"] == owner]
        followups = [f for f in followups if f["owner_id"] == owner]
        hourly = {}
        findings = [f for f in findings if f["sender_id"] == owner]
        leaderboard = [row for row in leaderboard if row["staff_id"] == owner]
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat(), "timezone": tz},
        "reply_clocks": reply_clocks(policy),
        "alerts": [alert_row(a, tz) for a in alerts],
        "followups": [followup_row(f, tz) for f in followups],
        **views,
        "open_clocks": sum(1 for ep in episodes if ep.ended_by is EndedBy.OPEN),
        "by_hour": metrics.by_hour(episodes, hourly, tz, business),
        "over_threshold_by_day": metrics.over_threshold_by_day(episodes, threshold_minutes, tz, business),
        "leaderboard": leaderboard,
        # each wait names its room by topic, as every other table does (the id where the room has none)
        "longest_waits": [{**w, "topic": infos[w["room_id"]].topic if w["room_id"] in infos else ""}
                          for w in metrics.longest_waits(episodes, min(end_ms, now_ms) if now_ms else end_ms)],
        "quality_examples": findings[:QUALITY_EXAMPLES],
    }


def followup_row(followup: dict, tz: str) -> dict:
    """A follow-up of an idle room as the report shows it: when it fired, and the message it counted from."""
    return {"room_id": followup["room_id"], "at": iso(followup["at"], tz),
            "last_message_at": iso(followup["last_message_at"], tz), "owner_id": followup["owner_id"]}


def alert_row(alert: dict, tz: str) -> dict:
    """An alert of the log as the report and the alerts feed show it: its moment as local ISO time; for an
    owner in a focus/away state, that state and who covered (`private_to`) or when a held alert went out."""
    row = {"alert_id": alert["alert_id"], "room_id": alert["room_id"], "topic": alert["topic"],
           "level": alert["level"], "waited_minutes": alert["waited_minutes"], "targets": alert["targets"],
           "owner_id": alert["owner_id"], "at": iso(alert["at"], tz),
           "business_minutes": alert.get("business_minutes")}
    if alert.get("presence"):
        row |= {"presence": alert["presence"], "private_to": alert.get("private_to")}
    if alert.get("released_at") is not None:
        row["released_at"] = iso(alert["released_at"], tz)
    return row
