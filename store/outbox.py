"""What the service says in chat rooms: the outbox stream the WeChat bridge consumes, and the bridge's health.

A say (staff from the dashboard or the API, or one of the product's automations) is one entry of the
`outbox` stream with an id of its own (`say_id`, the idempotency key the bridge records in its spool).
The bridge reads the stream over HTTP (web/bridge_routes.py) through the consumer group `OUTBOX_GROUP`:
what it took and did not acknowledge first, after a restart, then new entries. Its acknowledgement, with
the message id Wechaty returned or the error, acknowledges the entry and records the outcome, once.

The bridge also reports itself (login state, its spool's length, errors counted): kept in one hash with
the time of its last contact, for /api/health, the dashboard's banner and `doctor`.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson
import redis

from sales_assistant.store.keys import OUTBOX_CONSUMER, OUTBOX_GROUP, Keys
from sales_assistant.store.streams import backlog_of, ensure_group

MAX_OUTBOX = 100_000  # entries kept in the stream; acknowledged ones are trimmed beyond this
DONE_KEPT_MS = 30 * 24 * 3600 * 1000  # a say's outcome is kept this long after the bridge acknowledged it


@dataclass(frozen=True, slots=True)
class Say:
    """One thing to say in a room, as the bridge receives it."""

    say_id: str
    room_id: str
    text: str
    mentions: list[str]
    at: int  # when it was asked for, epoch ms

    def to_json(self) -> dict:
        return {"id": self.say_id, "roomId": self.room_id, "text": self.text, "mentions": self.mentions,
                "at": self.at}


# Records a say's outcome only on its first acknowledgement: a second (the bridge resending an ack it is
# not sure arrived) changes nothing and says so.
_ACK = """
local state = redis.call('GET', KEYS[2])
if not state then return -1 end
local say = cjson.decode(state)
if say['status'] ~= 'queued' then return 0 end
say['status'] = ARGV[1]
say['message_id'] = ARGV[2] ~= '' and ARGV[2] or cjson.null
say['error'] = ARGV[3] ~= '' and ARGV[3] or cjson.null
say['done_at'] = tonumber(ARGV[4])
redis.call('SET', KEYS[2], cjson.encode(say), 'PX', ARGV[6])
redis.call('XACK', KEYS[1], ARGV[5], say['entry'])
return 1
"""


class Outbox:
    """The outbox stream and the says' states (one key per say: the say and its outcome)."""

    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys
        self._ack = r.register_script(_ACK)

    def ensure_group(self) -> None:
        ensure_group(self.r, self.keys.outbox, OUTBOX_GROUP)

    def add(self, room_id: str, text: str, mentions: list[str], at: int, by: str) -> str:
        """Queue a say; returns its id. The group exists first, so the bridge sees every entry ever added."""
        self.ensure_group()
        say = Say(f"say-{uuid.uuid4().hex}", room_id, text, list(mentions), at)
        entry = self.r.xadd(self.keys.outbox, {"d": orjson.dumps(say.to_json())}, maxlen=MAX_OUTBOX,
                            approximate=True)
        state = {**say.to_json(), "entry": entry if isinstance(entry, str) else entry.decode(), "by": by,
                 "status": "queued", "message_id": None, "error": None, "done_at": None}
        self.r.set(self.keys.outbox_say(say.say_id), orjson.dumps(state))
        return say.say_id

    def read(self, after: str, count: int, block_ms: int | None) -> tuple[list[dict], str]:
        """The bridge's next says and the cursor to read on from: after `after` among those it took and did not
        acknowledge ("0": from the first), then, once none is left (cursor ">"), new ones, waiting up to
        `block_ms`."""
        self.ensure_group()
        if after != ">":
            rows = self._xread(after, count, None)
            if rows:
                return _says(rows), rows[-1][0]
            after = ">"
        return _says(self._xread(">", count, block_ms)), ">"

    def ack(self, say_id: str, message_id: str | None, error: str | None, now: int) -> int:
        """1: recorded; 0: it was acknowledged before (nothing changes); -1: no such say."""
        status = "failed" if error else "said"
        return int(self._ack(keys=[self.keys.outbox, self.keys.outbox_say(say_id)],
                             args=[status, message_id or "", error or "", now, OUTBOX_GROUP, DONE_KEPT_MS]))

    def say(self, say_id: str) -> dict | None:
        raw = self.r.get(self.keys.outbox_say(say_id))
        return orjson.loads(raw) if raw else None

    def backlog(self) -> int:
        """Says the bridge has not acknowledged yet, taken or not."""
        return backlog_of(self.r, self.keys.outbox, OUTBOX_GROUP)

    def _xread(self, cursor: str, count: int, block_ms: int | None) -> list:
        got = self.r.xreadgroup(OUTBOX_GROUP, OUTBOX_CONSUMER, {self.keys.outbox: cursor}, count=count,
                                block=block_ms)
        return [(_text(sid), fields) for sid, fields in got[0][1]] if got else []


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _says(rows: list) -> list[dict]:
    """The says of stream rows; a pending entry trimmed meanwhile (past MAX_OUTBOX) has no fields and is skipped."""
    return [orjson.loads(fields["d"]) for _, fields in rows if fields]


# --- the bridge's own report ---------------------------------------------------------------------------

BRIDGE_FIELDS = ("login", "user_id", "user_name", "spool", "errors", "puppet", "version")


def touch_bridge(r: redis.Redis, keys: Keys, now: int, report: dict | None = None) -> None:
    """The bridge was heard from at `now`; `report`: what it says of itself (fields of BRIDGE_FIELDS)."""
    fields: dict[str, str | int] = {"last_contact": now}
    for name, value in (report or {}).items():
        if name in BRIDGE_FIELDS and value is not None:
            fields[name] = value if isinstance(value, int | str) else orjson.dumps(value).decode()
    r.hset(keys.bridge, mapping=fields)


def bridge_state(r: redis.Redis, keys: Keys) -> dict:
    """The bridge as last heard: {} when it never called."""
    raw = {_text(k): _text(v) for k, v in r.hgetall(keys.bridge).items()}
    return {k: int(v) if k in ("last_contact", "spool", "errors") else v for k, v in raw.items()}
