"""The chat platform's message payload at the edge: Wechaty's camelCase JSON, validated field by field.

The webhook (web/app.py) and the replay files (connectors/replay.py) both receive this shape; the rest of
the product sees only the domain's slim `core.messages.Message` it is translated into here, once.
"""
from __future__ import annotations

import re

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from sales_assistant.core.messages import Message, MessageType

MAX_TEXT_CHARS = 20_000  # a WeChat text tops out near 16k characters; more is not a chat message
# A room id is one path segment of the dashboard's and the API's URLs (/rooms/{id}). The platform's ids
# (R:10696052421411538, 1234@chatroom) never hold a slash, a backslash or a control character and are
# never a dot segment; one that does is refused here, so no link or button can be steered to another room.
NOT_IN_ROOM_ID = re.compile(r"[/\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class WechatyMessage(BaseModel):
    """The payload the chat platform posts."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1, max_length=128)
    roomId: str = Field(min_length=1, max_length=128)
    # Wechaty 1.x calls the sender `talkerId` (the bridge, bridges/wechaty, posts that); older bots `fromId`.
    fromId: str = Field(min_length=1, max_length=128, validation_alias=AliasChoices("fromId", "talkerId"))
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    timestamp: int = Field(gt=946_684_800_000, lt=4_102_444_800_000, description="epoch ms")
    type: MessageType
    mentionIdList: list[str] = Field(default_factory=list, max_length=500)
    roomTopic: str | None = Field(default=None, max_length=256)
    fromName: str | None = Field(default=None, max_length=128, validation_alias=AliasChoices("fromName", "talkerName"))
    # Wechaty's message.self(): the bot wrote it (its says, their echoes, the bridge's notes of room
    # events). Such a message is the bot's whoever the roster says it is: it never starts or stops a clock.
    self_: bool = Field(default=False, validation_alias=AliasChoices("self", "self_"), strict=True)

    @field_validator("roomId")
    @classmethod
    def _room_id_is_a_path_segment(cls, value: str) -> str:
        if value in (".", ".."):
            raise ValueError("a room id is never '.' or '..'")
        if bad := NOT_IN_ROOM_ID.search(value):
            raise ValueError(f"a room id holds no slash, backslash or control character; found {bad[0]!r}")
        return value

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
            from_bot=self.self_,
        )


def payload_of(m: Message) -> dict:
    """The payload the chat platform would post for `m` (the chaos benchmark plays the platform)."""
    payload = {"id": m.id, "roomId": m.room_id, "fromId": m.sender_id, "text": m.text, "timestamp": m.ts,
               "type": int(m.type), "mentionIdList": list(m.mentions)}
    if m.room_topic is not None:
        payload["roomTopic"] = m.room_topic
    if m.sender_name is not None:
        payload["fromName"] = m.sender_name
    if m.from_bot:
        payload["self"] = True
    return payload
