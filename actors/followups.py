"""The supervisor's follow-up desk: fires the follow-ups of idle rooms that are due (policies/followups.py).

It runs inside the supervisor's step, not as a loop of its own: a follow-up must wait for the same
inbox watermark as an alert (a message still in the inbox may end the idle period), and must fire in
replay at the same virtual moments as in the live service. The supervisor already has both: its
`until` (now, capped by the watermark) and its wake-ups (virtual advance, live ticker).

The sorted set says when to look at a room; the room's snapshot says whether it is due, recomputed
here, so a stale entry does nothing. A moment outside the owner's calendar is moved to its next
business minute and looked at again then.
"""
from __future__ import annotations

from collections.abc import Callable

import redis

from sales_assistant.core.roster import Roster, Speaker, Stage
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.followups import Due, FollowUpCrossed, due, fire_at
from sales_assistant.store.followups import commit_followups, due_rooms, next_due, recent_rows, sent_keys
from sales_assistant.store.keys import Keys
from sales_assistant.store.state import load_rooms

BATCH = 500  # rooms looked at per commit
LAST_EXCHANGE = 10
STAFF = frozenset({Speaker.OWNER.value, Speaker.EMPLOYEE.value})  # the latest messages the card's last exchange is taken from


class FollowUpDesk:
    def __init__(self, r: redis.Redis, keys: Keys, policy: Policy) -> None:
        self.r, self.keys, self.policy = r, keys, policy

    def fire(self, until: int, roster_of: Callable[[], Roster]) -> int:
        """Every follow-up due at or before `until`; returns how many were sent. Nothing to read when no stage
        has follow-ups (the pipeline benchmark's policy)."""
        sent = 0
        while self.policy.followup_days and (rows := due_rooms(self.r, self.keys, until, BATCH)):
            roster = roster_of()
            rooms = load_rooms(self.r, self.keys, [room_id for room_id, _ in rows])
            marks = sent_keys(self.r, self.keys, [room_id for room_id, _ in rows])
            fired, postponed = [], []
            for (room_id, score), room, mark in zip(rows, rooms, marks, strict=True):
                d = None if room is None else due(room.active_at, room.clock is not None, room.free_at, room.hold,
                                                  self.policy.followup_days.get(room.stage))
                if d is None or d.key == mark:
                    postponed.append((room_id, score, None))  # not due (any more): the shard adds it back when it is
                    continue
                at = fire_at(d, self._next_open(room.owner_id, roster))
                if at > until:
                    postponed.append((room_id, score, at))
                else:
                    fired.append((room_id, score, d.key,
                                  self._followup(room.room_id, room.topic, room.owner_id, room.stage, d, at)))
            sent += self._commit(fired, postponed)
        return sent

    def fire_crossed(self, events: list[FollowUpCrossed], roster: Roster) -> int:
        """The follow-ups that fell due before input ended their idle period (the shard's FollowUpCrossed
        events, read in stream order); the room's snapshot has moved on, so the event says what was due."""
        marks = dict(zip((e.room_id for e in events), sent_keys(self.r, self.keys, [e.room_id for e in events]),
                         strict=True))
        fired = []
        for e in events:
            at = fire_at(e.due, self._next_open(e.owner_id, roster))
            if e.due.key != marks[e.room_id] and at < e.before:
                marks[e.room_id] = e.due.key
                fired.append((e.room_id, "", e.due.key, self._followup(e.room_id, e.topic, e.owner_id, e.stage, e.due, at)))
        return self._commit(fired, [])

    def next_due(self) -> int | None:
        """When the earliest room is to be looked at (the live ticker wakes for it)."""
        return next_due(self.r, self.keys) if self.policy.followup_days else None

    def _commit(self, fired: list[tuple[str, str, str, dict]], postponed: list[tuple[str, str, int | None]]) -> int:
        """Each follow-up with the last exchange before it, committed with its sent mark."""
        exchanges = recent_rows(self.r, self.keys, [f[0] for f in fired], LAST_EXCHANGE)
        fired = [(room_id, score, key, {**f, "last": last_exchange(rows, f["at"])})
                 for (room_id, score, key, f), rows in zip(fired, exchanges, strict=True)]
        return commit_followups(self.r, self.keys, fired, postponed)

    def _next_open(self, owner_id: str | None, roster: Roster):
        """The owner's calendar's next business minute (every minute is one without calendars)."""
        owner = roster.staff.get(owner_id or "")
        calendar = self.policy.calendar_of(owner.team if owner else None)
        return calendar.next_open if calendar is not None else (lambda t: t)

    def _followup(self, room_id: str, topic: str, owner_id: str | None, stage: str, d: Due, at: int) -> dict:
        return {"followup_id": f"{room_id}/{d.key}", "room_id": room_id, "topic": topic, "owner_id": owner_id,
                "stage": str(stage), "at": at, "last_message_at": d.period,
                "idle_days": self.policy.followup_days.get(Stage(stage))}


def last_exchange(rows: list[dict], at: int) -> list[dict]:
    """The customer's and the staff's latest words before `at`, oldest first: what the card shows."""
    before = [row for row in rows if row["ts"] <= at and row["text"]]
    customer = next((row for row in reversed(before) if row["speaker"] == Speaker.CUSTOMER.value), None)
    staff = next((row for row in reversed(before) if row["speaker"] in STAFF), None)
    picked = sorted((row for row in (customer, staff) if row is not None), key=lambda row: row["ts"])
    return [{"ts": row["ts"], "speaker": row["speaker"], "sender_name": row["sender_name"], "text": row["text"]}
            for row in picked]
