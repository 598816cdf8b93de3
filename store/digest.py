"""Alerts held for a rep's digest card, in Redis, so a notifier that dies loses none and sends none twice.

A chat's alerts collect in an "open" hash until the chat is due; the flusher then seals them (renames
the hash), sends the sealed batch as one card whose Lark uuid is the batch id, and only then drops it.
A crash after sealing sends the same batch again under the same uuid, which Lark drops; alerts that
arrive meanwhile wait in a new open hash for the next interval.
"""
from __future__ import annotations

import orjson
import redis

from sales_assistant.policies.deadlines import Watch
from sales_assistant.store.keys import Keys

HELD_TTL_S = 7 * 24 * 3600  # a redelivery comes minutes after a crash, not weeks

# KEYS: held marker, open hash, due zset. ARGV: alert_id, alert, chat_id, due ms, marker ttl.
_HOLD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[3])
return 1
"""

# KEYS: open, sealed, batch, due zset. ARGV: chat_id. A sealed batch not yet sent is the batch again.
_SEAL = """
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('GET', KEYS[3]) end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return false
end
redis.call('RENAME', KEYS[1], KEYS[2])
local batch = redis.call('ZSCORE', KEYS[4], ARGV[1])
redis.call('SET', KEYS[3], batch)
return batch
"""

# KEYS: open, sealed, batch, due zset. ARGV: chat_id, next due ms.
_SENT = """
redis.call('DEL', KEYS[2], KEYS[3])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
else
  redis.call('ZREM', KEYS[4], ARGV[1])
end
return 1
"""


class DigestStore:
    def __init__(self, r: redis.Redis, keys: Keys, interval_minutes: int) -> None:
        self.r, self.keys = r, keys
        self.interval_ms = interval_minutes * 60_000
        self._hold, self._seal, self._sent = (r.register_script(s) for s in (_HOLD, _SEAL, _SENT))

    def next_due(self, now_ms: int) -> int:
        """The next interval boundary (on the clock: :00 and :30 for 30 minutes), so reps know when to look."""
        return (now_ms // self.interval_ms + 1) * self.interval_ms

    def hold(self, chat_id: str, alert: dict, now_ms: int) -> bool:
        """Keep the alert for the chat's next digest; False if it was held before (a redelivery)."""
        alert_id = str(alert["alert_id"])
        held = self._hold(keys=[self.keys.lark_digest_held(chat_id, alert_id), self._key(chat_id, "open"),
                                self.keys.lark_digest_due],
                          args=[alert_id, orjson.dumps(alert), chat_id, self.next_due(now_ms), HELD_TTL_S])
        return held == 1

    def due(self, now_ms: int) -> list[str]:
        """Chats whose digest should go out now, a sealed batch left by a crash included."""
        return self.r.zrangebyscore(self.keys.lark_digest_due, "-inf", now_ms)

    def seal(self, chat_id: str) -> tuple[str, list[dict]] | None:
        """(batch id, its alerts in the order they fired), or None when nothing is held for the chat."""
        batch = self._seal(keys=self._parts(chat_id), args=[chat_id])
        if batch is None:
            return None
        alerts = [orjson.loads(raw) for raw in self.r.hvals(self._key(chat_id, "sealed"))]
        return str(batch), sorted(alerts, key=lambda a: (a["at"], a["alert_id"]))

    def sent(self, chat_id: str, now_ms: int) -> None:
        """The sealed batch reached Lark: drop it; alerts held meanwhile are due at the next boundary."""
        self._sent(keys=self._parts(chat_id), args=[chat_id, self.next_due(now_ms)])

    def _key(self, chat_id: str, part: str) -> str:
        return self.keys.lark_digest(chat_id, part)

    def _parts(self, chat_id: str) -> list[str]:
        return [self._key(chat_id, "open"), self._key(chat_id, "sealed"), self._key(chat_id, "batch"),
                self.keys.lark_digest_due]


def waits_ended(r: redis.Redis, keys: Keys, waits: list[tuple[str, str | None]]) -> list[bool]:
    """For each (room_id, clock_id): has that wait ended since (a reply, a closing message, a cancel)? A room
    whose clock now runs under another id ended that wait and began a new one; an unknown clock (None) has not."""
    if not waits:
        return []
    snapshots = r.hmget(keys.rooms, [room_id for room_id, _ in waits])
    ended = []
    for (_, clock_id), room in zip(waits, snapshots, strict=True):
        clock = orjson.loads(room).get("clock") if room else None
        ended.append(clock_id is not None and (not clock or clock[0] != clock_id))
    return ended


def still_waiting(r: redis.Redis, keys: Keys, alerts: list[dict]) -> list[dict]:
    """The latest alert of each wait that still needs one: its clock still runs, and no higher alert for it
    (an immediate level) has reached the rep since."""
    latest: dict[tuple[str, str], dict] = {}
    for alert in alerts:
        wait = (alert["room_id"], alert["clock_id"])
        if wait not in latest or alert["step"] > latest[wait]["step"]:
            latest[wait] = alert
    if not latest:
        return []
    ended = waits_ended(r, keys, list(latest))
    watches = r.hmget(keys.escalation, [room_id for room_id, _ in latest])
    waiting = []
    for alert, done, watch in zip(latest.values(), ended, watches, strict=True):
        if done:
            continue
        w = Watch.from_list(orjson.loads(watch)) if watch else None
        if w is not None and w.clock_id == alert["clock_id"] and w.next_step - 1 > alert["step"]:
            continue
        waiting.append(alert)
    return sorted(waiting, key=lambda a: (a["at"], a["room_id"]))
