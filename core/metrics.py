"""The seed's three views (per sales, per room, per episode) computed from episodes and counts."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from sales_assistant.core.room import EndedBy, Episode
from sales_assistant.core.roster import RoomInfo, Roster, Speaker
from sales_assistant.core.timeutil import day_of, hour_of, iso

DEFAULT_THRESHOLD_MINUTES = 2.0


@dataclass(slots=True)
class _Tally:
    episodes: int = 0
    over_threshold: int = 0
    reply_ms_sum: int = 0  # whole milliseconds: the sum, and so the average, is the same in any order
    cancelled: int = 0
    open: int = 0
    counts: dict[Speaker, int] = field(default_factory=lambda: defaultdict(int))

    def add_episode(self, ep: Episode, threshold: float) -> None:
        if ep.ended_by is EndedBy.REPLY:
            minutes = ep.reply_minutes or 0.0
            self.episodes += 1
            self.reply_ms_sum += ep.ended_at - ep.started_at if ep.ended_at is not None else 0
            self.over_threshold += minutes > threshold
        elif ep.ended_by is EndedBy.CANCELLED:
            self.cancelled += 1  # cancelled waits stay out of the averages
        else:
            self.open += 1

    def row(self) -> dict:
        avg = self.reply_ms_sum / self.episodes / 60_000 if self.episodes else 0.0
        return {"episodes": self.episodes, "over_threshold": self.over_threshold,
                "avg_reply_minutes": round(avg, 2), "total_messages": sum(self.counts.values()),
                "cancelled_episodes": self.cancelled, "open_episodes": self.open}


def quality(checks: dict[tuple[str, str, str], int], scope: str, ident: str) -> dict:
    """Flagged messages per 100 checked: the quality figure of a rep (what they wrote) or a room."""
    checked = checks.get((scope, ident, "checked"), 0)
    flagged = checks.get((scope, ident, "flagged"), 0)
    return {"checked_messages": checked, "flagged_messages": flagged,
            "flagged_per_100": round(100 * flagged / checked, 1) if checked else None}


def compute(
    episodes: list[Episode],
    counts: dict[tuple[str, Speaker], int],
    rooms: dict[str, RoomInfo],
    roster: Roster,
    threshold_minutes: float = DEFAULT_THRESHOLD_MINUTES,
    *,
    tz: str,
    checks: dict[tuple[str, str, str], int] | None = None,
) -> dict[str, list[dict]]:
    """`episodes`: those started in the period (open ones included); `counts`: messages per room
    and speaker in the period; `rooms`: every known room as it stands now; `checks`: the NLP
    checks of staff messages, (scope, id, "checked"|"flagged") -> count."""
    checks = checks or {}
    by_room: dict[str, _Tally] = defaultdict(_Tally)
    by_sales: dict[str, _Tally] = defaultdict(_Tally)
    for ep in episodes:
        by_room[ep.room_id].add_episode(ep, threshold_minutes)
        if ep.owner_id:
            by_sales[ep.owner_id].add_episode(ep, threshold_minutes)
    for (room_id, speaker), n in counts.items():
        by_room[room_id].counts[speaker] += n
        owner = rooms[room_id].owner if room_id in rooms else None
        if owner:
            by_sales[owner].counts[speaker] += n

    sales_rows = [
        {"staff_id": s.id, "name": s.name, "role": s.role.value, **by_sales[s.id].row(),
         **quality(checks, "staff", s.id)}
        for s in sorted(roster.owners(), key=lambda s: s.id)
    ]
    room_rows = []
    for room_id in sorted(set(rooms) | set(by_room)):
        info = rooms.get(room_id) or RoomInfo(room_id)
        tally = by_room[room_id]
        room_rows.append({
            "room_id": room_id, "topic": info.topic, "owner_id": info.owner,
            "owner_name": roster.name_of(info.owner) if info.owner else None,
            "stage": info.stage.value, "unassigned": info.owner is None, **tally.row(),
            "sales_messages": tally.counts[Speaker.OWNER], "employee_messages": tally.counts[Speaker.EMPLOYEE],
            "customer_messages": tally.counts[Speaker.CUSTOMER], "bot_messages": tally.counts[Speaker.BOT],
            **quality(checks, "room", room_id),
        })
    in_order = sorted(episodes, key=lambda e: (e.started_at, e.room_id))
    episode_rows = [episode_row(ep, rooms, roster, tz) for ep in in_order]
    return {"sales": sales_rows, "rooms": room_rows, "episodes": episode_rows}


def episode_row(ep: Episode, rooms: dict[str, RoomInfo], roster: Roster, tz: str) -> dict:
    info = rooms.get(ep.room_id)
    minutes = ep.reply_minutes
    return {
        "episode_id": ep.episode_id, "room_id": ep.room_id, "topic": info.topic if info else "",
        "owner_id": ep.owner_id, "owner_name": roster.name_of(ep.owner_id) if ep.owner_id else None,
        "customer_id": ep.customer_id, "customer_name": ep.customer_name,
        "customer_message": ep.customer_text, "customer_at": iso(ep.started_at, tz),
        "reply_message": ep.reply_text, "replier_id": ep.replier_id,
        "reply_at": iso(ep.ended_at, tz) if ep.ended_by is EndedBy.REPLY and ep.ended_at else None,
        "reply_minutes": round(minutes, 2) if minutes is not None and ep.ended_by is EndedBy.REPLY else None,
        "ended_by": ep.ended_by.value, "cancelled_by": ep.cancelled_by,
    }


STAFF_SPEAKERS = (Speaker.OWNER, Speaker.EMPLOYEE)


def by_hour(episodes: list[Episode], hourly: dict[tuple[int, Speaker], int], tz: str) -> list[dict]:
    """Per local hour of day: the team's average reply time (by the hour the customer wrote) and
    how many messages the team and the customers sent in that hour."""
    minutes: dict[int, list[float]] = defaultdict(list)
    for ep in episodes:
        if ep.ended_by is EndedBy.REPLY and ep.reply_minutes is not None:
            minutes[hour_of(ep.started_at, tz)].append(ep.reply_minutes)
    return [{"hour": h, "replies": len(minutes[h]),
             "avg_reply_minutes": round(math.fsum(minutes[h]) / len(minutes[h]), 2) if minutes[h] else None,
             "team_messages": sum(hourly.get((h, s), 0) for s in STAFF_SPEAKERS),
             "customer_messages": hourly.get((h, Speaker.CUSTOMER), 0)} for h in range(24)]


def over_threshold_by_day(episodes: list[Episode], threshold_minutes: float, tz: str) -> list[dict]:
    """Per business day the customer wrote: answered waits, and how many of them took too long."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ep in episodes:
        if ep.ended_by is EndedBy.REPLY and ep.reply_minutes is not None:
            row = tally[day_of(ep.started_at, tz)]
            row[0] += 1
            row[1] += ep.reply_minutes > threshold_minutes
    return [{"day": day, "episodes": n, "over_threshold": over} for day, (n, over) in sorted(tally.items())]


def leaderboard(sales_rows: list[dict], min_episodes: int = 1) -> list[dict]:
    """Reps with answered waits, fastest average first; ties: fewer late answers, more answers."""
    ranked = [r for r in sales_rows if r["episodes"] >= min_episodes]
    ranked.sort(key=lambda r: (r["avg_reply_minutes"], r["over_threshold"], -r["episodes"], r["staff_id"]))
    return [{"rank": i + 1, **r} for i, r in enumerate(ranked)]


def longest_waits(episodes: list[Episode], now_ms: int, limit: int = 10) -> list[dict]:
    """The waits that lasted longest (open ones counted up to now)."""
    def waited(ep: Episode) -> float:
        end = ep.ended_at if ep.ended_at is not None else now_ms
        return (end - ep.started_at) / 60_000
    top = sorted((ep for ep in episodes if ep.ended_by is not EndedBy.CANCELLED), key=waited, reverse=True)[:limit]
    return [{"room_id": ep.room_id, "owner_id": ep.owner_id, "customer_name": ep.customer_name,
             "customer_message": ep.customer_text, "started_at": ep.started_at,
             "waited_minutes": round(waited(ep), 1), "open": ep.ended_by is EndedBy.OPEN} for ep in top]
