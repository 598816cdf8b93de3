"""The workspace behind the dashboard, the API and the Lark card buttons: who may see which rooms,
ranked by priority, and every write a person makes.

Each write is checked by policies/access.py, sent to the rooms as an order through the inbox (so it
is applied once, in order with the messages) and written to the audit log. A stage change is a
proposal that a manager approves or rejects, once. Views are data (RoomView, plain dicts, priority
reasons with their codes); the interfaces turn them into text in the reader's language.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sales_assistant.application.ports import Orders, Says, WorkspaceStore
from sales_assistant.application.report import build_report, check_days, scope_of
from sales_assistant.core.messages import CancelClock, HoldFollowUp, Reassign, RestartClock, SetPresence, Snooze
from sales_assistant.core.metrics import DEFAULT_THRESHOLD_MINUTES
from sales_assistant.core.room import Clock, Correction, Judgement, Room, last_word
from sales_assistant.core.roster import Roster, Stage
from sales_assistant.core.timeutil import day_of, day_start, days, today
from sales_assistant.policies import priority
from sales_assistant.policies.access import (
    Action,
    Actor,
    Refusal,
    Refused,
    UserRole,
    can_view_room,
    check,
    check_owner,
    check_proposal,
    take_over_stage_fits,
)
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.followups import HOLDS
from sales_assistant.policies.presence import PRIVATE, PresenceState, route

MAX_SNOOZE_MINUTES = 24 * 60
MAX_RANGE_DAYS = 366
MINUTE_MS = 60_000
ROOM_ALERTS = 50  # a room's page shows its latest alerts and audit entries, not its whole history
ROOM_AUDIT = 50
MAX_PRESENCE_DAYS = 30  # a focus or away state lasts at most this long when given an end
MAX_FOLLOWUP_SNOOZE_MINUTES = 30 * 24 * 60


@dataclass(frozen=True, slots=True)
class RepState:
    """A rep's focus/away state now, as the dashboard shows it: since and until when, and who gets their
    private alerts meanwhile (`covered_by`; None with `held`: they wait until the rep is back)."""

    staff_id: str
    name: str
    team: str
    state: str | None
    since: int | None
    until: int | None
    covered_by: str | None
    covered_by_name: str | None
    held: bool


@dataclass(frozen=True, slots=True)
class RoomFilter:
    owner: str | None = None
    stage: Stage | None = None
    waiting: bool | None = None
    level: str | None = None
    unassigned: bool | None = None
    active_today: bool | None = None
    q: str | None = None  # part of the topic or the room id

    def matches(self, row: RoomView) -> bool:
        q = self.q.lower() if self.q else None
        return ((self.owner is None or row.owner_id == self.owner)
                and (self.stage is None or row.stage == self.stage)
                and (self.waiting is None or row.waiting == self.waiting)
                and (self.level is None or row.level == self.level)
                and (self.unassigned is None or (row.owner_id is None) == self.unassigned)
                and (self.active_today is None or row.active_today == self.active_today)
                and (q is None or q in row.topic.lower() or q in row.room_id.lower()))


ALL_ROOMS = RoomFilter()


@dataclass(frozen=True, slots=True)
class RoomView:
    """A room as a list row shows it: who owns it, whether and since when a customer waits, the level
    the wait's alerts reached, the latest message, and how urgent it is (with the reasons)."""

    room_id: str
    topic: str
    owner_id: str | None
    owner_name: str | None
    stage: Stage
    waiting: bool
    clock_id: str | None
    started_at: int | None
    customer_name: str | None
    waiting_text: str | None
    snoozed_until: int | None  # only while the snooze lasts
    level: str | None  # of the running clock's last alert
    messages_today: int
    active_today: bool
    last: dict | None  # the latest message (see message_view)
    pending_approval: str | None  # the id of a stage change waiting for a manager
    priority: priority.Priority


@dataclass(frozen=True, slots=True)
class RoomDetail:
    """One room's page: its row, recent messages, this week's wording findings, alerts and audit, and a
    doubtful closing label that silenced a customer (a clock a person may restart)."""

    view: RoomView
    messages: list[dict]
    findings: list[dict]
    alerts: list[dict]
    audit: list[dict]
    judged: Judgement | None = None


class Workspace:
    """What a person can see and do, whether they come through the dashboard, the API or a Lark button."""

    def __init__(self, store: WorkspaceStore, orders: Orders, tz: str, now: Callable[[], int], *,
                 rules: priority.PriorityRules = priority.DEFAULT_RULES,
                 threshold_minutes: float = DEFAULT_THRESHOLD_MINUTES, policy: Policy | None = None,
                 says: Says | None = None) -> None:
        """`now`: the service's clock in epoch ms (wall time live, virtual time in replays and tests);
        `threshold_minutes`: when an answer counts as late in the report; `policy`: which stages count
        business time, for the report's business reply times."""
        self.store, self.orders, self.tz, self.rules = store, orders, tz, rules
        self.threshold_minutes, self.now, self.policy = threshold_minutes, now, policy
        self.says = says  # the outbox to the chat rooms (the WeChat bridge); None where nothing can be said

    # --- reading ---------------------------------------------------------------------------------

    def roster(self) -> Roster:
        return self.store.roster()

    def rooms(self, actor: Actor, flt: RoomFilter = ALL_ROOMS) -> list[RoomView]:
        """Rooms the actor may see, matching `flt`, highest priority first."""
        now = self.now()
        roster = self.roster()
        rooms = [room for room in self.store.known_rooms(roster).values() if can_view_room(actor, room.owner_id)]
        counts = self._messages_today(now)
        levels = self._levels()
        pending = self._pending(actor)
        lasts = self.store.last_messages([room.room_id for room in rooms])
        rows = [self._view(room, roster, now, levels, counts, pending, last)
                for room, last in zip(rooms, lasts, strict=True)]
        ranked = priority.rank((row for row in rows if flt.matches(row)), key=lambda row: row.priority)
        return [row for row, _ in ranked]

    def room(self, actor: Actor, room_id: str) -> RoomDetail:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.VIEW, room.owner_id)
        now = self.now()
        last = self.store.last_messages([room_id])[0]
        view = self._view(room, roster, now, self._levels(), self._messages_today(now), self._pending(actor), last)
        end = today(now, self.tz)
        first = date.fromordinal(end.toordinal() - 6)  # the room's week, for its findings and alerts
        week, start = days(first, end), day_start(first, self.tz)
        return RoomDetail(
            view,
            messages=[message_view(m, roster) for m in self.store.recent_messages(room_id)],
            findings=sorted((f for f in self.store.findings(week) if f["room_id"] == room_id),
                            key=lambda f: f["ts"], reverse=True),
            alerts=[a for a in self.store.alerts(start) if a["room_id"] == room_id][-ROOM_ALERTS:],
            audit=self.store.audit(room_id, ROOM_AUDIT), judged=room.judged)

    def approvals(self, actor: Actor, status: str | None = None) -> list[dict]:
        """Stage changes the actor may see, newest first; only those in `status` when given."""
        rows = [a for a in self.store.approvals()
                if (status is None or a["status"] == status) and can_view_room(actor, a["from_owner"])]
        return sorted(rows, key=lambda a: a["proposed_at"], reverse=True)

    def audit(self, actor: Actor, room_id: str | None = None, limit: int = 200) -> list[dict]:
        """Who changed what: one room's entries for whoever may see the room, the whole log for
        managers and viewers."""
        if room_id is not None:
            check(actor, Action.VIEW, self._load_room(room_id).owner_id)
        elif actor.role is UserRole.SALES:
            check(actor, Action.ADMIN)
        return self.store.audit(room_id, limit)

    def alerts(self, actor: Actor, limit: int) -> list[dict]:
        """The alert log newest first, the actor's rooms only."""
        return [a for a in reversed(self.store.alerts()) if can_view_room(actor, a["owner_id"])][:limit]

    def alert(self, alert_id: str) -> dict | None:
        """The alert a Lark card was built from, to redraw the card after one of its buttons was pressed."""
        return self.store.alert(alert_id)

    def period(self, start: date | None, end: date | None, default_days: int = 1) -> tuple[date, date]:
        """The business days a report covers: as asked, else the `default_days` up to today."""
        check_days(**{name: day for name, day in (("start", start), ("end", end)) if day is not None})
        last = end or today(self.now(), self.tz)
        first = start or (last if end else date.fromordinal(last.toordinal() - default_days + 1))
        if last < first:
            raise Refused(Refusal.RANGE_REVERSED, 422)
        if (last - first).days >= MAX_RANGE_DAYS:
            raise Refused(Refusal.RANGE_TOO_LONG, 422, days=MAX_RANGE_DAYS)
        return first, last

    def report(self, actor: Actor, first: date, last: date) -> dict:
        """The period report (application/report.py) as the actor may see it."""
        return build_report(self.store, first, last, self.tz, self.threshold_minutes, self.now(), scope_of(actor),
                            self.policy)

    def holiday_gaps(self) -> dict[str, list[int]]:
        """team -> years its calendar's statutory holidays are unknown for and that matter now (a warning)."""
        return self.policy.holiday_gaps(self.now()) if self.policy is not None else {}

    # --- writing ---------------------------------------------------------------------------------

    def cancel_clock(self, actor: Actor, room_id: str, reason: str = "", clock_id: str | None = None,
                     on_behalf_of: str | None = None) -> dict:
        """`on_behalf_of`: the person an integration says it acts for, recorded beside the caller."""
        room = self._load_room(room_id)
        check(actor, Action.CANCEL, room.owner_id)
        clock = _running(room, clock_id)
        now = self.now()
        self.orders.push([CancelClock(room_id, actor.user, max(now, clock.started_at), reason)])
        return self._record(actor, "cancel_clock", room_id,
                            {"clock_id": clock.clock_id, "started_at": clock.started_at},
                            {"cancelled_at": now, "reason": reason}, on_behalf_of)

    def restart_clock(self, actor: Actor, room_id: str, message_id: str | None = None) -> dict:
        """Start the clock a doubtful closing label silenced, from the judged message's time (`message_id`:
        the judgement the person saw, when they name it). The room applies it once: a second order finds
        the clock running and does nothing."""
        room = self._load_room(room_id)
        check(actor, Action.RESTART, room.owner_id)
        judged = room.judged
        if judged is None or room.clock is not None or (message_id is not None and judged.message_id != message_id):
            raise Refused(Refusal.NO_JUDGEMENT, 409)
        now = self.now()
        self.orders.push([RestartClock(room_id, actor.user, max(now, judged.at), judged.message_id)])
        return self._record(actor, "restart_clock", room_id,
                            {"message_id": judged.message_id, "text": judged.text, "score": judged.score,
                             "judged_at": judged.at},
                            {"restarted_at": now, "clock_started_at": judged.at})

    def labels(self, actor: Actor, since_ms: int | None = None) -> list[Correction]:
        """The closing labels people's cancels and restarts gave (one per message, the latest), of the rooms
        the actor may see: a rep's own rooms, every room for a manager or viewer."""
        return [c for c in last_word(self.store.corrections(since_ms)) if can_view_room(actor, c.owner_id)]

    def snooze(self, actor: Actor, room_id: str, minutes: int, clock_id: str | None = None) -> dict:
        if not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise Refused(Refusal.SNOOZE_MINUTES, 422, max=MAX_SNOOZE_MINUTES)
        room = self._load_room(room_id)
        check(actor, Action.SNOOZE, room.owner_id)
        clock = _running(room, clock_id)
        now = self.now()
        until = now + minutes * MINUTE_MS
        self.orders.push([Snooze(room_id, actor.user, now, clock.clock_id, until)])
        return self._record(actor, "snooze", room_id,
                            {"clock_id": clock.clock_id, "snoozed_until": clock.snoozed_until},
                            {"snoozed_until": until, "minutes": minutes})

    def take_over(self, actor: Actor, room_id: str) -> dict:
        roster = self.roster()
        room = self._load_room(room_id, roster)
        check(actor, Action.TAKE_OVER, room.owner_id)
        take_over_stage_fits(roster, actor.staff_id, room.stage)
        return self._reassign(actor, "take_over", room, actor.staff_id, room.stage)

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
        pending = room_id in self._pending(actor)
        check_proposal(roster, room.stage, room.owner_id, to_stage, to_owner, pending)
        approval = {"id": uuid.uuid4().hex[:12], "room_id": room_id, "topic": room.topic, "status": "pending",
                    "from_stage": room.stage, "from_owner": room.owner_id, "to_stage": to_stage.value,
                    "to_owner": to_owner, "proposed_by": actor.user, "proposed_by_name": actor.name,
                    "proposed_at": self.now(), "note": note, "decided_by": None, "decided_at": None,
                    "decision_note": ""}
        self.store.add_approval(approval)
        self._record(actor, "propose_stage", room_id, {"stage": room.stage, "owner": room.owner_id},
                     {"stage": to_stage.value, "owner": to_owner, "approval_id": approval["id"]})
        return approval

    def decide(self, actor: Actor, approval_id: str, approve: bool, note: str = "") -> dict:
        check(actor, Action.DECIDE)
        approval = self.store.approval(approval_id)
        if approval is None:
            raise Refused(Refusal.NO_APPROVAL, 404, approval_id=approval_id)
        if approval["status"] != "pending":
            raise Refused(Refusal.DECIDED, 409)
        roster = self.roster()
        room = self._load_room(approval["room_id"], roster)
        if approve:
            if room.stage != approval["from_stage"] or room.owner_id != approval["from_owner"]:
                raise Refused(Refusal.ROOM_CHANGED, 409)
            check_owner(roster, approval["to_owner"], Stage(approval["to_stage"]))
        decided = {**approval, "status": "approved" if approve else "rejected", "decided_by": actor.user,
                   "decided_by_name": actor.name, "decided_at": self.now(), "decision_note": note}
        if not self.store.decide_approval(approval_id, decided):
            raise Refused(Refusal.DECIDED, 409)  # somebody decided between our read and our write
        if approve:
            self.orders.push([Reassign(room.room_id, actor.user, self.now(), approval["to_owner"],
                                       approval["to_stage"])])
        self._record(actor, "approve_stage" if approve else "reject_stage", room.room_id,
                     {"stage": room.stage, "owner": room.owner_id, "approval_id": approval_id},
                     {"stage": approval["to_stage"] if approve else room.stage,
                      "owner": approval["to_owner"] if approve else room.owner_id, "note": note})
        return decided

    # --- focus and away states -------------------------------------------------------------------

    def presence_board(self, actor: Actor) -> list[RepState]:
        """Every rep's state now and who covers them; a rep sees everyone's (to know whom to ask)."""
        now, roster, presences = self.now(), self.roster(), self.store.presences()
        rows = []
        for member in sorted(roster.owners(), key=lambda s: s.id):
            spell = presences[member.id].at(now) if member.id in presences else None
            r = route((PRIVATE,), member, now, presences, roster.team(member.team))
            rows.append(RepState(member.id, member.name, member.team, spell.state.value if spell else None,
                                 spell.start if spell else None, spell.end if spell else None, r.private_to,
                                 roster.name_of(r.private_to) if r.private_to else None, bool(r.held)))
        return rows

    def set_presence(self, actor: Actor, staff_id: str, state: str | None, minutes: int | None = None,
                     until: int | None = None) -> dict:
        """专注 / 会议 / 外出 / 下班 for `minutes`, until `until` (epoch ms), or until cleared; `state` None clears."""
        roster = self.roster()
        if staff_id not in roster.staff:
            raise Refused(Refusal.NOT_ON_ROSTER, 404, staff_id=staff_id)
        check(actor, Action.SET_PRESENCE, staff_id)
        if state is not None and state not in set(PresenceState):
            raise Refused(Refusal.PRESENCE_STATE, 422, states=", ".join(PresenceState))
        now = self.now()
        if minutes is not None:
            if not 1 <= minutes <= MAX_PRESENCE_DAYS * 24 * 60:
                raise Refused(Refusal.PRESENCE_LENGTH, 422, field="minutes", max_days=MAX_PRESENCE_DAYS)
            until = now + minutes * MINUTE_MS
        elif until is not None and not now < until <= now + MAX_PRESENCE_DAYS * 24 * 60 * MINUTE_MS:
            raise Refused(Refusal.PRESENCE_LENGTH, 422, field="until", max_days=MAX_PRESENCE_DAYS)
        known = self.store.presences().get(staff_id)
        spell = known.at(now) if known else None
        self.orders.push([SetPresence(staff_id, actor.user, now, state, until if state else None)])
        return self._record(actor, "set_presence" if state else "clear_presence", staff_id,
                            {"state": spell.state.value if spell else None, "until": spell.end if spell else None},
                            {"state": state, "until": until if state else None})

    # --- follow-ups of idle rooms -------------------------------------------------------------------

    def hold_follow_up(self, actor: Actor, room_id: str, hold: str, minutes: int | None = None) -> dict:
        """稍后提醒 ("snooze" for `minutes`, or "customer": until the customer writes), 不再跟进 ("stop"), or
        "resume"; 我来跟进 is `take_over` (or nothing to do for the owner)."""
        if hold not in HOLDS:
            raise Refused(Refusal.FOLLOWUP_HOLD, 422, holds=", ".join(HOLDS))
        room = self._load_room(room_id)
        check(actor, Action.FOLLOW_UP, room.owner_id)
        now, until = self.now(), 0
        if hold == "snooze":
            if minutes is None or not 1 <= minutes <= MAX_FOLLOWUP_SNOOZE_MINUTES:
                raise Refused(Refusal.FOLLOWUP_MINUTES, 422, max=MAX_FOLLOWUP_SNOOZE_MINUTES)
            until = now + minutes * MINUTE_MS
        self.orders.push([HoldFollowUp(room_id, actor.user, now, hold, until)])
        return self._record(actor, "followup_" + hold, room_id, {"hold": list(room.hold) if room.hold else None},
                            {"hold": hold, "until": until or None})

    # --- internals -------------------------------------------------------------------------------

    def say(self, actor: Actor, room_id: str, text: str, mentions: Sequence[str] = ()) -> dict:
        """Say `text` in the room through the WeChat bridge, as a person: a rep only in their own rooms."""
        room = self._load_room(room_id)
        check(actor, Action.SAY, room.owner_id)
        return self._say(actor, room_id, text, mentions)

    def automated_say(self, feature: str, room_id: str, text: str, mentions: Sequence[str] = ()) -> dict:
        """Say `text` in the room for one of the product's own automations (`feature`: "faq", "ticket",
        "sop", "follow_up", ...). No person asks, so no role is checked; it is audited under the feature's
        name, and the bot's echo of it, like every bot message, never starts or stops a clock."""
        self._load_room(room_id)
        return self._say(Actor(f"automation:{feature}", feature, UserRole.MANAGER, via="automation"), room_id, text,
                         mentions)

    def said(self, say: dict, error: str | None) -> dict | None:
        """The bridge's outcome of a say: a failure (the bot is not in the room, the platform refused) is
        audited on the room, so its page shows it; a success was audited when it was asked for."""
        if error is None:
            return None
        bridge = Actor("wechaty-bridge", "WeChat bridge", UserRole.MANAGER, via="bridge")
        return self._record(bridge, "say_failed", say["roomId"], {"say_id": say["id"], "text": say["text"]},
                            {"error": error})

    def _say(self, actor: Actor, room_id: str, text: str, mentions: Sequence[str]) -> dict:
        if self.says is None:
            raise RuntimeError("this workspace has no outbox to say anything through")
        if not text.strip():
            raise Refused(Refusal.EMPTY_SAY, 422)
        say_id = self.says.add(room_id, text, list(mentions), self.now(), actor.user)
        return self._record(actor, "say", room_id, None, {"say_id": say_id, "text": text, "mentions": list(mentions)})

    def _reassign(self, actor: Actor, action: str, room: Room, owner_id: str | None, stage: Stage) -> dict:
        self.orders.push([Reassign(room.room_id, actor.user, self.now(), owner_id, stage.value)])
        return self._record(actor, action, room.room_id, {"owner": room.owner_id, "stage": room.stage},
                            {"owner": owner_id, "stage": stage.value})

    def _record(self, actor: Actor, action: str, target: str, before: object, after: object,
                on_behalf_of: str | None = None) -> dict:
        """The audit entry names who called (`user`); whom an integration acted for is a field of its own."""
        entry = {"at": self.now(), "user": actor.user, "name": actor.name, "role": actor.role.value, "via": actor.via,
                 "action": action, "target": target, "before": before, "after": after}
        if on_behalf_of is not None:
            entry["on_behalf_of"] = on_behalf_of
        self.store.append_audit(entry)
        return entry

    def _load_room(self, room_id: str, roster: Roster | None = None) -> Room:
        room = self.store.room(room_id)
        if room is not None:
            return room
        info = (roster or self.roster()).rooms.get(room_id)
        if info is None:
            raise Refused(Refusal.NO_ROOM, 404, room_id=room_id)
        return Room(info)

    def _pending(self, actor: Actor) -> dict[str, str]:
        """room -> the id of its stage change waiting for a decision."""
        return {a["room_id"]: a["id"] for a in self.approvals(actor, status="pending")}

    def _messages_today(self, now: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for (room_id, _speaker), n in self.store.message_counts([day_of(now, self.tz)]).items():
            out[room_id] = out.get(room_id, 0) + n
        return out

    def _levels(self) -> dict[str, tuple[str, str]]:
        """room -> (clock_id, level of the last alert that clock fired), as the supervisor stored it."""
        return {w.room_id: (w.clock_id, w.level) for w in self.store.watches() if w.level is not None}

    def _view(self, room: Room, roster: Roster, now: int, levels: dict[str, tuple[str, str]],
              messages_today: dict[str, int], pending: dict[str, str], last: dict | None) -> RoomView:
        clock = room.clock
        fired = levels.get(room.room_id)
        level = fired[1] if clock is not None and fired is not None and fired[0] == clock.clock_id else None
        waited = max((now - clock.started_at) / MINUTE_MS, 0.0) if clock else None
        prio = priority.score(self.rules, waited_minutes=waited, stage=room.stage,
                              texts=[clock.customer_text, clock.last_text] if clock else [], level=level)
        today_n = messages_today.get(room.room_id, 0)
        return RoomView(
            room_id=room.room_id, topic=room.topic or room.room_id, owner_id=room.owner_id,
            owner_name=roster.name_of(room.owner_id) if room.owner_id else None, stage=room.stage,
            waiting=clock is not None, clock_id=clock.clock_id if clock else None,
            started_at=clock.started_at if clock else None, customer_name=clock.customer_name if clock else None,
            waiting_text=clock.last_text if clock else None,
            snoozed_until=clock.snoozed_until if clock and clock.snoozed_until > now else None,
            level=level, messages_today=today_n, active_today=today_n > 0 or clock is not None,
            last=message_view(last, roster) if last else None, pending_approval=pending.get(room.room_id),
            priority=prio)


def message_view(message: dict, roster: Roster) -> dict:
    """A recent message as the room views show it: the sender named by the roster when the platform did not."""
    return {**message, "sender_name": message["sender_name"] or roster.name_of(message["sender_id"])}


def _running(room: Room, clock_id: str | None) -> Clock:
    """The room's running clock (the one the person saw, when they name it), or Refused."""
    if room.clock is None or (clock_id is not None and room.clock.clock_id != clock_id):
        raise Refused(Refusal.NO_CLOCK, 409)
    return room.clock
