"""Follow-ups of idle rooms in Redis: the sorted set of when each room is to be looked at, the marks of
what was sent, and the follow-up stream (the notifier's outbox for them and their log).

The shards write a room's due moment with its snapshot (store/state.commit_shard_batch); the supervisor
reads what is due and commits each follow-up it fires with its "sent" mark in one script, on the
condition that the room's entry is still the one it read: a shard that moved the room meanwhile wins,
and the room is looked at again. So a follow-up is never sent twice and never lost after a crash.
"""
from __future__ import annotations

import orjson
import redis
from msgspec.structs import asdict

from sales_assistant.store.keys import Keys
from sales_assistant.store.state import read_log
from sales_assistant.store.wire import decode_recent

# KEYS: due zset, sent hash, follow-up stream, stats. ARGV: n fired, then (room, read score, key, JSON) per
# fired, then (room, read score, new score) per postponed.
_COMMIT = """
local n = tonumber(ARGV[1])
local i, sent = 2, 0
for _ = 1, n do
  local room, score = ARGV[i], ARGV[i + 1]
  local current = score == '' or redis.call('ZSCORE', KEYS[1], room) == score
  if current and redis.call('HGET', KEYS[2], room) ~= ARGV[i + 2] then
    redis.call('XADD', KEYS[3], '*', 'd', ARGV[i + 3])
    redis.call('HSET', KEYS[2], room, ARGV[i + 2])
    if score ~= '' then redis.call('ZREM', KEYS[1], room) end
    sent = sent + 1
  end
  i = i + 4
end
while i <= #ARGV do
  local room, score = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', KEYS[1], room) == score then
    if ARGV[i + 2] == '' then redis.call('ZREM', KEYS[1], room) else redis.call('ZADD', KEYS[1], ARGV[i + 2], room) end
  end
  i = i + 3
end
if sent > 0 then redis.call('HINCRBY', KEYS[4], 'followups', sent) end
return sent
"""


def due_rooms(r: redis.Redis, keys: Keys, until: int, limit: int) -> list[tuple[str, str]]:
    """(room, its score as Redis spells it) for the rooms due at or before `until`, earliest first."""
    rows = r.zrangebyscore(keys.followups_due, "-inf", until, start=0, num=limit, withscores=True,
                           score_cast_func=lambda raw: raw.decode() if isinstance(raw, bytes) else str(raw))
    return [(room, score) for room, score in rows]


def next_due(r: redis.Redis, keys: Keys) -> int | None:
    first = r.zrange(keys.followups_due, 0, 0, withscores=True)
    return int(first[0][1]) if first else None


def sent_keys(r: redis.Redis, keys: Keys, rooms: list[str]) -> list[str | None]:
    return r.hmget(keys.followups_sent, rooms) if rooms else []


def recent_rows(r: redis.Redis, keys: Keys, rooms: list[str], last: int) -> list[list[dict]]:
    """Each room's latest `last` messages, oldest first (the card's last exchange)."""
    pipe = r.pipeline(transaction=False)
    for room in rooms:
        pipe.lrange(keys.recent(room), -last, -1)
    return [[asdict(decode_recent(raw)) for raw in rows] for rows in pipe.execute()]


def commit_followups(r: redis.Redis, keys: Keys, fired: list[tuple[str, str, str, dict]],
                     postponed: list[tuple[str, str, int | None]]) -> int:
    """`fired`: (room, the score read, the sent key, the follow-up); `postponed`: (room, the score read, when to
    look again or None to drop it). Each only if the room's entry is still the one read (a score of "": fired
    from a FollowUpCrossed event, whatever the entry now says), and a follow-up only if its key is not the
    one last sent for the room. Returns those sent."""
    if not (fired or postponed):
        return 0
    args: list = [len(fired)]
    for room, score, key, followup in fired:
        args += [room, score, key, orjson.dumps(followup)]
    for room, score, again in postponed:
        args += [room, score, "" if again is None else str(again)]
    return int(r.register_script(_COMMIT)(keys=[keys.followups_due, keys.followups_sent, keys.followups, keys.stats],
                                          args=args))


def load_followups(r: redis.Redis, keys: Keys, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
    """The follow-up log, oldest first; only those fired in [start_ms, end_ms) when given."""
    return read_log(r, keys.followups, start_ms, end_ms)
