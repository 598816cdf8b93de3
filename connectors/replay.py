"""Read a replay file: one Wechaty message (or a manager's cancel order) per JSON line."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sales_assistant.connectors.wechaty import WechatyMessage
from sales_assistant.core.messages import CancelClock, Message

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


@dataclass
class ReplayFile:
    items: list[Message | CancelClock] = field(default_factory=list)
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
                    out.items.append(CancelLine.model_validate(obj).to_order())
                else:
                    out.items.append(WechatyMessage.model_validate(obj).to_message())
            except ValidationError as e:
                out.errors.append(f"line {n}: " + "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}" for err in e.errors()))
    out.items.sort(key=lambda item: item.ts)
    return out
