"""One chat room's reply clock: a small state machine fed one message at a time.

Time is an input: every transition takes its time from the message (or the cancel order), never
from the wall clock, so replay and live service behave the same.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from sales_assistant.core.messages import (
    CLOCK_STARTING_TYPES,
    SILENT_TYPES,
    CancelClock,
    HoldFollowUp,
    Message,
    MessageType,
    Reassign,
    RestartClock,
    Snooze,
)
from sales_assistant.core.roster import Role, RoomInfo, Speaker, Stage, speaker_of

# Messages that leave a room idle: a sticker and a system note say nothing to follow up on (nor does a
# customer's closing reply, `Message.closing`, nor a bot).
QUIET_TYPES = SILENT_TYPES | {MessageType.EMOTICON}


class EndedBy(str, Enum):
    REPLY = "reply"
    CANCELLED = "cancelled"
    OPEN = "open"


@dataclass(slots=True)
class Clock:
    clock_id: str  # id of the customer message that started it
    started_at: int
    customer_id: str
    customer_name: str | None
    customer_text: str
    last_text: str  # the latest customer message while it runs, for the alert card
    snoozed_until: int = 0  # epoch ms: alerts held until then ("remind me later")

    def copy(self) -> Clock:
        return Clock(self.clock_id, self.started_at, self.customer_id, self.customer_name, self.customer_text,
                     self.last_text, self.snoozed_until)

    def to_list(self) -> list:
        # Positional, not asdict(): snapshots are written for every touched room on the hot path.
        row = [self.clock_id, self.started_at, self.customer_id, self.customer_name, self.customer_text,
               self.last_text]
        return row + [self.snoozed_until] if self.snoozed_until else row


JUDGED_TEXT_CHARS = 500  # a judgement keeps the words a restarted clock's alerts and a label need, not an essay


@dataclass(slots=True, frozen=True)
class Judgement:
    """The model called a customer's message closing, but below the confidence bar, so it started no clock:
    kept on the room (its latest such message) until a clock starts or staff answer, so that a person
    can see it and restart the clock it silenced (`Room.restart`)."""

    message_id: str
    text: str
    score: float
    at: int  # the message's event time: a restarted clock runs from here
    customer_id: str
    customer_name: str | None

    def to_list(self) -> list:
        return [self.message_id, self.text, self.score, self.at, self.customer_id, self.customer_name]


class Episode(NamedTuple):
    """One wait: from a customer's message to the reply that ended it (or its cancellation)."""

    room_id: str
    clock_id: str
    owner_id: str | None
    stage: Stage
    customer_id: str
    customer_name: str | None
    customer_text: str
    started_at: int
    ended_by: EndedBy
    ended_at: int | None = None
    reply_id: str | None = None
    reply_text: str | None = None
    replier_id: str | None = None
    cancelled_by: str | None = None

    @property
    def episode_id(self) -> str:
        return f"{self.room_id}/{self.clock_id}"

    @property
    def reply_minutes(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at) / 60_000

    def to_dict(self) -> dict:
        return {"room_id": self.room_id, "clock_id": self.clock_id, "owner_id": self.owner_id, "stage": self.stage,
                "customer_id": self.customer_id, "customer_name": self.customer_name,
                "customer_text": self.customer_text, "started_at": self.started_at, "ended_by": self.ended_by.value,
                "ended_at": self.ended_at, "reply_id": self.reply_id, "reply_text": self.reply_text,
                "replier_id": self.replier_id, "cancelled_by": self.cancelled_by}

    @classmethod
    def from_dict(cls, d: dict) -> Episode:
        # The supervisor reads one per stopped clock: a dict lookup, not an enum call, per value.
        ended_by, stage = d["ended_by"], d["stage"]
        return cls(**{**d, "ended_by": _ENDED_BY.get(ended_by) or EndedBy(ended_by),
                      "stage": _STAGES.get(stage) or Stage(stage)})


_ENDED_BY = {e.value: e for e in EndedBy}
_STAGES = {s.value: s for s in Stage}


class ClockStarted(NamedTuple):
    room_id: str
    clock: Clock
    stage: Stage
    owner_id: str | None
    topic: str


class ClockTouched(NamedTuple):
    """A customer wrote again while the clock runs: the alert card should show the latest words."""

    room_id: str
    clock_id: str
    last_text: str
    at: int | None = None  # the message's event time (None in rows written before it was carried)


class ClockStopped(NamedTuple):
    episode: Episode


class ClockReassigned(NamedTuple):
    """The room changed hands or stage while its clock runs: later alerts go to the new owner."""

    room_id: str
    clock_id: str
    owner_id: str | None
    stage: Stage
    at: int | None = None  # the order's event time (None in rows written before it was carried)


class ClockSnoozed(NamedTuple):
    room_id: str
    clock_id: str
    until: int
    at: int | None = None  # the order's event time (None in rows written before it was carried)


ClockEvent = ClockStarted | ClockTouched | ClockStopped | ClockReassigned | ClockSnoozed


@dataclass(slots=True, frozen=True)
class Correction:
    """What a person's order says the closing model should have said about the customer's message that
    started (or should have started) a clock: a cancel says it needed no answer (label 1, closing), a
    restart that it needed one (label 0). A training label from the team's own traffic."""

    room_id: str
    message_id: str
    text: str
    label: int  # 1: closing, 0: needs an answer (the closing model's training labels)
    source: str  # "cancel" | "restart"
    at: int  # the order's time
    by: str
    owner_id: str | None  # the room's owner then: a rep exports the labels of their own rooms

    def to_dict(self) -> dict:
        return {"room_id": self.room_id, "message_id": self.message_id, "text": self.text, "label": self.label,
                "source": self.source, "at": self.at, "by": self.by, "owner_id": self.owner_id}

    def training_row(self) -> dict:
        """One line of the closing model's training data (models/lab/closing: text, label) and where it came from."""
        return {"text": self.text, "label": self.label, "room_id": self.room_id, "source": self.source, "at": self.at}


def last_word(corrections: list[Correction]) -> list[Correction]:
    """One label per message, the latest order's (a restart undone by a cancel says closing), in order given."""
    latest = {(c.room_id, c.message_id): c for c in corrections}
    return [c for c in corrections if latest[(c.room_id, c.message_id)] is c]


def correction_of(order: CancelClock | RestartClock, event: ClockEvent | None,
                  owner_id: str | None) -> Correction | None:
    """The label an applied cancel or restart gives; None when the order changed nothing."""
    if isinstance(order, CancelClock) and isinstance(event, ClockStopped):
        ep = event.episode
        return Correction(ep.room_id, ep.clock_id, ep.customer_text, 1, "cancel", order.ts, order.by, owner_id)
    if isinstance(order, RestartClock) and isinstance(event, ClockStarted):
        c = event.clock
        return Correction(event.room_id, c.clock_id, c.customer_text, 0, "restart", order.ts, order.by, owner_id)
    return None


class Rejection(str, Enum):
    DUPLICATE = "duplicate"  # already applied: a redelivery after a crash
    OUT_OF_ORDER = "out_of_order"  # older than what the room has already seen


class Outcome(NamedTuple):
    speaker: Speaker | None = None  # None when rejected
    event: ClockEvent | None = None
    rejected: Rejection | None = None


class Room:
    """The state of one room. Small on purpose: a shard holds hundreds of thousands of these."""

    __slots__ = ("room_id", "topic", "owner_id", "stage", "clock", "last_seq", "last_ts", "active_at", "free_at",
                 "hold", "judged")

    def __init__(self, info: RoomInfo) -> None:
        self.room_id = info.id
        self.topic = info.topic
        self.owner_id = info.owner
        self.stage: Stage = info.stage
        self.clock: Clock | None = None
        self.last_seq = -1  # position in the ingest stream of the last message applied
        self.last_ts = 0
        # For the follow-ups of idle rooms (policies/followups.py): when the room last said something worth
        # following up (0: never), when its last clock was cancelled, and a person's hold on its reminders:
        # ("snooze", until, active_at it was set in) | ("customer",) until the customer writes | ("stop",).
        self.active_at = 0
        self.free_at = 0
        self.hold: tuple | None = None
        self.judged: Judgement | None = None  # a doubtful closing label that silenced a customer (Judgement)

    # --- transitions -------------------------------------------------------------------------

    def handle(self, msg: Message, role: Role | None, seq: int) -> Outcome:
        """Apply one message. `seq` orders the ingest stream and makes redelivery harmless."""
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        if msg.ts < self.last_ts:
            return Outcome(rejected=Rejection.OUT_OF_ORDER)
        self.last_seq, self.last_ts = seq, msg.ts
        if msg.room_topic and msg.room_topic != self.topic:
            self.topic = msg.room_topic
        speaker = Speaker.BOT if msg.from_bot else speaker_of(role, msg.sender_id, self.owner_id)
        if not msg.closing and speaker is not Speaker.BOT and msg.type not in QUIET_TYPES:
            self.active_at = msg.ts
            if speaker is Speaker.CUSTOMER and self.hold is not None and self.hold[0] == "customer":
                self.hold = None
        if speaker is Speaker.CUSTOMER:
            return Outcome(speaker, self._on_customer(msg))
        if speaker is not Speaker.BOT and msg.type not in SILENT_TYPES:
            self.judged = None  # staff answered: a clock started now would wait for nothing
            return Outcome(speaker, self._stop(msg.ts, EndedBy.REPLY, reply=msg))
        return Outcome(speaker)

    def cancel(self, order: CancelClock, seq: int) -> Outcome:
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        self.last_seq = seq
        # A cancel can be stamped a little before the last message; the episode never ends before it starts.
        ended_at = max(order.ts, self.clock.started_at) if self.clock else order.ts
        self.last_ts = max(self.last_ts, ended_at)
        if self.clock is not None:
            self.free_at = ended_at
        return Outcome(event=self._stop(ended_at, EndedBy.CANCELLED, cancelled_by=order.by))

    def reassign(self, order: Reassign, seq: int) -> Outcome:
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        self.last_seq = seq
        self.owner_id, self.stage = order.owner_id, Stage(order.stage)
        if self.clock is None:
            return Outcome()
        return Outcome(event=ClockReassigned(self.room_id, self.clock.clock_id, self.owner_id, self.stage, order.ts))

    def snooze(self, order: Snooze, seq: int) -> Outcome:
        """Only the clock the order names: a snooze meant for a clock that has stopped holds nothing."""
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        self.last_seq = seq
        if self.clock is None or self.clock.clock_id != order.clock_id:
            return Outcome()
        self.clock.snoozed_until = max(self.clock.snoozed_until, order.until)
        return Outcome(event=ClockSnoozed(self.room_id, self.clock.clock_id, self.clock.snoozed_until, order.ts))

    def restart(self, order: RestartClock, seq: int) -> Outcome:
        """Start the clock the judged message should have started, from that message's time. Only for the
        judgement the order names, once: a second order (or one that comes after a clock started or staff
        answered) finds no judgement and does nothing."""
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        self.last_seq = seq
        judged = self.judged
        if judged is None or judged.message_id != order.message_id or self.clock is not None:
            return Outcome()
        self.judged = None
        self.last_ts = max(self.last_ts, order.ts)
        self.clock = Clock(judged.message_id, judged.at, judged.customer_id, judged.customer_name, judged.text,
                           judged.text)
        return Outcome(event=ClockStarted(self.room_id, self.clock.copy(), self.stage, self.owner_id, self.topic))

    def hold_follow_up(self, order: HoldFollowUp, seq: int) -> Outcome:
        """A person's hold on the room's follow-up reminders; "resume" lifts it."""
        if seq <= self.last_seq:
            return Outcome(rejected=Rejection.DUPLICATE)
        self.last_seq = seq
        if order.hold == "resume":
            self.hold = None
        elif order.hold == "snooze":
            self.hold = ("snooze", order.until, self.active_at)
        else:
            self.hold = (order.hold,)
        return Outcome()

    # --- internals -----------------------------------------------------------------------------

    def _on_customer(self, msg: Message) -> ClockEvent | None:
        if self.clock is not None:  # later customer messages never restart a running clock
            if not msg.text or msg.text == self.clock.last_text:
                return None
            self.clock.last_text = msg.text
            return ClockTouched(self.room_id, self.clock.clock_id, msg.text, msg.ts)
        if msg.closing or msg.type not in CLOCK_STARTING_TYPES:
            if msg.closing and msg.closing_score is not None:  # a doubtful "closing": keep it in sight
                self.judged = Judgement(msg.id, msg.text[:JUDGED_TEXT_CHARS], msg.closing_score, msg.ts,
                                        msg.sender_id, msg.sender_name)
            return None  # "好的" / 👌 / a sticker ask for nothing
        self.judged = None
        self.clock = Clock(msg.id, msg.ts, msg.sender_id, msg.sender_name, msg.text, msg.text)
        # A copy: the event must keep the clock as it started, not as later messages of the same batch
        # change it before the batch is committed.
        return ClockStarted(self.room_id, self.clock.copy(), self.stage, self.owner_id, self.topic)

    def _stop(self, ended_at: int, ended_by: EndedBy, reply: Message | None = None,
              cancelled_by: str | None = None) -> ClockStopped | None:
        clock = self.clock
        if clock is None:
            return None
        self.clock = None
        return ClockStopped(
            Episode(
                room_id=self.room_id,
                clock_id=clock.clock_id,
                owner_id=self.owner_id,
                stage=self.stage,
                customer_id=clock.customer_id,
                customer_name=clock.customer_name,
                customer_text=clock.customer_text,
                started_at=clock.started_at,
                ended_by=ended_by,
                ended_at=ended_at,
                reply_id=reply.id if reply else None,
                reply_text=reply.text if reply else None,
                replier_id=reply.sender_id if reply else None,
                cancelled_by=cancelled_by,
            )
        )

    # --- views and snapshots -----------------------------------------------------------------

    def open_episode(self) -> Episode | None:
        c = self.clock
        if c is None:
            return None
        return Episode(self.room_id, c.clock_id, self.owner_id, self.stage, c.customer_id, c.customer_name,
                       c.customer_text, c.started_at, EndedBy.OPEN)

    def info(self) -> RoomInfo:
        return RoomInfo(self.room_id, self.topic, self.owner_id, self.stage)

    def to_dict(self) -> dict:
        d = {"id": self.room_id, "topic": self.topic, "owner": self.owner_id, "stage": self.stage,
             "seq": self.last_seq, "ts": self.last_ts}
        if self.clock is not None:
            d["clock"] = self.clock.to_list()
        if self.active_at:
            d["act"] = self.active_at
        if self.free_at:
            d["free"] = self.free_at
        if self.hold is not None:
            d["hold"] = list(self.hold)
        if self.judged is not None:
            d["judged"] = self.judged.to_list()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Room:
        owner = d.get("owner")
        # Owners repeat across thousands of rooms: share one string each (a Stage is one object already).
        room = cls(RoomInfo(d["id"], d.get("topic", ""), sys.intern(owner) if owner else None,
                            Stage(d.get("stage", "pre_sales"))))
        room.last_seq, room.last_ts = d.get("seq", -1), d.get("ts", 0)
        if d.get("clock"):
            room.clock = Clock(*d["clock"])
        room.active_at, room.free_at = d.get("act", 0), d.get("free", 0)
        if d.get("hold"):
            room.hold = tuple(d["hold"])
        if d.get("judged"):
            room.judged = Judgement(*d["judged"])
        return room


__all__ = ["QUIET_TYPES", "Clock", "ClockEvent", "ClockReassigned", "ClockSnoozed", "ClockStarted", "ClockStopped", "ClockTouched",
           "Correction", "EndedBy", "Episode", "Judgement", "Outcome", "Rejection", "Room", "correction_of", "last_word"]
