"""The seed's three views (per sales, per room, per episode) computed from episodes and counts.

An answered wait has a wall reply time, and for a stage whose clock counts business time also a business
reply time (the open minutes of the owner's calendar between question and answer). The averages and the
over-threshold counts use the time the stage's clock counts, and each row says which (`avg_reply_clock`).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sales_assistant.core.calendar import Calendar
from sales_assistant.core.room import EndedBy, Episode
from sales_assistant.core.roster import RoomInfo, Roster, Speaker
from sales_assistant.core.timeutil import day_of, hour_of, iso

DEFAULT_THRESHOLD_MINUTES = 2.0
WALL_CLOCK, BUSINESS_CLOCK, MIXED_CLOCKS = "wall", "business", "mixed"


def business_reply_ms(episodes: list[Episode], calendar_of: Callable[[Episode], Calendar | None]) -> dict[str, int]:
    """episode id -> business milliseconds from question to answer, for the answered waits whose stage
    counts business time (`calendar_of` gives their owner's calendar; None: the stage counts wall time)."""
    out = {}
    for ep in episodes:
        if ep.ended_by is EndedBy.REPLY and ep.ended_at is not None and (cal := calendar_of(ep)) is not None:
            out[ep.episode_id] = cal.elapsed(ep.started_at, ep.ended_at)
    return out


def _counted_ms(ep: Episode, business: Mapping[str, int]) -> int:
    """The reply time the stage's clock counts: business where it has one, else wall."""
    counted = business.get(ep.episode_id)
    return counted if counted is not None else (ep.ended_at or ep.started_at) - ep.started_at


@dataclass(slots=True)
class _Tally:
    episodes: int = 0
    over_threshold: int = 0
    reply_ms_sum: int = 0  # whole milliseconds: the sum, and so the average, is the same in any order
    wall_ms_sum: int = 0
    clocks: set[str] = field(default_factory=set)  # which clocks the counted reply times come from
    cancelled: int = 0
    open: int = 0
    counts: dict[Speaker, int] = field(default_factory=lambda: defaultdict(int))

    def add_episode(self, ep: Episode, threshold: float, business: Mapping[str, int]) -> None:
        if ep.ended_by is EndedBy.REPLY:
            counted = _counted_ms(ep, business)
            self.episodes += 1
            self.reply_ms_sum += counted
            self.wall_ms_sum += ep.ended_at - ep.started_at if ep.ended_at is not None else 0
            self.clocks.add(BUSINESS_CLOCK if ep.episode_id in business else WALL_CLOCK)
            self.over_threshold += counted / 60_000 > threshold
        elif ep.ended_by is EndedBy.CANCELLED:
            self.cancelled += 1  # cancelled waits stay out of the averages
        else:
            self.open += 1

    def row(self) -> dict:
        avg = self.reply_ms_sum / self.episodes / 60_000 if self.episodes else 0.0
        wall = self.wall_ms_sum / self.episodes / 60_000 if self.episodes else 0.0
        clock = MIXED_CLOCKS if len(self.clocks) > 1 else next(iter(self.clocks), WALL_CLOCK)
        return {"episodes": self.episodes, "over_threshold": self.over_threshold,
                "avg_reply_minutes": round(avg, 2), "avg_reply_clock": clock,
                "avg_wall_reply_minutes": round(wall, 2), "total_messages": sum(self.counts.values()),
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
    business: Mapping[str, int] | None = None,
) -> dict[str, list[dict]]:
    """`episodes`: those started in the period (open ones included); `counts`: messages per room
    and speaker in the period; `rooms`: every known room as it stands now; `checks`: the NLP
    checks of staff messages, (scope, id, "checked"|"flagged") -> count; `business`: the business
    reply times of waits whose stage counts business time (business_reply_ms)."""
    checks = checks or {}
    business = business or {}
    by_room: dict[str, _Tally] = defaultdict(_Tally)
    by_sales: dict[str, _Tally] = defaultdict(_Tally)
    for ep in episodes:
        by_room[ep.room_id].add_episode(ep, threshold_minutes, business)
        if ep.owner_id:
            by_sales[ep.owner_id].add_episode(ep, threshold_minutes, business)
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
    episode_rows = [episode_row(ep, rooms, roster, tz, business.get(ep.episode_id)) for ep in in_order]
    return {"sales": sales_rows, "rooms": room_rows, "episodes": episode_rows}


def episode_row(ep: Episode, rooms: dict[str, RoomInfo], roster: Roster, tz: str,
                business_ms: int | None = None) -> dict:
    info = rooms.get(ep.room_id)
    minutes = ep.reply_minutes
    answered = ep.ended_by is EndedBy.REPLY
    return {
        "episode_id": ep.episode_id, "room_id": ep.room_id, "topic": info.topic if info else "",
        "owner_id": ep.owner_id, "owner_name": roster.name_of(ep.owner_id) if ep.owner_id else None,
        "customer_id": ep.customer_id, "customer_name": ep.customer_name,
        "customer_message": ep.customer_text, "customer_at": iso(ep.started_at, tz),
        "reply_message": ep.reply_text, "replier_id": ep.replier_id,
        "reply_at": iso(ep.ended_at, tz) if ep.ended_by is EndedBy.REPLY and ep.ended_at else None,
        "reply_minutes": round(minutes, 2) if minutes is not None and answered else None,
        "business_reply_minutes": round(business_ms / 60_000, 2) if business_ms is not None and answered else None,
        "ended_by": ep.ended_by.value, "cancelled_by": ep.cancelled_by,
    }


STAFF_SPEAKERS = (Speaker.OWNER, Speaker.EMPLOYEE)


def by_hour(episodes: list[Episode], hourly: dict[tuple[int, Speaker], int], tz: str,
            business: Mapping[str, int] | None = None) -> list[dict]:
    """Per local hour of day: the team's average reply time (by the hour the customer wrote; the time each
    stage's clock counts) and how many messages the team and the customers sent in that hour."""
    business = business or {}
    minutes: dict[int, list[float]] = defaultdict(list)
    for ep in episodes:
        if ep.ended_by is EndedBy.REPLY and ep.reply_minutes is not None:
            minutes[hour_of(ep.started_at, tz)].append(_counted_ms(ep, business) / 60_000)
    return [{"hour": h, "replies": len(minutes[h]),
             "avg_reply_minutes": round(math.fsum(minutes[h]) / len(minutes[h]), 2) if minutes[h] else None,
             "team_messages": sum(hourly.get((h, s), 0) for s in STAFF_SPEAKERS),
             "customer_messages": hourly.get((h, Speaker.CUSTOMER), 0)} for h in range(24)]


def over_threshold_by_day(episodes: list[Episode], threshold_minutes: float, tz: str,
                          business: Mapping[str, int] | None = None) -> list[dict]:
    """Per business day the customer wrote: answered waits, and how many of them took too long (in the time
    each stage's clock counts)."""
    business = business or {}
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ep in episodes:
        if ep.ended_by is EndedBy.REPLY and ep.reply_minutes is not None:
            row = tally[day_of(ep.started_at, tz)]
            row[0] += 1
            row[1] += _counted_ms(ep, business) / 60_000 > threshold_minutes
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
