"""The inbox stream: everything that changes a room enters here, once, in order.

Messages are deduplicated by id at the door (an atomic Lua script: mark seen, then XADD), and
consumed through a consumer group; an entry is acknowledged only after its effects are persisted.

The inbox also keeps its watermark: every push adds one member to a sorted set, its last entry's id
scored by the earliest event time among the items it carried (in the same script as the entries), and a
member leaves when that last entry is acknowledged (in the same script as the acknowledgement). The
ingest acknowledges in stream order, so by then every entry of the push was acknowledged, and the lowest
score bounds the event time up to which all accepted input has been applied. One member per push, not per
entry: the bound may stay a little earlier than it must while a push is half applied, never later.
The supervisor fires no deadline at or past it (actors/supervisor.py): a late backlog must
not let a clock's alert fire before the stop that is still waiting in the inbox.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis

from sales_assistant.core.messages import Message, Order
from sales_assistant.policies.backlog import stream_key
from sales_assistant.store.keys import INBOX_GROUP, Keys
from sales_assistant.store.streams import caught_up, ensure_group
from sales_assistant.store.wire import InboxRow, MessageRow, decode_inbox_row, encode, inbox_row

SEEN_TTL_S = 14 * 24 * 3600  # chat platforms redeliver within hours; two weeks is plenty

# KEYS[1]: inbox, KEYS[2]: stats, KEYS[3]: the watermark (zset: a push's last entry id -> the push's
# earliest event time), KEYS[4]: those ids in push order (a list). ARGV: seen-prefix, ttl, max backlog, the
# earliest event time among the items (a duplicate's too: the bound may only be earlier than it must, and
# one number per push packs cheaper than one per item), then (id, kind, data) triples. An empty id skips
# deduplication (manager orders carry no platform id). The door's counters and the watermark are written in the same script: a crash right after
# it cannot leave a message added but not counted, or not timed.
_PUSH = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.error_reply('BACKLOG inbox holds ' .. ARGV[3] .. ' unprocessed entries')
end
local out, added, last = {}, 0, nil
for i = 5, #ARGV, 3 do
  local id = ARGV[i]
  if id == '' or redis.call('SET', ARGV[1] .. id, '1', 'NX', 'EX', ARGV[2]) then
    last = redis.call('XADD', KEYS[1], '*', 'k', ARGV[i + 1], 'd', ARGV[i + 2])
    out[#out + 1] = 1
    added = added + 1
  else
    out[#out + 1] = 0
  end
end
if last then
  redis.call('ZADD', KEYS[3], ARGV[4], last)
  redis.call('RPUSH', KEYS[4], last)
end
redis.call('HINCRBY', KEYS[2], 'accepted', added)
if #out > added then redis.call('HINCRBY', KEYS[2], 'duplicates', #out - added) end
return out
"""

# KEYS[1]: inbox, KEYS[2]: the watermark zset, KEYS[3]: its ids in push order. ARGV[1]: the group, then the
# acknowledged ids, in stream order, the newest last. Every push whose last entry is at or before the
# newest acknowledged id is fully applied (acknowledgements come in stream order) and leaves the watermark.
_ACK = """
local n = #ARGV
for i = 2, n, 1000 do  -- unpack in slices: Lua's stack holds some thousands of values at most
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, math.min(i + 999, n)))
end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local top_ms, top_seq = parse(ARGV[n])
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then break end
  local ms, seq = parse(head)
  if ms > top_ms or (ms == top_ms and seq > top_seq) then break end
  redis.call('LPOP', KEYS[3])
  redis.call('ZREM', KEYS[2], head)
end
redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[n])
return n - 1
"""


class Backlogged(RuntimeError):
    """The pipeline is behind: the caller should slow down and retry."""


@dataclass(slots=True)
class InboxEntry:
    """One inbox entry as read: `row` is None for a kind this version does not know."""

    stream_id: str
    seq: int
    kind: str
    row: InboxRow | None


def stream_seq(stream_id: str) -> int:
    """'1700000000000-7' -> one sortable integer (the rooms' sequence numbers)."""
    ms, n = stream_key(stream_id)
    return ms * 10_000_000 + n


class Inbox:
    def __init__(self, r: redis.Redis, keys: Keys, max_backlog: int = 2_000_000) -> None:
        self.r, self.keys, self.max_backlog = r, keys, max_backlog
        self._push = r.register_script(_PUSH)
        self._ack = r.register_script(_ACK)
        # The reader skips redis-py's reply-to-dict conversion: it was half of the ingest's CPU.
        self._raw = redis.Redis(connection_pool=r.connection_pool)
        self._raw.set_response_callback("XREADGROUP", lambda response, **_: response)

    def push(self, items: list[Message | Order]) -> list[bool]:
        """Append in order; returns, per item, False where a message's id was seen before."""
        if not items:
            return []
        args: list = [self.keys.seen_prefix, SEEN_TTL_S, self.max_backlog, min(item.ts for item in items)]
        for item in items:
            row = inbox_row(item)
            args += [row.id if isinstance(row, MessageRow) else "", row.kind, encode(row)]
        try:
            flags = self._push(keys=[self.keys.inbox, self.keys.stats, self.keys.inbox_times,
                                     self.keys.inbox_pushes], args=args)
        except redis.ResponseError as e:
            if "BACKLOG" in str(e):
                raise Backlogged(str(e)) from None
            raise
        return [bool(f) for f in flags]

    # --- consumer side ---------------------------------------------------------------------------

    def ensure_group(self) -> None:
        ensure_group(self.r, self.keys.inbox, INBOX_GROUP)

    def read(self, consumer: str, count: int, block_ms: int | None, pending: bool,
             after: str = "0") -> list[InboxEntry]:
        """`pending=True` re-reads what this consumer took but never acknowledged (after a crash), from the
        entry after `after` on: a reader with a batch still in flight must not read that batch again."""
        args = ["GROUP", INBOX_GROUP, consumer, "COUNT", count]
        if block_ms is not None and not pending:
            args += ["BLOCK", block_ms]
        reply = self._raw.execute_command("XREADGROUP", *args, "STREAMS", self.keys.inbox, after if pending else ">")
        entries = []
        streams = reply.values() if isinstance(reply, dict) else [rows for _, rows in reply or []]
        for rows in streams:
            for stream_id, fields in rows:
                if fields:  # a pending entry trimmed away comes back empty
                    _, kind, _, data = fields  # the raw reply: "k", kind, "d", row
                    entries.append(InboxEntry(stream_id, stream_seq(stream_id), kind, decode_inbox_row(kind, data)))
        return entries

    def ack(self, stream_ids: list[str]) -> None:
        """Acknowledge entries, given in stream order, and release the watermark of every push they complete,
        in one script: an acknowledged push whose time stayed behind would hold every alert back for good.
        The one consumer acknowledges its batches in the order it read them, which this relies on."""
        if not stream_ids:
            return
        self._ack(keys=[self.keys.inbox, self.keys.inbox_times, self.keys.inbox_pushes],
                  args=[INBOX_GROUP, *stream_ids])

    def backlog(self) -> int:
        return self.r.xlen(self.keys.inbox)

    def caught_up(self) -> bool:
        """Nothing waits: every entry was delivered to the consumer and acknowledged."""
        return caught_up(self.r, self.keys.inbox, INBOX_GROUP)


def unapplied_since(r: redis.Redis, keys: Keys) -> int | None:
    """The watermark: the earliest event time among accepted entries not yet acknowledged, None when every
    accepted entry has been applied. Everything acknowledged before this read had its effects committed
    before its acknowledgement."""
    oldest = r.zrange(keys.inbox_times, 0, 0, withscores=True)
    return int(oldest[0][1]) if oldest else None
