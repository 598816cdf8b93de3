"""Room state, episodes, message counts, roster and escalation progress in Redis.

Each writer commits its whole batch in one MULTI/EXEC, so a crash leaves either all of a batch's
effects or none of them; the stream positions stored with the rooms make redelivery harmless.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

import orjson
import redis
from redis.commands.core import Script

from sales_assistant.core.room import Correction, Episode, Room
from sales_assistant.core.roster import Role, RoomInfo, Roster, Speaker, Staff, Stage, Team
from sales_assistant.policies.backlog import stream_key
from sales_assistant.policies.deadlines import Alert, Watch
from sales_assistant.policies.presence import Presence
from sales_assistant.store.keys import COUNT_SEP, EVENTS_GROUP, NLP_GROUP, Keys
from sales_assistant.store.wire import RecentRow, StaffTextRow, encode, encode_lines, event_to_wire


def shard_of(room_id: str, shards: int) -> int:
    """Stable across processes (Python's hash() is salted per process)."""
    return zlib.crc32(room_id.encode()) % shards


# --- roster ---------------------------------------------------------------------------------------


def save_roster(r: redis.Redis, keys: Keys, roster: Roster, overwrite_rooms: bool) -> None:
    """Staff always follow the file; rooms only seed what the service does not know yet, unless
    `overwrite_rooms` (a fresh replay), so owner changes made at run time survive a restart."""
    pipe = r.pipeline(transaction=True)
    pipe.delete(keys.staff)
    if roster.staff:
        pipe.hset(keys.staff, mapping={s.id: orjson.dumps([s.name, s.role.value, s.team, s.lark_open_id, s.backup])
                                       for s in roster.staff.values()})
    pipe.delete(keys.teams)
    if roster.teams:
        pipe.hset(keys.teams, mapping={t.name: orjson.dumps([t.away, t.public_while_away])
                                       for t in roster.teams.values()})
    if overwrite_rooms:
        pipe.delete(keys.roster_rooms)
    for room in roster.rooms.values():
        body = orjson.dumps([room.topic, room.owner, room.stage.value])
        (pipe.hset if overwrite_rooms else pipe.hsetnx)(keys.roster_rooms, room.id, body)
    pipe.incr(keys.roster_version)  # readers that cache the roster reload when it moved
    pipe.execute()


def load_staff(r: redis.Redis, keys: Keys) -> dict[str, Staff]:
    staff = {}
    for sid, raw in r.hgetall(keys.staff).items():
        name, role, team, *open_id = orjson.loads(raw)
        staff[sid] = Staff(sid, name, Role(role), team, *open_id)
    return staff


def load_teams(r: redis.Redis, keys: Keys) -> dict[str, Team]:
    return {name: Team(name, *orjson.loads(raw)) for name, raw in r.hgetall(keys.teams).items()}


def load_roster(r: redis.Redis, keys: Keys, keep_room: Callable[[str], bool] = lambda _: True) -> Roster:
    staff = load_staff(r, keys)
    rooms = {}
    for rid, raw in r.hscan_iter(keys.roster_rooms, count=2000):
        if keep_room(rid):
            topic, owner, stage = orjson.loads(raw)
            rooms[rid] = RoomInfo(rid, topic, owner, Stage(stage))
    return Roster(staff, rooms, load_teams(r, keys))


# --- rooms ----------------------------------------------------------------------------------------


def iter_rooms(r: redis.Redis, keys: Keys, keep: Callable[[str], bool] = lambda _: True) -> Iterator[Room]:
    for room_id, raw in r.hscan_iter(keys.rooms, count=2000):
        if keep(room_id):
            yield Room.from_dict(orjson.loads(raw))


def load_rooms(r: redis.Redis, keys: Keys, room_ids: list[str]) -> list[Room | None]:
    """The rooms' snapshots, None for a room no message reached yet."""
    raws = r.hmget(keys.rooms, room_ids) if room_ids else []
    return [None if raw is None else Room.from_dict(orjson.loads(raw)) for raw in raws]


def load_shard_rooms(r: redis.Redis, keys: Keys, shard: int, shards: int) -> dict[str, Room]:
    # Fetch first, then build: the fetched strings are freed together instead of leaving holes
    # between long-lived rooms (measured: a third of the memory of an idle room).
    raw = [v for rid, v in r.hscan_iter(keys.rooms, count=2000) if shard_of(rid, shards) == shard]
    rooms = {}
    while raw:
        room = Room.from_dict(orjson.loads(raw.pop()))
        rooms[room.room_id] = room
    return rooms


def known_rooms(r: redis.Redis, keys: Keys, roster: Roster) -> dict[str, Room]:
    """Every room the service knows: seen in the stream, or configured but silent so far."""
    rooms = {rid: Room(info) for rid, info in roster.rooms.items()}
    rooms.update({room.room_id: room for room in iter_rooms(r, keys)})
    return rooms


# A shard's whole batch in one atomic script call with one argument: packing thousands of small
# arguments in redis-py costs more than the writes themselves. Numbers stay inside pre-encoded
# strings because Lua's cjson would round stream positions to doubles. Inside the script every
# redis.call costs far more than a field it writes, so fields of one hash go in one HSET (`bulk`,
# in slices that stay under Lua's stack limit), and a recent list is trimmed only once it is over
# its cap.
_COMMIT = """
local function bulk(cmd, key, flat)
  for i = 1, #flat, 7000 do redis.call(cmd, key, unpack(flat, i, math.min(i + 6999, #flat))) end
end
local b = cjson.decode(ARGV[1])
if #b.rooms > 0 then bulk('HSET', KEYS[1], b.rooms) end
for _, row in ipairs(b.counts) do redis.call('HINCRBY', row[1], row[2], row[3]) end
for _, row in ipairs(b.episodes) do bulk('HSET', row[1], row[2]) end
if b.events ~= '' then redis.call('XADD', KEYS[2], '*', 'd', b.events) end
if b.staff ~= '' then redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', 'd', b.staff) end
for _, row in ipairs(b.stats) do redis.call('HINCRBY', KEYS[3], row[1], row[2]) end
local cap = tonumber(ARGV[2])
for _, row in ipairs(b.recent) do
  if redis.call('RPUSH', row[1], unpack(row[2])) > cap then redis.call('LTRIM', row[1], -cap, -1) end
end
for _, d in ipairs(b.labels or {}) do redis.call('XADD', b.labels_key, '*', 'd', d) end
for _, row in ipairs(b.presence or {}) do redis.call('HSET', KEYS[5], row[1], row[2]) end
for _, row in ipairs(b.due or {}) do
  if row[2] == '' then redis.call('ZREM', KEYS[6], row[1]) else redis.call('ZADD', KEYS[6], row[2], row[1]) end
end
return 1
"""
RECENT_PER_ROOM = 30


def _by_day(episodes: list[tuple[str, Episode]]) -> dict[str, list[str]]:
    """Closed episodes as each day's flat [episode_id, json, ...]: one HSET per day."""
    out: dict[str, list[str]] = defaultdict(list)
    for day, ep in episodes:
        out[day] += (ep.episode_id, orjson.dumps(ep.to_dict()).decode())
    return out


def commit_shard_batch(
    r: redis.Redis,
    keys: Keys,
    rooms: Iterable[Room],
    counts: dict[tuple[str, str, Speaker], int],
    episodes: list[tuple[str, Episode]],
    events: list,
    stats: dict[str, int],
    staff_texts: list[StaffTextRow] | None = None,
    recent: dict[str, list[RecentRow]] | None = None,
    hourly: dict[tuple[str, int, Speaker], int] | None = None,
    presence: Iterable[Presence] = (),
    followups_due: dict[str, int | None] | None = None,
    corrections: list[Correction] | None = None,
) -> None:
    """One shard batch, all or nothing: room snapshots, counters, closed episodes, clock events,
    what staff wrote for the NLP checks (capped: a lagging NLP actor loses checks, never messages),
    each room's latest messages for the dashboard, the reps' presence it changed and when the rooms it
    touched are due a follow-up (None: not due), and the closing labels its cancels and restarts gave."""
    body = {
        "rooms": [field for room in rooms for field in (room.room_id, orjson.dumps(room.to_dict()).decode())],
        "counts": [[keys.counts(day), f"{room_id}{COUNT_SEP}{speaker.value}", n]
                   for (day, room_id, speaker), n in counts.items()]
        + [[keys.hourly(day), f"{hour}{COUNT_SEP}{speaker.value}", n]
           for (day, hour, speaker), n in (hourly or {}).items()],
        "episodes": [[keys.episodes(day), fields] for day, fields in _by_day(episodes).items()],
        "events": orjson.dumps([event_to_wire(e) for e in events]).decode() if events else "",
        "stats": [[name, n] for name, n in stats.items() if n],
        "staff": encode(staff_texts).decode() if staff_texts else "",
        "recent": [[keys.recent(room_id), [encode(m).decode() for m in rows[-RECENT_PER_ROOM:]]]
                   for room_id, rows in (recent or {}).items()],
    }
    if corrections:  # training labels from people's cancels and restarts, kept with the orders' effects
        body["labels"], body["labels_key"] = [orjson.dumps(c.to_dict()).decode() for c in corrections], keys.labels
    if presence:
        body["presence"] = [[p.staff_id, orjson.dumps(p.to_list()).decode()] for p in presence]
    if followups_due:
        body["due"] = [[room_id, "" if at is None else str(at)] for room_id, at in followups_due.items()]
    r.register_script(_COMMIT)(keys=[keys.rooms, keys.clock_events, keys.stats, keys.staff_texts, keys.presence,
                                     keys.followups_due],
                               args=[orjson.dumps(body), RECENT_PER_ROOM])


# A check actor's results for a batch of staff messages, with the acknowledgement: exactly once. Several
# check actors share the stream (one consumer each), and one may claim another's entries while that one
# still works on them (store/streams.claim): the effects commit only if this consumer still owns every
# entry, else nothing is written and the entries it lost come back. The stream is trimmed only below the
# group's oldest pending entry, so no consumer loses an entry it holds.
_COMMIT_FINDINGS = """
local b = cjson.decode(ARGV[1])
local lost = {}
for _, id in ipairs(b.acked) do
  if #redis.call('XPENDING', KEYS[2], ARGV[2], id, id, 1, ARGV[3]) == 0 then lost[#lost + 1] = id end
end
if #lost > 0 then return lost end
for _, row in ipairs(b.findings) do redis.call('HSET', row[1], row[2], row[3]) end
for _, row in ipairs(b.quality) do redis.call('HINCRBY', row[1], row[2], row[3]) end
for _, s in ipairs(b.suggestions) do redis.call('XADD', KEYS[1], 'MAXLEN', '~', '100000', '*', 'd', s) end
for _, id in ipairs(b.acked) do redis.call('XACK', KEYS[2], ARGV[2], id) end
if b.checked > 0 then redis.call('HINCRBY', KEYS[3], 'staff_checked', b.checked) end
if b.skipped > 0 then redis.call('HINCRBY', KEYS[3], 'staff_skipped', b.skipped) end
if #b.acked > 0 then
  local pending = redis.call('XPENDING', KEYS[2], ARGV[2])
  redis.call('XTRIM', KEYS[2], 'MINID', '~', pending[1] > 0 and pending[2] or b.floor)
end
return lost
"""


def commit_findings(r: redis.Redis, keys: Keys, findings: list[tuple[str, str, dict]],
                    quality: dict[tuple[str, str], int], suggestions: list[dict], acked: list[str],
                    consumer: str, checked: int, skipped: int) -> list[str]:
    """`findings`: (day, message_id, finding); `quality`: (day, field) -> increment; `acked`: the
    staff-texts entries they come from, taken by `consumer`; `checked`: the texts in them checked (stats
    `staff_checked`), `skipped`: those left unchecked by sampling (`staff_skipped`). Returns the entries
    another consumer has claimed meanwhile: then nothing was written, and the caller commits again
    without them."""
    body = {"findings": [[keys.findings(day), mid, orjson.dumps(f).decode()] for day, mid, f in findings],
            "quality": [[keys.quality(day), field, n] for (day, field), n in quality.items()],
            "suggestions": [orjson.dumps(s).decode() for s in suggestions],
            "acked": acked, "checked": checked, "skipped": skipped,
            "floor": max(acked, key=lambda i: tuple(int(p) for p in i.split("-"))) if acked else "0"}
    lost = r.register_script(_COMMIT_FINDINGS)(keys=[keys.suggestions, keys.staff_texts, keys.stats],
                                               args=[orjson.dumps(body), NLP_GROUP, consumer])
    return [i.decode() if isinstance(i, bytes) else i for i in lost or []]


def load_quality(r: redis.Redis, keys: Keys, days: list[str]) -> dict[tuple[str, str, str], int]:
    """(scope "room"|"staff", id, "checked"|"flagged") -> messages over the days."""
    pipe = r.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(keys.quality(day))
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for mapping in pipe.execute():
        for field, n in mapping.items():
            scope, ident, what = field.split(COUNT_SEP)
            totals[(scope, ident, what)] += int(n)
    return dict(totals)


def load_findings(r: redis.Redis, keys: Keys, days: list[str]) -> list[dict]:
    pipe = r.pipeline(transaction=False)
    for day in days:
        pipe.hvals(keys.findings(day))
    return [orjson.loads(raw) for values in pipe.execute() for raw in values]


def record_rejections(r: redis.Redis, keys: Keys, rows: list[dict]) -> None:
    if not rows:
        return
    pipe = r.pipeline(transaction=False)
    for row in rows:
        pipe.xadd(keys.rejections, {"d": orjson.dumps(row)}, maxlen=10_000, approximate=True)
    pipe.execute()


# --- period data for the metrics ---------------------------------------------------------------


def load_episodes(r: redis.Redis, keys: Keys, days: list[str]) -> list[Episode]:
    pipe = r.pipeline(transaction=False)
    for day in days:
        pipe.hvals(keys.episodes(day))
    return [Episode.from_dict(orjson.loads(raw)) for values in pipe.execute() for raw in values]


def load_hourly(r: redis.Redis, keys: Keys, days: list[str]) -> dict[tuple[int, Speaker], int]:
    """(local hour of day, speaker) -> messages over the days."""
    pipe = r.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(keys.hourly(day))
    totals: dict[tuple[int, Speaker], int] = defaultdict(int)
    for mapping in pipe.execute():
        for field, n in mapping.items():
            hour, _, speaker = field.partition(COUNT_SEP)
            totals[(int(hour), Speaker(speaker))] += int(n)
    return dict(totals)


def load_counts(r: redis.Redis, keys: Keys, days: list[str]) -> dict[tuple[str, Speaker], int]:
    pipe = r.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(keys.counts(day))
    totals: dict[tuple[str, Speaker], int] = defaultdict(int)
    for mapping in pipe.execute():
        for field, n in mapping.items():
            room_id, _, speaker = field.rpartition(COUNT_SEP)
            totals[(room_id, Speaker(speaker))] += int(n)
    return dict(totals)


# --- the supervisor's progress and the alert log -----------------------------------------------


def load_presence(r: redis.Redis, keys: Keys, keep: Callable[[str], bool] = lambda _: True) -> dict[str, Presence]:
    """The reps' focus/away spells, as the shards last committed them."""
    return {sid: Presence.from_list(sid, orjson.loads(raw)) for sid, raw in r.hgetall(keys.presence).items()
            if keep(sid)}


def load_watches(r: redis.Redis, keys: Keys) -> list[Watch]:
    return [Watch.from_list(orjson.loads(raw)) for _, raw in r.hscan_iter(keys.escalation, count=2000)]


# Same reasoning as _COMMIT: one script call, atomic.
# ARGV: the events group, the alerts (JSON documents, one per line: a JSON document never holds a raw
# newline), the watches' room ids (one JSON array) and their documents (one per line, in that order), the
# held alerts (one JSON array: id, document, id, document, ...), the released alerts' ids (one JSON array),
# then the acknowledged event ids. Blobs instead of an argument per alert: in a burst, tens of thousands of
# arguments cost the client more to encode than the script costs the server; and documents one per line,
# not as strings inside a JSON array, spare the client escaping every quote of every watch. The lines are
# cut with a plain find (a memchr), not a pattern that Lua matches character by character (that cost as
# much as the XADD of a 300-byte alert), and the watches go in one HSET per 500 (a redis.call costs more
# than the field it writes), the events in one XACK.
_COMMIT_ESCALATION = """
local n, s, p = 0, ARGV[2], 1
while p <= #s do
  local e = string.find(s, '\\n', p, true) or #s + 1
  redis.call('XADD', KEYS[1], '*', 'd', string.sub(s, p, e - 1)); n = n + 1; p = e + 1
end
local rooms, fields, k = cjson.decode(ARGV[3]), {}, 0
s, p = ARGV[4], 1
for i = 1, #rooms do
  local e = string.find(s, '\\n', p, true) or #s + 1
  fields[k + 1] = rooms[i]; fields[k + 2] = string.sub(s, p, e - 1); k = k + 2; p = e + 1
  if k == 1000 or i == #rooms then redis.call('HSET', KEYS[2], unpack(fields, 1, k)); k = 0 end
end
local held = cjson.decode(ARGV[5])
for j = 1, #held, 2 do redis.call('HSET', KEYS[5], held[j], held[j + 1]) end
for _, id in ipairs(cjson.decode(ARGV[6])) do redis.call('HDEL', KEYS[5], id) end
for j = 7, #ARGV, 1000 do redis.call('XACK', KEYS[3], ARGV[1], unpack(ARGV, j, math.min(j + 999, #ARGV))) end
if #ARGV > 6 then redis.call('XTRIM', KEYS[3], 'MINID', '~', ARGV[#ARGV]) end
if n > 0 then redis.call('HINCRBY', KEYS[4], 'alerts', n) end
return n
"""


def commit_escalation(r: redis.Redis, keys: Keys, alerts: list[Alert | dict], watches: dict[str, Watch],
                      acked_event_ids: list[str], held: dict[str, dict] | None = None,
                      released: list[str] = ()) -> None:
    """Alerts into the outbox together with the progress that says they fired: never twice. `held`: private
    alerts kept back while their owner is away (by alert id); `released`: held ones now in `alerts`."""
    send_escalation(r, keys, alerts, watches, acked_event_ids, held, released).wait()


class SentCommit:
    """A commit sent to Redis and not yet answered: the supervisor prepares the next part of a burst while Redis
    applies this one. `wait` returns once it is applied and raises what applying it raised (a connection lost
    before the answer: applied or not, as a lost reply always was). No keys: there was nothing to commit."""

    def __init__(self, r: redis.Redis, script: Script, keys: tuple = (), args: tuple = ()) -> None:
        self.r, self.script, self.keys, self.args = r, script, keys, args
        self.conn = None
        if keys:
            self.conn = r.connection_pool.get_connection()
            self._send()

    def _send(self) -> None:
        try:
            self.conn.send_command("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)
        except BaseException:
            self._release(broken=True)
            raise

    def wait(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.read_response()
        except redis.exceptions.NoScriptError:  # a restarted Redis: nothing was applied; load it and apply it now
            self.script.sha = self.r.script_load(self.script.script)
            self._send()
            self.wait()
            return
        except redis.ResponseError:  # the answer was read: the connection is clean
            self._release()
            raise
        except BaseException:  # no answer read (a lost connection): the connection cannot be used again
            self._release(broken=True)
            raise
        self._release()

    def _release(self, broken: bool = False) -> None:
        if broken:
            self.conn.disconnect()
        self.r.connection_pool.release(self.conn)
        self.conn = None


def send_escalation(r: redis.Redis, keys: Keys, alerts: list[Alert | dict], watches: dict[str, Watch],
                    acked_event_ids: list[str], held: dict[str, dict] | None = None,
                    released: list[str] = ()) -> SentCommit:
    """commit_escalation, sent without waiting for Redis' answer (see SentCommit)."""
    script = r.register_script(_COMMIT_ESCALATION)
    if not (alerts or watches or acked_event_ids or held or released):
        return SentCommit(r, script)
    docs = encode_lines(alerts)  # an Alert encodes as its to_dict() would
    progress = encode_lines([w.to_list() for w in watches.values()])
    kept = orjson.dumps([x for aid, a in (held or {}).items() for x in (aid, orjson.dumps(a).decode())])
    return SentCommit(r, script, (keys.alerts, keys.escalation, keys.clock_events, keys.stats, keys.presence_held),
                      (EVENTS_GROUP, docs, orjson.dumps(list(watches)), progress, kept, orjson.dumps(list(released)),
                       *acked_event_ids))


def load_alerts(r: redis.Redis, keys: Keys, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
    return read_log(r, keys.alerts, start_ms, end_ms)


def read_log(r: redis.Redis, stream: str, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
    """A log stream's documents (alerts, follow-ups), oldest first; only those `at` in [start_ms, end_ms) when given."""
    out = []
    for _, fields in r.xrange(stream):
        doc = orjson.loads(fields["d"])
        if (start_ms is None or doc["at"] >= start_ms) and (end_ms is None or doc["at"] < end_ms):
            out.append(doc)
    return out


def entries_after(r: redis.Redis, stream: str, last_id: str) -> tuple[list[dict], str]:
    """Alerts (or suggestions) added since `last_id` ("0" for all): lets a terminal follow them."""
    rows = r.xrange(stream, min=f"({last_id}" if last_id != "0" else "-")
    return [orjson.loads(f["d"]) for _, f in rows], (rows[-1][0] if rows else last_id)


def trim_alert_log(r: redis.Redis, keys: Keys, now_ms: int, days: int) -> int:
    """Drop the alert log's entries older than `days` that every consumer group (each sink) has acknowledged;
    returns how many went. An entry a sink has not taken or not acknowledged stays, however old."""
    try:
        groups = r.xinfo_groups(keys.alerts)
    except redis.ResponseError:  # no stream yet
        return 0
    keep = (now_ms - days * 86_400_000, 0)  # XTRIM MINID drops the entries below this id
    for group in groups:
        ms, seq = stream_key(group["last-delivered-id"])
        keep = min(keep, (ms, seq + 1))
        if group["pending"]:
            keep = min(keep, stream_key(r.xpending(keys.alerts, group["name"])["min"]))
    ms, seq = keep
    return int(r.xtrim(keys.alerts, minid=f"{ms}-{seq}", approximate=False))


def stats(r: redis.Redis, keys: Keys) -> dict[str, int]:
    return {k: int(v) for k, v in r.hgetall(keys.stats).items()}


def set_nlp_state(r: redis.Redis, keys: Keys, state: str, since_ms: int) -> None:
    """The NLP actor's state as the ingest sees it: off | loading | ready | failed (actors/ingest.py)."""
    r.hset(keys.nlp_state, mapping={"state": state, "since": since_ms})


def nlp_state(r: redis.Redis, keys: Keys) -> dict:
    """{"state", "since"} as the ingest last wrote them; "unknown" before an ingest has started."""
    got = r.hgetall(keys.nlp_state)
    return {"state": got.get("state", "unknown"), "since": int(got["since"]) if "since" in got else None}
