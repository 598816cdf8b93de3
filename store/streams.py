"""One consumer of a Redis stream's consumer group: what it took but never acknowledged first, then new
entries, in batches.

Every reader of a stream (the supervisor on clock events, the NLP actor on staff texts, each sink on the
alerts and suggestions) needs the same at-least-once loop: after a restart, re-read its own pending
entries (from the first, or from where it was told to rewind), and only then take new ones. A crash between
taking and acknowledging therefore loses nothing; the reader's own idempotency (sequence numbers, alert
ids, Lua commits that acknowledge with their effect) makes the second delivery harmless.

    consumer = StreamConsumer(r, keys.alerts, keys.sink_group("jsonl"), "jsonl-0", count=500)
    while running:
        batch = consumer.read(block_ms=1000)   # [] when nothing new came within the block
        for entry in batch:
            handle(entry.id, entry.data)       # entry.data is None when the entry was trimmed meanwhile
        consumer.ack([e.id for e in batch])    # or acknowledge inside your own commit (Lua, MULTI)
    # on an error: consumer.rewind(), so what was taken and not acknowledged is read again

Entries carry their payload as JSON in the field `d` (every stream of the product writes it so).
`caught_up` and `backlog_of` say how far a group is behind, for health checks, folding and tests;
`oldest_unacknowledged` how long its oldest entry has waited. Several consumers of one group share a stream
(each new entry goes to one of them); `claim` takes over what a dead one had taken.

A group with one reader only (`sole=True`: a plain sink's lane) skips the pending list: it reads with XREAD
after the group's last-delivered id, and acknowledging a batch moves that id to the batch's last entry. The
group then says the same as before (caught up, behind by so many, the oldest not done), but Redis does a
sixth of the work per entry (each entry taken into a pending list and acknowledged out of it cost ~10 µs of
Redis' one thread, a plain read ~2 µs), and a crash still loses nothing: what was read and not acknowledged
is read again from the group's id.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import redis

PENDING_FROM_START = "0"


class Entry(NamedTuple):
    """One stream entry: its id and its decoded `d` field (None: trimmed while it was pending)."""

    id: str
    data: Any


def ensure_group(r: redis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create the group (and the stream) if it is not there yet; `start` "0": it sees the whole stream."""
    try:
        r.xgroup_create(stream, group, id=start, mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


def caught_up(r: redis.Redis, stream: str, group: str) -> bool:
    """Every entry of `stream` was delivered to `group` and acknowledged (no group: the stream is empty)."""
    info = _group_info(r, stream, group)
    if info is None:
        return r.xlen(stream) == 0
    return info["pending"] == 0 and not _undelivered(r, stream, info, 1)


def backlog_of(r: redis.Redis, stream: str, group: str, cap: int = 10_000) -> int:
    """Entries of `stream` the group has not acknowledged yet (taken or not), counted up to `cap`."""
    info = _group_info(r, stream, group)
    if info is None:
        return 0
    return min(cap, info["pending"] + len(_undelivered(r, stream, info, cap)))


def oldest_unacknowledged(r: redis.Redis, stream: str, group: str) -> int | None:
    """The id time (ms: when it was added) of the oldest entry the group has not acknowledged, taken or
    not; None when there is none."""
    info = _group_info(r, stream, group)
    if info is None:
        first = r.xrange(stream, count=1)
        return _id_ms(first[0][0]) if first else None
    if info["pending"]:
        return _id_ms(r.xpending(stream, group)["min"])
    nxt = _undelivered(r, stream, info, 1)
    return _id_ms(nxt[0][0]) if nxt else None


# The ids as one argument, split by the server: encoding thousands of arguments cost the client more than
# the acknowledgements cost Redis. XACK takes them 1,000 at a time (Lua's unpack stays within its stack).
_ACK = """
local ids, n = {}, 0
for id in string.gmatch(ARGV[2], '%S+') do
  ids[#ids + 1] = id
  if #ids == 1000 then n = n + redis.call('XACK', KEYS[1], ARGV[1], unpack(ids)); ids = {} end
end
if #ids > 0 then n = n + redis.call('XACK', KEYS[1], ARGV[1], unpack(ids)) end
return n
"""


def ack(r: redis.Redis, stream: str, group: str, ids: list[str]) -> None:
    """Acknowledge a batch of `group`'s entries in one command."""
    if ids:
        r.register_script(_ACK)(keys=[stream], args=[group, " ".join(ids)])


# Forward only: a reader that re-read older entries (its pending list, after a rewind) never moves the group back.
_ADVANCE = """
local to, at = ARGV[2], nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  for j = 1, #g, 2 do if g[j] == 'name' and g[j + 1] == ARGV[1] then at = g end end
end
if not at then return 0 end
local cur
for j = 1, #at, 2 do if at[j] == 'last-delivered-id' then cur = at[j + 1] end end
local function key(id) local ms, seq = string.match(id, '^(%d+)-(%d+)$'); return tonumber(ms), tonumber(seq) end
local cm, cs = key(cur)
local tm, ts = key(to)
if tm > cm or (tm == cm and ts > cs) then redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], to); return 1 end
return 0
"""


def advance(r: redis.Redis, stream: str, group: str, last_id: str) -> None:
    """A sole reader's acknowledgement: the group's last-delivered id moves forward to `last_id`."""
    r.register_script(_ADVANCE)(keys=[stream], args=[group, last_id])


def _id_ms(stream_id: str | bytes) -> int:
    return int((stream_id.decode() if isinstance(stream_id, bytes) else stream_id).split("-")[0])


def _group_info(r: redis.Redis, stream: str, group: str) -> dict | None:
    try:
        return next((g for g in r.xinfo_groups(stream) if g["name"] == group), None)
    except redis.ResponseError:  # no stream yet
        return None


def _undelivered(r: redis.Redis, stream: str, info: dict, count: int) -> list:
    """Up to `count` entries after the last one the group was handed."""
    return r.xrange(stream, min=f"({info['last-delivered-id']}", count=count)


class StreamConsumer:
    """Reads `stream` as `consumer` of `group`: its pending entries first, then new ones.

    Not thread-safe: one consumer name, one thread. Several threads of one group each take their own
    consumer name; Redis hands each new entry to exactly one of them. `sole`: this is the group's only
    reader (see the module's docstring); its own pending entries (taken before it read alone) still come
    first, and are acknowledged as such.
    """

    def __init__(self, r: redis.Redis, stream: str, group: str, consumer: str, count: int = 100,
                 create: bool = True, sole: bool = False) -> None:
        self.r, self.stream, self.group, self.consumer, self.count = r, stream, group, consumer, count
        self.sole = sole
        self._reader = _raw_reader(r)
        self._cursor = PENDING_FROM_START  # an id: re-reading pending entries after it; ">" once they are done
        self._after: str | None = None  # sole: the last id read (None: ask the group where it stands)
        self._pending_batch = False  # sole: the last batch read came from the pending list
        if create:
            ensure_group(r, stream, group)

    @property
    def pending_first(self) -> bool:
        """True while it still re-reads entries it took before and has not acknowledged."""
        return self._cursor != ">"

    def read(self, block_ms: int | None = None) -> list[Entry]:
        """The next batch (at most `count`): pending entries first, then new ones, waiting up to `block_ms`
        for new ones (None: no wait). Returns [] only when nothing is pending and nothing new came."""
        if self._cursor != ">":
            batch = self._xreadgroup(self._cursor, None)
            if batch:
                self._cursor = batch[-1].id  # the next read goes on after this batch, acknowledged or not
                self._pending_batch = True
                return batch
            self._cursor = ">"
        if not self.sole:
            return self._xreadgroup(">", block_ms)
        self._pending_batch = False
        if self._after is None:
            info = _group_info(self.r, self.stream, self.group)
            self._after = info["last-delivered-id"] if info is not None else "0-0"
        batch = self._rows(self._reader.xread({self.stream: self._after}, count=self.count, block=block_ms))
        if batch:
            self._after = batch[-1].id
        return batch

    def claim(self, min_idle_ms: int) -> list[Entry]:
        """Take over up to `count` entries of the group that another consumer (or this one) took and has
        not acknowledged for `min_idle_ms`: a consumer that died, or was removed, leaves nothing behind.
        Claimed entries become this consumer's pending ones; the reader's own commit must check it still
        owns them (a slow consumer's entries may be claimed while it works on them)."""
        start = "0-0"
        while True:  # XAUTOCLAIM looks at a few times `count` pending entries per call: go on until some are idle
            reply = self.r.xautoclaim(self.stream, self.group, self.consumer, min_idle_ms, start, count=self.count)
            claimed = [self._entry(sid, fields) for sid, fields in reply[1] if sid is not None]
            start = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
            if claimed or start == "0-0":
                return claimed

    def ack(self, ids: list[str]) -> None:
        """Acknowledge the batch last read, in one command."""
        if self.sole and not self._pending_batch:
            if ids:
                advance(self.r, self.stream, self.group, ids[-1])
            return
        ack(self.r, self.stream, self.group, ids)

    def rewind(self) -> None:
        """Read this consumer's unacknowledged entries again from the first (after a failed batch, a
        Redis restart, or a change to what those entries stand for)."""
        self._cursor = PENDING_FROM_START
        self._after = None

    def _xreadgroup(self, cursor: str, block_ms: int | None) -> list[Entry]:
        return self._rows(self._reader.xreadgroup(self.group, self.consumer, {self.stream: cursor}, count=self.count,
                                                  block=block_ms))

    @staticmethod
    def _rows(reply: Any) -> list[Entry]:
        if not reply:
            return []
        rows = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]  # RESP3 | RESP2: one stream
        return [Entry(sid.decode(), None if not fields else orjson.loads(
            fields[1] if fields[0] == b"d" else dict(zip(fields[::2], fields[1::2], strict=True))[b"d"]))
            for sid, fields in rows]

    @staticmethod
    def _entry(sid: str, fields: dict | None) -> Entry:
        if not fields:  # trimmed from the stream while it was pending
            return Entry(sid, None)
        return Entry(sid, orjson.loads(fields["d"]))


def _raw_reader(r: redis.Redis) -> redis.Redis:
    """A client of the same server for XREADGROUP and XREAD alone, answering bytes, unparsed: in a burst, decoding
    each entry's JSON to str and its fields into a dict cost the reader more than decoding the JSON itself."""
    pool = r.connection_pool
    reader = redis.Redis(connection_pool=type(pool)(connection_class=pool.connection_class,
                                                    **{**pool.connection_kwargs, "decode_responses": False}))
    reader.set_response_callback("XREADGROUP", _unparsed)
    reader.set_response_callback("XREAD", _unparsed)
    return reader


def _unparsed(reply: Any, **_options: Any) -> Any:
    return reply
