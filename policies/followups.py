"""Follow-ups of idle rooms: when a room that went quiet is due a reminder to its owner.

A stage with `followup: {idle_days: N}` (the policy file) reminds the owner once no clock runs in the room
(a waiting customer is the ladder's job) and N days (N × 24 h) have passed since the room's last message
that was not a closing reply, a sticker or a system note (`Room.active_at`: a customer's "好的" does not
reset it). It fires at that moment, or at the next business minute of the owner's calendar when that
moment falls outside it; once per idle period, the period being named by `active_at`: the next reminder
needs a new message first. A person may hold the reminders (`Room.hold`): snoozed until a moment (once
more, then), until the customer writes, or stopped for the room.

Pure: the shard computes `due` for the rooms a batch touched and keeps it in a sorted set; the supervisor
fires what is due (actors/followups.py) after checking `due` again against the room's snapshot.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DAY_MS = 86_400_000
HOLDS = ("snooze", "customer", "stop", "resume")  # core.messages.HoldFollowUp.hold


@dataclass(slots=True, frozen=True)
class Due:
    """A room's next reminder: the moment every condition holds (`at`, before the calendar moves it), the idle
    period it belongs to (`period`: the room's `active_at`) and the mark that makes it fire once (`key`)."""

    at: int
    period: int
    key: str


def due(active_at: int, running: bool, free_at: int, hold: tuple | None, idle_days: int | None) -> Due | None:
    """The room's next reminder, or None: no follow-up for its stage, a clock runs, it never spoke, or held.

    `free_at`: when its last clock was cancelled (a reminder never falls while a clock ran)."""
    if idle_days is None or running or not active_at:
        return None
    at = max(active_at + idle_days * DAY_MS, free_at)
    if hold is None:
        return Due(at, active_at, str(active_at))
    if hold[0] == "snooze" and hold[2] == active_at:  # a snooze is for the period it was given in
        return Due(max(at, hold[1]), active_at, f"{active_at}/{hold[1]}")
    if hold[0] == "snooze":
        return Due(at, active_at, str(active_at))
    return None  # "customer" (lifted by the room when the customer writes) or "stop"


def fire_at(d: Due, next_open: Callable[[int], int]) -> int:
    """When the reminder goes out: `d.at`, or the next business minute of the owner's calendar after it."""
    return max(d.at, next_open(d.at))


@dataclass(slots=True, frozen=True)
class FollowUpCrossed:
    """A room's idle period ended (a message or an order reached it at `before`) after its follow-up was
    due (`due.at` < `before`). The shard says so on the clock-events stream, in order with the rest, so the
    supervisor fires it if it fell before `before` (the calendar may push it past), however the input was
    batched: the room's snapshot has moved on by then."""

    room_id: str
    due: Due
    owner_id: str | None
    stage: str
    topic: str
    before: int


def crossed(d: Due | None, before: int) -> bool:
    """Could the follow-up `d` have fired before input that reached its room at `before`?"""
    return d is not None and d.at < before
