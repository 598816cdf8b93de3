"""The supervisor's brain: which running clock crosses which step of its escalation ladder when.

Fed clock events (in stream order) and `now` (event time in replay, wall time live), it returns
the alerts that are due, each stamped with the moment its threshold was crossed. An alert fires
only if the clock was still running at that moment, so the result does not depend on how the
events were batched or when the board was asked. A stage with `clock: business` counts its thresholds
in the owner's team calendar (Policy.clock_of): a deadline is then the open instant at which that
many business minutes have passed, so alerts fall due only while the calendar is open.

It lives in policies, next to the ladder it applies, because everything it reasons about past the
clock events (steps, levels, targets) is escalation policy; core's rooms and clocks know nothing
of ladders, so the domain's imports run one way: policies -> core.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from sales_assistant.core.calendar import Calendar
from sales_assistant.core.room import (
    ClockEvent,
    ClockReassigned,
    ClockSnoozed,
    ClockStarted,
    ClockStopped,
    ClockTouched,
    Episode,
)
from sales_assistant.core.roster import Stage
from sales_assistant.policies.escalation import MINUTE_MS, ClockKind, Ladder, Policy, Rung, Target

PUBLIC_ONLY = (Target.PUBLIC.value,)  # the targets of a clock whose room has no owner


@dataclass(slots=True)
class Watch:
    """A running clock as the supervisor sees it, and how far up its ladder it has climbed."""

    room_id: str
    clock_id: str
    started_at: int
    stage: Stage
    owner_id: str | None
    topic: str
    customer_name: str | None
    last_text: str
    next_step: int = 0
    snoozed_until: int = 0
    # The level of the last alert that fired (a Level's value; None before the first). Stored,
    # because the ladder of the room's stage today need not be the one that fired it.
    level: str | None = None
    # The deadline the board last put on its heap for this watch (not stored): an entry with another is stale.
    due_at: int | None = field(default=None, compare=False, repr=False)

    def to_list(self) -> list:
        """Compact positional form for the store; `level` is last, so rows written before it existed still load."""
        return [self.room_id, self.clock_id, self.started_at, self.stage, self.owner_id, self.topic,
                self.customer_name, self.last_text, self.next_step, self.snoozed_until, self.level]

    @classmethod
    def from_list(cls, row: list) -> Watch:
        """The inverse of to_list, after a JSON round trip (the stage comes back a plain str)."""
        w = cls(*row)
        w.stage = Stage(w.stage)
        return w


@dataclass(slots=True)
class Alert:
    """One step of a clock's ladder, crossed: what the notifier delivers, once per alert_id.

    Not frozen: a frozen dataclass's __init__ costs four times as much, paid per alert in a burst; nothing
    changes an alert once fired. `alert_id` is a field, derived once, so that the alert encodes as it is (a
    JSON encoder writes a dataclass's fields, in this order: the document `to_dict` makes, without building it)."""

    alert_id: str = field(init=False)
    room_id: str
    clock_id: str
    step: int
    level: str
    waited_minutes: int
    targets: tuple[str, ...]
    owner_id: str | None
    stage: Stage
    topic: str
    at: int  # epoch ms at which the threshold was crossed
    started_at: int
    customer_name: str | None
    last_text: str
    business_minutes: int | None = None  # the minutes the clock counted, for `clock: business` stages

    def __post_init__(self) -> None:
        self.alert_id = f"{self.room_id}/{self.clock_id}/{self.step}"

    def to_dict(self) -> dict:
        return {"alert_id": self.alert_id, "room_id": self.room_id, "clock_id": self.clock_id, "step": self.step,
                "level": self.level, "waited_minutes": self.waited_minutes, "targets": list(self.targets),
                "owner_id": self.owner_id, "stage": self.stage, "topic": self.topic, "at": self.at,
                "started_at": self.started_at, "customer_name": self.customer_name, "last_text": self.last_text,
                "business_minutes": self.business_minutes}


SETTLED = -1  # next_step of a clock that has stopped: nothing more will fire for it
BULK_AFTER = 256  # due entries popped one by one before a burst is taken from the heap in one pass


class _Plan(NamedTuple):
    """A stage's ladder as the board reads it for every alert and deadline, prepared once per stage."""

    ladder: Ladder
    rungs: tuple[Rung, ...]  # its fixed steps; the repeating ones are asked of the ladder
    wall: bool  # every minute counts: a deadline is the start plus the rung's minutes, no calendar asked

    def rung(self, index: int) -> Rung | None:
        return self.rungs[index] if index < len(self.rungs) else self.ladder.rung(index)


class DeadlineBoard:
    """Every running clock's next deadline in one heap (a burst due at once is taken off it, sorted: `_split_off`);
    stale entries are skipped, never searched for."""

    def __init__(self, policy: Policy, topic_of: Callable[[str], str] = lambda _room_id: "",
                 team_of: Callable[[str | None], str | None] = lambda _owner_id: None) -> None:
        """`topic_of`: a room's name, for a stop whose start this board never saw (see stop); `team_of`:
        an owner's team, whose calendar a business clock counts in (None: the default calendar)."""
        self.policy = policy
        self.topic_of = topic_of
        self.team_of = team_of
        self.watches: dict[str, Watch] = {}
        self.settled: dict[str, str] = {}  # room -> last stopped clock, so a redelivered stop is a no-op
        self._heap: list[tuple[int, str, str, int]] = []  # (deadline, room, clock, step)
        self._split: list[tuple[int, str, str, int]] = []  # due entries taken off the heap at once, last first
        # room -> the watch of that room that last fired, settled or changed since the last drain.
        # The watch itself, not just the room: a new clock may have started in the room since.
        self._changed: dict[str, Watch] = {}
        self._plans: dict[Stage | str, _Plan] = {}

    # --- events ------------------------------------------------------------------------------

    def apply(self, event: ClockEvent) -> list[Alert]:
        if isinstance(event, ClockStarted):
            self.start(event)
            return []
        if isinstance(event, ClockStopped):
            return self.stop(event.episode)
        w = self.watches.get(event.room_id)
        if w is None or w.clock_id != event.clock_id:
            return []
        # The clock still ran at the event: what it crossed before then fires first, as it would have
        # had time reached those thresholds before the event arrived (the card shows the words of then,
        # the owner and the snooze of then), so batching changes nothing.
        alerts = []
        while event.at is not None and (alert := self._alert_before(w, event.at)) is not None:
            alerts.append(alert)
        if alerts:
            self._schedule(w)  # its next step
        if isinstance(event, ClockTouched):
            w.last_text = event.last_text
        elif isinstance(event, ClockReassigned):
            w.owner_id, w.stage = event.owner_id, event.stage
            self._changed[w.room_id] = w
            self._schedule(w)  # another stage may climb another ladder
        elif isinstance(event, ClockSnoozed):
            w.snoozed_until = max(w.snoozed_until, event.until)
            self._changed[w.room_id] = w
            self._schedule(w)
        return alerts

    def start(self, ev: ClockStarted) -> None:
        if self._is_known(ev.room_id, ev.clock.clock_id):
            return  # redelivered
        c = ev.clock
        self.restore(Watch(ev.room_id, c.clock_id, c.started_at, ev.stage, ev.owner_id, ev.topic,
                           c.customer_name, c.last_text))

    def stop(self, ep: Episode) -> list[Alert]:
        """The clock stopped at ep.ended_at: fire what it crossed before then, and no more."""
        if self.settled.get(ep.room_id) == ep.clock_id:
            return []
        w = self.watches.get(ep.room_id)
        if w is None or w.clock_id != ep.clock_id:
            # Its start was never seen (the start and stop came in one batch to a fresh board, or a
            # restarted supervisor took the start before the crash and the room's snapshot already
            # shows the clock stopped). The episode does not carry the room's name: ask for it.
            w = Watch(ep.room_id, ep.clock_id, ep.started_at, ep.stage, ep.owner_id, self.topic_of(ep.room_id),
                      ep.customer_name, ep.customer_text)
        alerts = []
        while (alert := self._alert_before(w, ep.ended_at)) is not None:
            alerts.append(alert)
        self.watches.pop(ep.room_id, None)
        self.settled[ep.room_id] = ep.clock_id
        if w.next_step > 0:  # it fired: remember it is done, so a redelivered stop fires nothing again
            self._changed[ep.room_id] = w
        w.next_step = SETTLED
        return alerts

    def due(self, now: int, limit: int | None = None) -> list[Alert]:
        """Every alert whose threshold lies at or before `now` on a clock that still runs, in deadline order; at
        most `limit` of them (the next call goes on from there), so a burst can go out in parts."""
        alerts: list[Alert] = []
        heap, split, pop = self._heap, self._split, heapq.heappop
        current, fire, schedule = self._current, self._fire, self._schedule  # bound once: a burst fires thousands
        popped = 0
        while limit is None or len(alerts) < limit:
            if split and (not heap or split[-1] < heap[0]):
                if split[-1][0] > now:
                    break
                entry = split.pop()
            elif heap and heap[0][0] <= now:
                if not split and popped >= BULK_AFTER and popped * 16 >= len(heap):
                    self._split_off(now)
                    continue
                popped += 1
                entry = pop(heap)
            else:
                break
            w = current(entry)
            if w is None:
                continue  # stale entry: the clock stopped, this step already fired, or it was snoozed
            alerts.append(fire(w, entry[0]))
            schedule(w)
        return alerts

    def _split_off(self, now: int) -> None:
        """Take every entry due at `now` off the heap in one pass, sorted. A burst (a large share of the heap due
        at once) costs several times less so than by tens of thousands of heappops; a few due entries are popped
        one by one, so a tick over a large heap does not scan it. Entries pushed meanwhile (a clock several steps
        behind) go on the heap, and `due` takes whichever of the two comes first."""
        heap = self._heap
        self._split.extend(sorted((e for e in heap if e[0] <= now), reverse=True))  # the first last: pop() takes it
        heap[:] = [e for e in heap if e[0] > now]
        heapq.heapify(heap)

    # --- persistence hooks -----------------------------------------------------------------------

    def restore(self, watch: Watch) -> None:
        """Take over a running clock (fresh or rebuilt from the store) at watch.next_step."""
        self.settled.pop(watch.room_id, None)
        self.watches[watch.room_id] = watch
        self._schedule(watch)

    def reschedule(self) -> None:
        """Put every running clock's next deadline on the heap again, after what `team_of` answers moved (a
        business clock's deadlines depend on its owner's calendar); the entries they replace go stale."""
        for w in self.watches.values():
            self._schedule(w)

    def restore_settled(self, room_id: str, clock_id: str) -> None:
        self.settled[room_id] = clock_id

    def drain_changes(self) -> dict[str, Watch]:
        """The watches that fired since the last drain (next_step SETTLED once stopped, `level` kept). A watch
        that never fired needs no record: the running clocks in the rooms' snapshots rebuild it
        at step 0, and a replayed stop of a clock that fired nothing fires nothing."""
        out, self._changed = self._changed, {}
        return out

    def next_deadline(self) -> int | None:
        heap, split = self._heap, self._split
        while heap or split:
            from_split = bool(split) and (not heap or split[-1] < heap[0])
            entry = split[-1] if from_split else heap[0]
            if self._current(entry) is not None:
                return entry[0]
            if from_split:
                split.pop()
            else:
                heapq.heappop(heap)
        return None

    # --- internals -------------------------------------------------------------------------------

    def _is_known(self, room_id: str, clock_id: str) -> bool:
        w = self.watches.get(room_id)
        return (w is not None and w.clock_id == clock_id) or self.settled.get(room_id) == clock_id

    def _current(self, entry: tuple[int, str, str, int]) -> Watch | None:
        """The watch a heap entry still speaks for, or None when the entry went stale."""
        deadline, room_id, clock_id, step = entry
        w = self.watches.get(room_id)
        # due_at is what _deadline(w) answered when the watch was last scheduled: every change to what a
        # deadline depends on (a fired step, a snooze, a new owner or stage, a team's calendar) schedules it again.
        if w is None or w.due_at != deadline or w.next_step != step or w.clock_id != clock_id:
            return None
        return w

    def _plan(self, stage: Stage | str) -> _Plan:
        plan = self._plans.get(stage)
        if plan is None:
            ladder = self.policy.ladder(stage)
            plan = self._plans[stage] = _Plan(ladder, tuple(ladder.rung(i) for i in range(len(ladder.steps))),
                                              ladder.clock is ClockKind.WALL)
        return plan

    def _raw_deadline(self, w: Watch, index: int) -> int | None:
        plan = self._plan(w.stage)
        rung = plan.rung(index)
        if rung is None:
            return None
        if plan.wall:
            return w.started_at + rung.after_ms
        return self._calendar(w).add(w.started_at, rung.after_ms)

    def _deadline(self, w: Watch) -> int | None:
        """When the next alert is due: its threshold, or the end of a snooze that holds it (on a business
        clock, the first open minute from then: a snooze that ends at night wakes with the team)."""
        deadline = self._raw_deadline(w, w.next_step)
        if deadline is None or w.snoozed_until <= deadline:
            return deadline
        if self._plan(w.stage).wall:
            return w.snoozed_until
        return self._calendar(w).next_open(w.snoozed_until)

    def _calendar(self, w: Watch) -> Calendar:
        return self.policy.clock_of(w.stage, self.team_of(w.owner_id))

    def _schedule(self, w: Watch) -> None:
        w.due_at = deadline = self._deadline(w)
        if deadline is not None:
            heapq.heappush(self._heap, (deadline, w.room_id, w.clock_id, w.next_step))

    def _alert_before(self, w: Watch, ended_at: int) -> Alert | None:
        deadline = self._deadline(w)
        if deadline is None or deadline >= ended_at:
            return None
        return self._fire(w, deadline)

    def _fire(self, w: Watch, at: int) -> Alert:
        """Fire the watch's next step, due at `at` (its `_deadline`)."""
        # A snooze that held several steps ends in one reminder, at the level the wait has reached (on a
        # business clock, the level reached by the opening the snooze's end waits for).
        while (later := self._raw_deadline(w, w.next_step + 1)) is not None and later <= at:
            w.next_step += 1
        plan = self._plan(w.stage)
        rung = plan.rung(w.next_step)
        assert rung is not None
        level, targets = rung.level, rung.targets
        business = None if plan.wall else self._calendar(w).elapsed(w.started_at, at) // MINUTE_MS
        alert = Alert(w.room_id, w.clock_id, w.next_step, level, (at - w.started_at) // MINUTE_MS,
                      targets if w.owner_id else PUBLIC_ONLY, w.owner_id, w.stage, w.topic, at, w.started_at,
                      w.customer_name, w.last_text, business)
        w.next_step += 1
        w.level = level
        self._changed[w.room_id] = w
        return alert
