"""The workspace behind the dashboard, the API and the Lark card buttons: room views, and every
write a person makes, checked by policies/access.py, sent to the rooms as an order through the
inbox (so it is applied once, in order with the messages), and written to the audit log.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import orjson
import redis

from core.messages import CancelClock, Reassign, Snooze
from core.room import Room
from core.roster import Roster, Stage
from core.timeutil import day_of, day_start, days
from policies import priority
from policies.access import (Action, Actor, Refused, can_view_room, check, check_owner, check_proposal,
                             take_over_stage_fits)
from policies.escalation import Policy
from store.inbox import Inbox
from store.keys import Keys
from store.state import known_rooms, load_alerts, load_counts, load_findings, load_roster, load_watches

AUDIT_MAXLEN = 100_000
MAX_SNOOZE_MINUTES = 24 * 60
MINUTE_MS = 60_000

# Decide once: the status moves from pending to a decision only if nobody decided first.
_DECIDE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local a = cjson.decode(raw)
if a.status ~= 'pending' then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class RoomFilter:
    owner: str | None = None
    stage: Stage | None = None
    waiting: bool | None = None
    level: str | None = None
    unassigned: bool | None = None
    active_today: bool | None = None
    q: str | None = None  # part of the topic or the room id


class Workspace:
    def __init__(self, r: redis.Redis, keys: Keys, inbox: Inbox, policy: Policy, tz: str,
                 rules: priority.PriorityRules = priority.DEFAULT_RULES,
                 now: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        """`now`: the service's clock in epoch ms (wall time live; the virtual clock in tests)."""
        self.r, self.keys, self.inbox, self.policy, self.tz, self.rules, self.now = r, keys, inbox, policy, tz, rules, now
        self._decide = r.register_script(_DECIDE)

    # --- reading ---------------------------------------------------------------------------------

    def roster(self) -> Roster:
        return load_roster(self.r, self.keys)

    def rooms(self, actor: Actor, flt: RoomFilter = RoomFilter(), lang: str = "zh") -> list[dict]:
        """Rooms the actor may see, matching `flt`, highest priority first."""
        now = self.now()
        roster = self.roster()
        rooms = [room for room in known_rooms(self.r, self.keys, roster).values()
                 if can_view_room(actor, room.owner_id)]
        today = day_of(now, self.tz)
        counts = load_counts(self.r, self.keys, [today])
        levels = self._levels()
        pending = {a["room_id"]: a["id"] for a in self.approvals(actor, status="pending")}
        pipe = self.r.pipeline(transaction=False)
        for room in rooms:
            pipe.lindex(self.keys.recent(room.room_id), -1)
        lasts = pipe.execute()
        rows = []
        for room, last in zip(rooms, lasts, strict=True):
            row = self._row(room, roster, now, levels, counts, pending, last, lang)
            if _matches(row, flt):
                rows.append(row)
        ranked = priority.rank(rows, key=lambda row: row.pop("_priority"))
        return [row for row, _ in ranked]

    def room(self, actor: Actor, room_id: str, lang: str = "zh") -> dict:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.VIEW, room.owner_id)
        now = self.now()
        today = day_of(now, self.tz)
        pending = {a["room_id"]: a["id"] for a in self.approvals(actor, status="pending") if a["room_id"] == room_id}
        row = self._row(room, roster, now, self._levels(), load_counts(self.r, self.keys, [today]), pending,
                        self.r.lindex(self.keys.recent(room_id), -1), lang)
        row.pop("_priority")
        week = days(date.fromordinal(date.fromisoformat(today).toordinal() - 6), date.fromisoformat(today))
        findings = [f for f in load_findings(self.r, self.keys, week) if f["room_id"] == room_id]
        start = day_start(date.fromisoformat(week[0]), self.tz)
        return {
            **row,
            "messages": [_message(orjson.loads(raw), roster) for raw in self.r.lrange(self.keys.recent(room_id), 0, -1)],
            "findings": sorted(findings, key=lambda f: f["ts"], reverse=True),
            "alerts": [a for a in load_alerts(self.r, self.keys, start) if a["room_id"] == room_id][-50:],
            "audit": self.audit(room_id=room_id, limit=50),
        }

    def approvals(self, actor: Actor, status: str | None = None) -> list[dict]:
        rows = [orjson.loads(raw) for raw in self.r.hvals(self.keys.approvals)]
        rows = [a for a in rows if (status is None or a["status"] == status) and can_view_room(actor, a["from_owner"])]
        return sorted(rows, key=lambda a: a["proposed_at"], reverse=True)

    def audit(self, room_id: str | None = None, limit: int = 200) -> list[dict]:
        out = []
        for _, fields in self.r.xrevrange(self.keys.audit, count=limit if room_id is None else AUDIT_MAXLEN):
            entry = orjson.loads(fields["d"])
            if room_id is None or entry["target"] == room_id:
                out.append(entry)
                if len(out) >= limit:
                    break
        return out

    # --- writing ---------------------------------------------------------------------------------

    def cancel_clock(self, actor: Actor, room_id: str, reason: str = "", clock_id: str | None = None) -> dict:
        room = self._load_room(room_id)
        check(actor, Action.CANCEL, room.owner_id)
        clock = self._running(room, clock_id)
        now = self.now()
        self.inbox.push([CancelClock(room_id, actor.user, max(now, clock.started_at), reason)])
        return self._record(actor, "cancel_clock", room_id, {"clock_id": clock.clock_id, "started_at": clock.started_at},
                            {"cancelled_at": now, "reason": reason})

    def snooze(self, actor: Actor, room_id: str, minutes: int, clock_id: str | None = None) -> dict:
        if not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise Refused(f"稍后提醒的分钟数须在 1 到 {MAX_SNOOZE_MINUTES} 之间",
                          f"minutes: between 1 and {MAX_SNOOZE_MINUTES}", 422)
        room = self._load_room(room_id)
        check(actor, Action.SNOOZE, room.owner_id)
        clock = self._running(room, clock_id)
        now = self.now()
        until = now + minutes * MINUTE_MS
        self.inbox.push([Snooze(room_id, actor.user, now, clock.clock_id, until)])
        return self._record(actor, "snooze", room_id, {"clock_id": clock.clock_id, "snoozed_until": clock.snoozed_until},
                            {"snoozed_until": until, "minutes": minutes})

    def take_over(self, actor: Actor, room_id: str) -> dict:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.TAKE_OVER, room.owner_id)
        take_over_stage_fits(roster, actor.staff_id, Stage(room.stage))
        return self._reassign(actor, "take_over", room, actor.staff_id, Stage(room.stage))

    def reassign(self, actor: Actor, room_id: str, owner_id: str | None, stage: Stage) -> dict:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.REASSIGN, room.owner_id)
        check_owner(roster, owner_id, stage)
        return self._reassign(actor, "reassign", room, owner_id, stage)

    def propose(self, actor: Actor, room_id: str, to_stage: Stage, to_owner: str | None, note: str = "") -> dict:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.PROPOSE, room.owner_id)
        pending = any(a["room_id"] == room_id for a in self.approvals(actor, status="pending"))
        check_proposal(roster, Stage(room.stage), room.owner_id, to_stage, to_owner, pending)
        approval = {"id": uuid.uuid4().hex[:12], "room_id": room_id, "topic": room.topic, "status": "pending",
                    "from_stage": room.stage, "from_owner": room.owner_id, "to_stage": to_stage.value,
                    "to_owner": to_owner, "proposed_by": actor.user, "proposed_by_name": actor.name,
                    "proposed_at": self.now(), "note": note, "decided_by": None, "decided_at": None,
                    "decision_note": ""}
        self.r.hset(self.keys.approvals, approval["id"], orjson.dumps(approval))
        self._record(actor, "propose_stage", room_id, {"stage": room.stage, "owner": room.owner_id},
                     {"stage": to_stage.value, "owner": to_owner, "approval_id": approval["id"]})
        return approval

    def decide(self, actor: Actor, approval_id: str, approve: bool, note: str = "") -> dict:
        check(actor, Action.DECIDE)
        raw = self.r.hget(self.keys.approvals, approval_id)
        if raw is None:
            raise Refused("没有这条待核准记录", f"no approval {approval_id!r}", 404)
        approval = orjson.loads(raw)
        if approval["status"] != "pending":
            raise Refused("这条变更已经处理过了", "this change was decided already", 409)
        roster = self.roster()
        room = self._load_room(approval["room_id"], roster)
        if approve:
            if room.stage != approval["from_stage"] or room.owner_id != approval["from_owner"]:
                raise Refused("提出变更后群聊已被修改，请重新提交", "the room changed since the proposal; propose again", 409)
            check_owner(roster, approval["to_owner"], Stage(approval["to_stage"]))
        decided = {**approval, "status": "approved" if approve else "rejected", "decided_by": actor.user,
                   "decided_by_name": actor.name, "decided_at": self.now(), "decision_note": note}
        won = self._decide(keys=[self.keys.approvals], args=[approval_id, orjson.dumps(decided)])
        if won != 1:
            raise Refused("这条变更已经处理过了", "this change was decided already", 409)
        if approve:
            self.inbox.push([Reassign(room.room_id, actor.user, self.now(), approval["to_owner"], approval["to_stage"])])
        self._record(actor, "approve_stage" if approve else "reject_stage", room.room_id,
                     {"stage": room.stage, "owner": room.owner_id, "approval_id": approval_id},
                     {"stage": approval["to_stage"] if approve else room.stage,
                      "owner": approval["to_owner"] if approve else room.owner_id, "note": note})
        return decided

    def record(self, actor: Actor, action: str, target: str, before: object, after: object) -> dict:
        """Audit a write made elsewhere (accounts, tokens)."""
        return self._record(actor, action, target, before, after)

    # --- internals -------------------------------------------------------------------------------

    def _reassign(self, actor: Actor, action: str, room: Room, owner_id: str | None, stage: Stage) -> dict:
        self.inbox.push([Reassign(room.room_id, actor.user, self.now(), owner_id, stage.value)])
        return self._record(actor, action, room.room_id, {"owner": room.owner_id, "stage": room.stage},
                            {"owner": owner_id, "stage": stage.value})

    def _record(self, actor: Actor, action: str, target: str, before: object, after: object) -> dict:
        entry = {"at": self.now(), "user": actor.user, "name": actor.name, "role": actor.role.value, "via": actor.via,
                 "action": action, "target": target, "before": before, "after": after}
        self.r.xadd(self.keys.audit, {"d": orjson.dumps(entry)}, maxlen=AUDIT_MAXLEN, approximate=True)
        return entry

    def _load_room(self, room_id: str, roster: Roster | None = None) -> Room:
        raw = self.r.hget(self.keys.rooms, room_id)
        if raw is not None:
            return Room.from_dict(orjson.loads(raw))
        info = (roster or self.roster()).rooms.get(room_id)
        if info is None:
            raise Refused("没有这个群聊", f"no room {room_id!r}", 404)
        return Room(info)

    @staticmethod
    def _running(room: Room, clock_id: str | None):
        if room.clock is None or (clock_id is not None and room.clock.clock_id != clock_id):
            raise Refused("该群当前没有在计时", "the room has no running clock", 409)
        return room.clock

    def _levels(self) -> dict[str, tuple[str, str]]:
        """room -> (clock_id, level of the last alert it fired)."""
        out = {}
        for w in load_watches(self.r, self.keys):
            if w.next_step > 0:
                step = self.policy.ladder(w.stage).step(w.next_step - 1)
                if step is not None:
                    out[w.room_id] = (w.clock_id, step.level.value)
        return out

    def _row(self, room: Room, roster: Roster, now: int, levels: dict, counts: dict, pending: dict,
             last: bytes | str | None, lang: str) -> dict:
        clock = room.clock
        level = None
        if clock is not None and room.room_id in levels and levels[room.room_id][0] == clock.clock_id:
            level = levels[room.room_id][1]
        waited = (now - clock.started_at) / MINUTE_MS if clock else None
        texts = [clock.customer_text, clock.last_text] if clock else []
        prio = priority.score(self.rules, waited_minutes=max(waited, 0.0) if waited is not None else None,
                              stage=room.stage, texts=texts, level=level)
        messages_today = sum(n for (rid, _), n in counts.items() if rid == room.room_id)
        return {
            "room_id": room.room_id, "topic": room.topic or room.room_id, "owner_id": room.owner_id,
            "owner_name": roster.name_of(room.owner_id) if room.owner_id else None, "stage": room.stage,
            "waiting": clock is not None, "clock_id": clock.clock_id if clock else None,
            "started_at": clock.started_at if clock else None, "customer_name": clock.customer_name if clock else None,
            "waiting_text": clock.last_text if clock else None,
            "snoozed_until": clock.snoozed_until if clock and clock.snoozed_until > now else None,
            "level": level, "messages_today": messages_today,
            "active_today": messages_today > 0 or clock is not None,
            "last": _message(orjson.loads(last), roster) if last else None,
            "pending_approval": pending.get(room.room_id),
            "priority": {"score": round(prio.score, 1), "why": prio.explain(lang),
                         "reasons": [r.text(lang) for r in prio.reasons]},
            "_priority": prio,
        }


def _message(row: list, roster: Roster) -> dict:
    ts, sender_id, sender_name, speaker, text, kind, closing, message_id = row
    return {"ts": ts, "sender_id": sender_id, "sender_name": sender_name or roster.name_of(sender_id),
            "speaker": speaker, "text": text, "type": kind, "closing": closing, "message_id": message_id}


def _matches(row: dict, f: RoomFilter) -> bool:
    return ((f.owner is None or row["owner_id"] == f.owner)
            and (f.stage is None or row["stage"] == f.stage.value)
            and (f.waiting is None or row["waiting"] == f.waiting)
            and (f.level is None or row["level"] == f.level)
            and (f.unassigned is None or (row["owner_id"] is None) == f.unassigned)
            and (f.active_today is None or row["active_today"] == f.active_today)
            and (not f.q or f.q.lower() in row["topic"].lower() or f.q.lower() in row["room_id"].lower()))
