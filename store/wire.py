"""Every positional row that crosses a process boundary, named, in one module.

The streams, the ingest's calls to the shards and the rooms' recent-message lists carry arrays, not
objects: a field name beside every value would double their bytes and their decoding time on the
hot path. Each array has one type here, a msgspec Struct with `array_like=True`: positional on the
wire, read by name in the code, checked field by field when decoded. Nothing outside this module
reads a row by its index.

    where                           row                                         written by -> read by
    inbox stream ("k" kind, "d")    MessageRow, CancelRow, ReassignRow,         webhook, replay, people's
                                    SnoozeRow, PresenceRow, FollowUpHoldRow,    orders -> ingest
                                    RestartRow
    ingest -> shard (a Ray call)    ShardBatch of ShardEntry(seq, kind, row)    ingest -> shards
    staff-texts stream ("d")        a list of StaffTextRow                      shards -> NLP actor
    recent:<room> list              RecentRow                                   shards -> room views
    clock-events stream ("d")       a list of event rows, tagged by their       shards -> supervisor
                                    first item (event_to_wire, event_from_wire)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import msgspec

from sales_assistant.core.messages import (
    CancelClock,
    HoldFollowUp,
    Message,
    Order,
    Reassign,
    RestartClock,
    SetPresence,
    Snooze,
)
from sales_assistant.core.room import (
    Clock,
    ClockEvent,
    ClockReassigned,
    ClockSnoozed,
    ClockStarted,
    ClockStopped,
    ClockTouched,
    Episode,
)
from sales_assistant.core.roster import Stage
from sales_assistant.policies.followups import Due, FollowUpCrossed
from sales_assistant.policies.presence import Presence, PresenceChanged

# --- the inbox: what changes a room ---------------------------------------------------------------


class MessageRow(msgspec.Struct, array_like=True, gc=False):
    """A chat message on the inbox stream and on its way to its room's shard."""

    kind: ClassVar[str] = "m"

    id: str
    room_id: str
    sender_id: str
    text: str
    ts: int
    type: int
    mentions: list[str]
    room_topic: str | None
    sender_name: str | None
    # The closing label; a closing label below the confidence bar carries its score instead of True, so that
    # only those doubtful rows carry a byte more to the shard (read back as closing with closing_score).
    closing: bool | float
    from_bot: bool = False  # last and optional: rows written before it decode as False

    @classmethod
    def of(cls, m: Message) -> MessageRow:
        return cls(m.id, m.room_id, m.sender_id, m.text, m.ts, int(m.type), list(m.mentions), m.room_topic,
                   m.sender_name, m.closing, m.from_bot)

    def label_closing(self, closing: bool, doubtful_score: float | None = None) -> None:
        """The ingest's verdict (the NLP actor's or the built-in list's): does this message close the exchange?
        Set on the row before it reaches its room, so the room never waits for a model. `doubtful_score`:
        the score of a closing label below the confidence bar (core.messages.Message.closing_score)."""
        self.closing = doubtful_score if closing and doubtful_score is not None else closing

    def message(self) -> Message:
        closing, score = (True, self.closing) if type(self.closing) is float else (self.closing, None)
        return Message(self.id, self.room_id, self.sender_id, self.text, self.ts, self.type, tuple(self.mentions),
                       self.room_topic, self.sender_name, closing, self.from_bot, score)


class CancelRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """A manager's order to stop a room's running clock (core.messages.CancelClock)."""

    kind: ClassVar[str] = "c"

    room_id: str
    by: str
    ts: int
    reason: str

    @classmethod
    def of(cls, o: CancelClock) -> CancelRow:
        return cls(o.room_id, o.by, o.ts, o.reason)

    def order(self) -> CancelClock:
        return CancelClock(self.room_id, self.by, self.ts, self.reason)


class ReassignRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """A room's new owner and/or stage (core.messages.Reassign)."""

    kind: ClassVar[str] = "a"

    room_id: str
    by: str
    ts: int
    owner_id: str | None
    stage: str

    @classmethod
    def of(cls, o: Reassign) -> ReassignRow:
        return cls(o.room_id, o.by, o.ts, o.owner_id, o.stage)

    def order(self) -> Reassign:
        return Reassign(self.room_id, self.by, self.ts, self.owner_id, self.stage)


class SnoozeRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """Hold one running clock's alerts until `until` (core.messages.Snooze)."""

    kind: ClassVar[str] = "z"

    room_id: str
    by: str
    ts: int
    clock_id: str
    until: int

    @classmethod
    def of(cls, o: Snooze) -> SnoozeRow:
        return cls(o.room_id, o.by, o.ts, o.clock_id, o.until)

    def order(self) -> Snooze:
        return Snooze(self.room_id, self.by, self.ts, self.clock_id, self.until)


class PresenceRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """A rep's focus or away state set or cleared (core.messages.SetPresence)."""

    kind: ClassVar[str] = "p"

    staff_id: str
    by: str
    ts: int
    state: str | None
    until: int | None

    @property
    def room_id(self) -> str:
        """What the ingest routes by: the rep's id picks the shard that keeps their presence."""
        return self.staff_id

    @classmethod
    def of(cls, o: SetPresence) -> PresenceRow:
        return cls(o.staff_id, o.by, o.ts, o.state, o.until)

    def order(self) -> SetPresence:
        return SetPresence(self.staff_id, self.by, self.ts, self.state, self.until)


class FollowUpHoldRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """A hold on an idle room's follow-up reminders (core.messages.HoldFollowUp)."""

    kind: ClassVar[str] = "f"

    room_id: str
    by: str
    ts: int
    hold: str
    until: int

    @classmethod
    def of(cls, o: HoldFollowUp) -> FollowUpHoldRow:
        return cls(o.room_id, o.by, o.ts, o.hold, o.until)

    def order(self) -> HoldFollowUp:
        return HoldFollowUp(self.room_id, self.by, self.ts, self.hold, self.until)


class RestartRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """Start the clock a doubtful closing label silenced (core.messages.RestartClock)."""

    kind: ClassVar[str] = "r"

    room_id: str
    by: str
    ts: int
    message_id: str

    @classmethod
    def of(cls, o: RestartClock) -> RestartRow:
        return cls(o.room_id, o.by, o.ts, o.message_id)

    def order(self) -> RestartClock:
        return RestartClock(self.room_id, self.by, self.ts, self.message_id)


# Every inbox row names the room it is for (a presence row: the rep) and its event time: the ingest routes
# them all alike.
InboxRow = MessageRow | CancelRow | ReassignRow | SnoozeRow | PresenceRow | FollowUpHoldRow | RestartRow
OrderRow = CancelRow | ReassignRow | SnoozeRow | PresenceRow | FollowUpHoldRow | RestartRow
KIND_MESSAGE, KIND_CANCEL, KIND_REASSIGN, KIND_SNOOZE = (MessageRow.kind, CancelRow.kind, ReassignRow.kind,
                                                         SnoozeRow.kind)
KIND_PRESENCE, KIND_FOLLOWUP_HOLD = PresenceRow.kind, FollowUpHoldRow.kind
KIND_RESTART = RestartRow.kind
_ROW_OF_ITEM: dict[type, type[InboxRow]] = {Message: MessageRow, CancelClock: CancelRow, Reassign: ReassignRow,
                                            Snooze: SnoozeRow, SetPresence: PresenceRow,
                                            HoldFollowUp: FollowUpHoldRow, RestartClock: RestartRow}
_JSON = msgspec.json.Encoder()
_INBOX_DECODERS = {row.kind: msgspec.json.Decoder(row) for row in _ROW_OF_ITEM.values()}


def inbox_row(item: Message | Order) -> InboxRow:
    return _ROW_OF_ITEM[type(item)].of(item)


def encode(row: msgspec.Struct | list) -> bytes:
    """A row, or a list of rows, as the JSON array the streams and lists hold."""
    return _JSON.encode(row)


def encode_lines(docs: Iterable[object]) -> bytes:
    """Documents (dicts, lists, rows) as one JSON document per line, in one call: a batch of tens of thousands
    encodes several times faster than with a call per document (a JSON document never holds a raw newline)."""
    return _JSON.encode_lines(docs)


def decode_inbox_row(kind: str, data: bytes | str) -> InboxRow | None:
    """The inbox entry's row; None for a kind this version does not know."""
    decoder = _INBOX_DECODERS.get(kind)
    return None if decoder is None else decoder.decode(data)


# --- the ingest's calls to the shards ----------------------------------------------------------------


class ShardEntry(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """One inbox entry for a shard: its position in the inbox (`seq`, see store.inbox.stream_seq) and its row."""

    seq: int
    kind: str
    row: InboxRow


_MSGPACK = msgspec.msgpack.Encoder()
_SHARD_ENTRIES = msgspec.msgpack.Decoder(list[tuple[int, str, msgspec.Raw]])
_SHARD_ROWS = {row.kind: msgspec.msgpack.Decoder(row) for row in _ROW_OF_ITEM.values()}


class ShardBatch(list[ShardEntry]):
    """The entries one shard applies in one call, in inbox order.

    Ray pickles it as one msgpack string: Ray's pickler would visit each row object of the batch on
    its own, several times slower than one encode of the whole batch."""

    def __reduce__(self) -> tuple:
        return _shard_batch, (_MSGPACK.encode(list(self)),)


def _shard_batch(data: bytes) -> ShardBatch:
    entries = _SHARD_ENTRIES.decode(data)
    return ShardBatch(ShardEntry(seq, kind, _SHARD_ROWS[kind].decode(row)) for seq, kind, row in entries)


# --- what the shards write for others -----------------------------------------------------------------


class StaffTextRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """What a member of staff wrote, for the NLP actor's typo and phrasing checks (staff-texts stream)."""

    message_id: str
    room_id: str
    sender_id: str
    sender_name: str | None
    owner_id: str | None
    topic: str | None
    text: str
    ts: int


def staff_texts_of(rows: list[list]) -> list[StaffTextRow]:
    """Staff-text rows as JSON gave them back (the stream consumer decodes each entry's "d")."""
    return msgspec.convert(rows, list[StaffTextRow])


class RecentRow(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """One of a room's latest messages as the room views show it (recent:<room> list, capped)."""

    ts: int
    sender_id: str
    sender_name: str | None
    speaker: str  # core.roster.Speaker's value
    text: str  # cut to what a view shows
    type: int
    closing: bool
    message_id: str


_RECENT = msgspec.json.Decoder(RecentRow)


def decode_recent(data: bytes | str) -> RecentRow:
    return _RECENT.decode(data)


# --- clock events: shards -> supervisor -------------------------------------------------------------


def event_to_wire(event: ClockEvent | PresenceChanged | FollowUpCrossed) -> list:
    """A clock event as its row: a tag, then the event's fields (a clock as Clock.to_list, an episode as a dict)."""
    if isinstance(event, PresenceChanged):
        return ["presence", event.presence.staff_id, event.presence.to_list()]
    if isinstance(event, FollowUpCrossed):
        d = event.due
        return ["followup", event.room_id, d.at, d.period, d.key, event.owner_id, event.stage, event.topic,
                event.before]
    if isinstance(event, ClockStarted):
        return ["start", event.room_id, event.clock.to_list(), event.stage, event.owner_id, event.topic]
    if isinstance(event, ClockTouched):
        return ["touch", event.room_id, event.clock_id, event.last_text, event.at]
    if isinstance(event, ClockReassigned):
        return ["assign", event.room_id, event.clock_id, event.owner_id, event.stage, event.at]
    if isinstance(event, ClockSnoozed):
        return ["snooze", event.room_id, event.clock_id, event.until, event.at]
    return ["stop", event.episode.to_dict()]


def event_from_wire(row: list) -> ClockEvent | PresenceChanged | FollowUpCrossed:
    # One dict lookup on the tag, not a `match` trying each pattern in turn: the supervisor decodes every
    # clock event of the pipeline (about one per message) and every start of a burst.
    try:
        return _EVENT_OF_TAG[row[0]](*row[1:])
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ValueError(f"not a clock event row: {row!r}") from e


_STAGE_OF = {s.value: s for s in Stage}  # Stage(value) is an enum call, several times a dict lookup


def _stage(value: str) -> Stage:
    stage = _STAGE_OF.get(value)
    return stage if stage is not None else Stage(value)


def _start(room_id: str, clock: list, stage: str, owner_id: str | None, topic: str) -> ClockStarted:
    return ClockStarted(room_id, Clock(*clock), _stage(stage), owner_id, topic)


# The event time came last, later: touch, assign and snooze rows written before it load with at=None (and
# fields a later version appends are ignored).
def _touch(room_id: str, clock_id: str, last_text: str, at: int | None = None, *_later: object) -> ClockTouched:
    return ClockTouched(room_id, clock_id, last_text, at)


def _assign(room_id: str, clock_id: str, owner_id: str | None, stage: str, at: int | None = None,
            *_later: object) -> ClockReassigned:
    return ClockReassigned(room_id, clock_id, owner_id, _stage(stage), at)


def _snooze(room_id: str, clock_id: str, until: int, at: int | None = None, *_later: object) -> ClockSnoozed:
    return ClockSnoozed(room_id, clock_id, until, at)


def _stop(episode: dict) -> ClockStopped:
    return ClockStopped(Episode.from_dict(episode))


def _presence(staff_id: str, presence: list) -> PresenceChanged:
    return PresenceChanged(Presence.from_list(staff_id, presence))


def _followup(room_id: str, at: int, period: str, key: str, owner_id: str | None, stage: str, topic: str,
              before: int) -> FollowUpCrossed:
    return FollowUpCrossed(room_id, Due(at, period, key), owner_id, stage, topic, before)


_EVENT_OF_TAG = {"start": _start, "touch": _touch, "assign": _assign, "snooze": _snooze, "stop": _stop,
                 "presence": _presence, "followup": _followup}
