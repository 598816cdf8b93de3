"""Read a replay file: one Wechaty message (or a person's order: cancel, a focus/away state, a follow-up hold)
per JSON line."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sales_assistant.connectors.wechaty import WechatyMessage
from sales_assistant.core.messages import CancelClock, HoldFollowUp, Message, SetPresence

MAX_LINE_BYTES = 256_000


class CancelLine(BaseModel):
    """`{"action": "cancel", "roomId", "by", "timestamp", "reason"?}`: a manager stops a clock."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["cancel"]
    roomId: str = Field(min_length=1, max_length=128)
    by: str = Field(min_length=1, max_length=128)
    timestamp: int = Field(gt=946_684_800_000, lt=4_102_444_800_000)
    reason: str = Field(default="", max_length=1000)

    def to_order(self) -> CancelClock:
        return CancelClock(self.roomId, self.by, self.timestamp, self.reason)


class StateLine(BaseModel):
    """`{"action": "state", "staffId", "by", "timestamp", "state" (focus|meeting|away|off|null), "until"?}`:
    a rep's focus or away state set or cleared."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["state"]
    staffId: str = Field(min_length=1, max_length=128)
    by: str = Field(min_length=1, max_length=128)
    timestamp: int = Field(gt=946_684_800_000, lt=4_102_444_800_000)
    state: Literal["focus", "meeting", "away", "off"] | None
    until: int | None = Field(default=None, gt=946_684_800_000, lt=4_102_444_800_000)

    def to_order(self) -> SetPresence:
        return SetPresence(self.staffId, self.by, self.timestamp, self.state, self.until if self.state else None)


class FollowUpLine(BaseModel):
    """`{"action": "followup", "roomId", "by", "timestamp", "hold" (snooze|customer|stop|resume), "until"?}`:
    a hold on an idle room's follow-ups (`until`: the end of a snooze)."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["followup"]
    roomId: str = Field(min_length=1, max_length=128)
    by: str = Field(min_length=1, max_length=128)
    timestamp: int = Field(gt=946_684_800_000, lt=4_102_444_800_000)
    hold: Literal["snooze", "customer", "stop", "resume"]
    until: int = Field(default=0, ge=0, lt=4_102_444_800_000)

    def to_order(self) -> HoldFollowUp:
        return HoldFollowUp(self.roomId, self.by, self.timestamp, self.hold, self.until)


ORDER_LINES = {"cancel": CancelLine, "state": StateLine, "followup": FollowUpLine}


@dataclass
class ReplayFile:
    items: list[Message | CancelClock | SetPresence | HoldFollowUp] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: field: what is wrong"


def read_replay(path: Path) -> ReplayFile:
    """Valid lines in event-time order (stable for equal times); invalid lines are reported by
    number and field, never half-applied."""
    out = ReplayFile()
    with Path(path).open("rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE_BYTES:
                out.errors.append(f"line {n}: longer than {MAX_LINE_BYTES} bytes")
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                out.errors.append(f"line {n}: not valid JSON ({e})")
                continue
            try:
                if isinstance(obj, dict) and "action" in obj:
                    kind = ORDER_LINES.get(obj["action"]) if isinstance(obj["action"], str) else None
                    out.items.append((kind or CancelLine).model_validate(obj).to_order())  # unknown: cancel's error
                else:
                    out.items.append(WechatyMessage.model_validate(obj).to_message())
            except ValidationError as e:
                out.errors.append(f"line {n}: " + "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}" for err in e.errors()))
    out.items.sort(key=lambda item: item.ts)
    return out
