"""What reaches a room: a chat message and the orders people give, as named tuples: immutable values that
cost a fraction of a frozen dataclass to build, and a shard builds one for every message.

The platform's payload is validated at the edge (connectors/wechaty.py) and the positional forms these
take on the streams live in store/wire.py; here are only the domain's own types.
"""
from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class MessageType(IntEnum):
    """Wechaty's MessageType enum (wechaty-puppet)."""

    UNKNOWN = 0
    ATTACHMENT = 1
    AUDIO = 2
    CONTACT = 3
    CHAT_HISTORY = 4
    EMOTICON = 5
    IMAGE = 6
    TEXT = 7
    LOCATION = 8
    MINI_PROGRAM = 9
    GROUP_NOTE = 10
    TRANSFER = 11
    RED_ENVELOPE = 12
    RECALLED = 13
    URL = 14
    VIDEO = 15
    POST = 16


# Types a customer sends when they want something: these start a reply clock.
CLOCK_STARTING_TYPES = frozenset(
    {
        MessageType.ATTACHMENT, MessageType.AUDIO, MessageType.CONTACT, MessageType.CHAT_HISTORY,
        MessageType.IMAGE, MessageType.TEXT, MessageType.LOCATION, MessageType.MINI_PROGRAM,
        MessageType.TRANSFER, MessageType.URL, MessageType.VIDEO, MessageType.POST,
    }
)
# Types that say nothing a person answers: counted, but they neither start nor stop a clock.
SILENT_TYPES = frozenset({MessageType.UNKNOWN, MessageType.GROUP_NOTE, MessageType.RECALLED})


class Message(NamedTuple):
    """One chat message in a room; `ts` is its event time in epoch ms."""

    id: str
    room_id: str
    sender_id: str
    text: str
    ts: int
    type: int = MessageType.TEXT
    mentions: tuple[str, ...] = ()
    room_topic: str | None = None
    sender_name: str | None = None
    closing: bool = False  # the NLP verdict, set before the message reaches its room
    from_bot: bool = False  # the platform says the bot itself sent it: it never starts or stops a clock
    # The model's score, only on a closing label below the confidence bar (nlp.closing_confident): the room
    # keeps that judgement, so that a person can see it and restart the clock it silenced.
    closing_score: float | None = None


class CancelClock(NamedTuple):
    """A manager's order to stop a room's running clock without a reply."""

    room_id: str
    by: str
    ts: int
    reason: str = ""


class Reassign(NamedTuple):
    """Give a room a new owner and/or stage (a manager's decision or an approved hand-over)."""

    room_id: str
    by: str
    ts: int
    owner_id: str | None
    stage: str


class Snooze(NamedTuple):
    """Hold the alerts of one running clock until `until` (epoch ms): "remind me later"."""

    room_id: str
    by: str
    ts: int
    clock_id: str
    until: int


class SetPresence(NamedTuple):
    """A rep's focus or away state (policies/presence.py: the states), from `ts` until `until` (epoch ms; None:
    until cleared). `state` None clears it. Routed to a shard by the rep's id, not a room's."""

    staff_id: str
    by: str
    ts: int
    state: str | None
    until: int | None = None


class HoldFollowUp(NamedTuple):
    """Hold an idle room's follow-up reminders (policies/followups.py): `hold` is "snooze" (until `until`, epoch
    ms), "customer" (until the customer writes again), "stop" (no more for this room) or "resume"."""

    room_id: str
    by: str
    ts: int
    hold: str
    until: int = 0


class RestartClock(NamedTuple):
    """Start the clock a customer's message should have started, from that message's time: a person's
    answer to "judged closing (0.74)" (core.room.Judgement). `message_id` names the judged message."""

    room_id: str
    by: str
    ts: int
    message_id: str


Order = CancelClock | Reassign | Snooze | SetPresence | HoldFollowUp | RestartClock
