"""What a chat message is: the Wechaty payload at the edge, a slim dataclass inside."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 20_000  # a WeChat text tops out near 16k characters; more is not a chat message


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


class WechatyMessage(BaseModel):
    """The payload the chat platform posts, validated field by field."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1, max_length=128)
    roomId: str = Field(min_length=1, max_length=128)
    fromId: str = Field(min_length=1, max_length=128)
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    timestamp: int = Field(gt=946_684_800_000, lt=4_102_444_800_000, description="epoch ms")
    type: MessageType
    mentionIdList: list[str] = Field(default_factory=list, max_length=500)
    roomTopic: str | None = Field(default=None, max_length=256)
    fromName: str | None = Field(default=None, max_length=128)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_is_integer(cls, value: object) -> object:
        # JSON true/false and 1.7e12 floats are not timestamps; refuse them by name.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("timestamp must be an integer of epoch milliseconds")
        return value

    def to_message(self) -> Message:
        return Message(
            id=self.id,
            room_id=self.roomId,
            sender_id=self.fromId,
            text=self.text,
            ts=self.timestamp,
            type=int(self.type),
            mentions=tuple(self.mentionIdList),
            room_topic=self.roomTopic,
            sender_name=self.fromName,
        )


@dataclass(slots=True, frozen=True)
class Message:
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

    def to_wire(self) -> list:
        """Compact positional form for the stream and actor hops."""
        return [self.id, self.room_id, self.sender_id, self.text, self.ts, self.type,
                list(self.mentions), self.room_topic, self.sender_name, self.closing]

    @classmethod
    def from_wire(cls, row: list) -> Message:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], tuple(row[6]), row[7], row[8], row[9])


@dataclass(slots=True, frozen=True)
class CancelClock:
    """A manager's order to stop a room's running clock without a reply."""

    room_id: str
    by: str
    ts: int
    reason: str = ""

    def to_wire(self) -> list:
        return [self.room_id, self.by, self.ts, self.reason]

    @classmethod
    def from_wire(cls, row: list) -> CancelClock:
        return cls(row[0], row[1], row[2], row[3])


# Orders share the wire prefix [room_id, by, ts] so the ingest routes them all alike.


@dataclass(slots=True, frozen=True)
class Reassign:
    """Give a room a new owner and/or stage (a manager's decision or an approved hand-over)."""

    room_id: str
    by: str
    ts: int
    owner_id: str | None
    stage: str

    def to_wire(self) -> list:
        return [self.room_id, self.by, self.ts, self.owner_id, self.stage]

    @classmethod
    def from_wire(cls, row: list) -> Reassign:
        return cls(row[0], row[1], row[2], row[3], row[4])


@dataclass(slots=True, frozen=True)
class Snooze:
    """Hold the alerts of one running clock until `until` (epoch ms): "remind me later"."""

    room_id: str
    by: str
    ts: int
    clock_id: str
    until: int

    def to_wire(self) -> list:
        return [self.room_id, self.by, self.ts, self.clock_id, self.until]

    @classmethod
    def from_wire(cls, row: list) -> Snooze:
        return cls(row[0], row[1], row[2], row[3], row[4])


Order = CancelClock | Reassign | Snooze
