"""The application's storage ports (application/ports.py) on Redis: rooms, roster, the supervisor's
watches and the alert log as the pipeline wrote them, and the approvals and the audit log the
workspace writes itself."""
from __future__ import annotations

from collections.abc import Sequence

import msgspec
import orjson
import redis

from sales_assistant.core.room import Correction, Episode, Room
from sales_assistant.core.roster import Roster, Speaker
from sales_assistant.policies.deadlines import Watch
from sales_assistant.policies.presence import Presence
from sales_assistant.store.followups import load_followups
from sales_assistant.store.keys import Keys
from sales_assistant.store.labels import load_corrections
from sales_assistant.store.state import (
    known_rooms,
    load_alerts,
    load_counts,
    load_episodes,
    load_findings,
    load_hourly,
    load_presence,
    load_quality,
    load_roster,
    load_watches,
)
from sales_assistant.store.wire import decode_recent

AUDIT_MAXLEN = 100_000
ALERT_SCAN_PAGE = 500

# Decide once: the status moves from pending to a decision only if nobody decided first.
_DECIDE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local a = cjson.decode(raw)
if a.status ~= 'pending' then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class RedisRepository:
    """Implements application.ports.WorkspaceStore and ReportSource."""

    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys
        self._decide = r.register_script(_DECIDE)

    # --- rooms and what the pipeline recorded ------------------------------------------------------

    def roster(self) -> Roster:
        return load_roster(self.r, self.keys)

    def known_rooms(self, roster: Roster) -> dict[str, Room]:
        return known_rooms(self.r, self.keys, roster)

    def room(self, room_id: str) -> Room | None:
        raw = self.r.hget(self.keys.rooms, room_id)
        return None if raw is None else Room.from_dict(orjson.loads(raw))

    def last_messages(self, room_ids: Sequence[str]) -> list[dict | None]:
        pipe = self.r.pipeline(transaction=False)
        for room_id in room_ids:
            pipe.lindex(self.keys.recent(room_id), -1)
        return [None if raw is None else _recent(raw) for raw in pipe.execute()]

    def recent_messages(self, room_id: str) -> list[dict]:
        return [_recent(raw) for raw in self.r.lrange(self.keys.recent(room_id), 0, -1)]

    def message_counts(self, days: Sequence[str]) -> dict[tuple[str, Speaker], int]:
        return load_counts(self.r, self.keys, list(days))

    def episodes(self, days: Sequence[str]) -> list[Episode]:
        return load_episodes(self.r, self.keys, list(days))

    def hourly(self, days: Sequence[str]) -> dict[tuple[int, Speaker], int]:
        return load_hourly(self.r, self.keys, list(days))

    def quality(self, days: Sequence[str]) -> dict[tuple[str, str, str], int]:
        return load_quality(self.r, self.keys, list(days))

    def findings(self, days: Sequence[str]) -> list[dict]:
        return load_findings(self.r, self.keys, list(days))

    def alerts(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
        return load_alerts(self.r, self.keys, start_ms, end_ms)

    def alert(self, alert_id: str) -> dict | None:
        # A substring test on the raw entry before decoding: most entries are not the one.
        needle = orjson.dumps({"alert_id": alert_id})[1:-1].decode()  # '"alert_id":"…"' as the log holds it
        top = "+"
        while True:
            rows = self.r.xrevrange(self.keys.alerts, max=top, count=ALERT_SCAN_PAGE)
            for _, fields in rows:
                raw = fields.get("d", "")
                if needle in raw:
                    alert = orjson.loads(raw)
                    if alert.get("alert_id") == alert_id:
                        return alert
            if len(rows) < ALERT_SCAN_PAGE:
                return None
            top = f"({rows[-1][0]}"

    def watches(self) -> list[Watch]:
        return load_watches(self.r, self.keys)

    def presences(self) -> dict[str, Presence]:
        return load_presence(self.r, self.keys)

    def followups(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
        return load_followups(self.r, self.keys, start_ms, end_ms)

    # --- approvals ---------------------------------------------------------------------------------

    def approvals(self) -> list[dict]:
        return [orjson.loads(raw) for raw in self.r.hvals(self.keys.approvals)]

    def approval(self, approval_id: str) -> dict | None:
        raw = self.r.hget(self.keys.approvals, approval_id)
        return None if raw is None else orjson.loads(raw)

    def add_approval(self, approval: dict) -> None:
        self.r.hset(self.keys.approvals, approval["id"], orjson.dumps(approval))

    def decide_approval(self, approval_id: str, decided: dict) -> bool:
        return self._decide(keys=[self.keys.approvals], args=[approval_id, orjson.dumps(decided)]) == 1

    # --- the audit log -----------------------------------------------------------------------------

    def append_audit(self, entry: dict) -> None:
        self.r.xadd(self.keys.audit, {"d": orjson.dumps(entry)}, maxlen=AUDIT_MAXLEN, approximate=True)

    def corrections(self, since_ms: int | None = None) -> list[Correction]:
        return load_corrections(self.r, self.keys, since_ms)

    def audit(self, room_id: str | None, limit: int) -> list[dict]:
        out = []
        # One room's entries are spread through the log: read it all (it is capped) until `limit` are found.
        for _, fields in self.r.xrevrange(self.keys.audit, count=limit if room_id is None else AUDIT_MAXLEN):
            entry = orjson.loads(fields["d"])
            if room_id is None or entry["target"] == room_id:
                out.append(entry)
                if len(out) >= limit:
                    break
        return out


def _recent(raw: str) -> dict:
    return msgspec.structs.asdict(decode_recent(raw))
