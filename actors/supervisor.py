"""The supervisor owns escalation: the deadlines of every running clock, and the alerts they fire.

It learns of clocks from the clock-events stream the shards write in the same transaction as
their room state, so it can always catch up after a crash of anyone. Before it fires anything it
drains that stream once more: that is the re-check that the clock still runs at fire time.

It fires a deadline only once every input with an earlier event time has been applied: "now" is
capped by the inbox's watermark (store/inbox.py), the earliest event time still waiting there. After
an outage the backlog arrives at once; a clock's start may be applied a batch before its stop, and
without the cap its alerts would fire for a wait that had already ended. Deadlines past the watermark
wait for the backlog; those the clock really crossed then fire, late, with their true `at`.

Each alert is addressed by its owner's focus/away state at its `at` (actors/presence.py), and the
follow-ups of idle rooms fire in the same step, under the same watermark (actors/followups.py).
"""
from __future__ import annotations

import logging
import threading
import time

import orjson
import ray

from sales_assistant.actors import Pingable, settle_heap
from sales_assistant.actors.followups import FollowUpDesk
from sales_assistant.actors.presence import PresenceDesk
from sales_assistant.policies.deadlines import SETTLED, DeadlineBoard, Watch
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.followups import FollowUpCrossed
from sales_assistant.policies.presence import PresenceChanged
from sales_assistant.store.inbox import unapplied_since
from sales_assistant.store.keys import EVENTS_GROUP, Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_escalation, iter_rooms, load_staff, load_watches, send_escalation
from sales_assistant.store.streams import StreamConsumer
from sales_assistant.store.wire import event_from_wire

log = logging.getLogger("sales_assistant.supervisor")

CONSUMER = "supervisor-0"
TICK_MS = 1000  # live: wake at least every second, and at the next deadline
# Live: a step costs several Redis round trips whatever it takes, so steps are at least this far apart: the
# deadlines and clock events of that time go together, at most this late (a burst of 35,000 thresholds within a
# second takes ~50 steps, not one per millisecond; an ingest's shard commits, a step per few, not one each).
MIN_STEP_MS = 20
# Redis ends a blocked read's wait on its own timer (10 times a second by default), so a short block can last
# this much longer than asked: the last stretch before a deadline is slept here, not blocked in Redis (in a
# burst, each step otherwise waited ~0.1 s for a deadline already past or a millisecond away).
REDIS_TIMER_MS = 100
# Alerts committed at once: a burst goes to the alert log in parts, so the notifier starts on the first while the
# rest are fired, and one script never holds Redis (and the sinks' reads) for the whole burst.
FIRE_AT_ONCE = 1000


class Supervision(Pingable):
    def __init__(self, redis_url: str, namespace: str, policy: Policy, clock: str) -> None:
        self.r, self.keys = connect(redis_url), Keys(namespace)
        self.policy = policy  # validated once, at start-up (config/settings.py: load_policy)
        self._teams: dict[str, str] = {}  # owner -> team, for teams with calendars of their own
        self._roster_version: str | None = None
        self.board = DeadlineBoard(self.policy, self._topic_of, self._team_of)
        self._stale = False  # a step failed half-way: the board may be ahead of Redis
        self.clock = clock
        self.now = 0
        self._lock = threading.Lock()
        # After a restart it reads first the events it took but never acknowledged.
        self.events = StreamConsumer(self.r, self.keys.clock_events, EVENTS_GROUP, CONSUMER, count=500)
        self.desk = PresenceDesk(self.r, self.keys)
        self.followups = FollowUpDesk(self.r, self.keys, policy)
        self._follow_teams()
        self._rebuild()
        settle_heap()
        if clock == "wall":
            threading.Thread(target=self._run_live, name="supervisor-ticker", daemon=True).start()

    def _rebuild(self) -> None:
        """Running clocks from the rooms' snapshots, progress from the watches that fired; events
        not yet acknowledged are re-read by the first step and reconcile the rest."""
        progress = {w.room_id: w for w in load_watches(self.r, self.keys)}
        running = {room.room_id: room for room in iter_rooms(self.r, self.keys) if room.clock is not None}
        for room_id in progress.keys() | running.keys():
            w, room = progress.get(room_id), running.get(room_id)
            if w is not None and w.next_step != SETTLED:
                self.board.restore(w)  # it fired and is not done: the truth, even if its stop is still to come
                continue
            if w is not None:
                self.board.restore_settled(room_id, w.clock_id)
            if room is not None and (w is None or w.clock_id != room.clock.clock_id):
                c = room.clock
                self.board.restore(Watch(room_id, c.clock_id, c.started_at, room.stage, room.owner_id, room.topic,
                                         c.customer_name, c.last_text))

    # --- virtual time: driven by the replay driver, the ingest and the tick API -------------------

    def advance(self, now_ms: int) -> int:
        """Catch up with every clock event, then fire what is due at `now_ms`. Returns alerts fired."""
        with self._lock:
            return self._step(now_ms)

    # --- live time --------------------------------------------------------------------------------

    def _run_live(self) -> None:
        last = 0.0
        while True:
            try:
                if (pause := last + MIN_STEP_MS / 1000 - time.monotonic()) > 0:
                    time.sleep(pause)
                last = time.monotonic()
                with self._lock:
                    now = int(time.time() * 1000)
                    self._step(now)
                    nxt = min((t for t in (self.board.next_deadline(), self.desk.next_release(),
                                           self.followups.next_due()) if t is not None), default=None)
                # A deadline at or before `now` still on the board is held by the inbox's watermark: it
                # waits for the backlog, which the next clock event or tick will show applied.
                held = nxt is not None and nxt <= now
                wait = TICK_MS if nxt is None or held else max(0, min(TICK_MS, nxt - int(time.time() * 1000)))
                if wait > REDIS_TIMER_MS:
                    self._wait_for_events(wait - REDIS_TIMER_MS)
                else:
                    time.sleep(wait / 1000)
            except Exception:  # noqa: BLE001 - the ticker must outlive a Redis hiccup
                log.exception("supervisor tick failed; retrying")
                self.events.rewind()  # what it took but did not acknowledge comes back
                time.sleep(0.5)

    def _wait_for_events(self, block_ms: int) -> None:
        # A blocking read with no consumption: XREAD (not XREADGROUP) just waits for new entries.
        self.r.xread({self.keys.clock_events: "$"}, count=1, block=block_ms)

    # --- the step ----------------------------------------------------------------------------------

    def _step(self, now_ms: int) -> int:
        """A step that fails half-way (Redis restarting) may have fired alerts, or taken events,
        that were never committed: the board is then rebuilt from Redis before the next step, so
        those alerts fire again and those events are read again, instead of being lost."""
        if self._stale:
            self.board = DeadlineBoard(self.policy, self._topic_of, self._team_of)
            self._rebuild()
            self.desk = PresenceDesk(self.r, self.keys)
            self.events.rewind()
        self._stale = True
        fired = self._drain_and_fire(now_ms)
        self._stale = False
        return fired

    def _topic_of(self, room_id: str) -> str:
        raw = self.r.hget(self.keys.rooms, room_id)
        return orjson.loads(raw).get("topic", "") if raw else ""

    def _team_of(self, owner_id: str | None) -> str | None:
        return self._teams.get(owner_id) if owner_id else None

    def _follow_teams(self) -> None:
        """Owners' teams, reloaded when the roster moved; asked only when a team has a business calendar
        of its own (with the default one alone, every owner's clock counts in it)."""
        if not (self.policy.counts_business and len(self.policy.calendars) > 1):
            return
        version = self.r.get(self.keys.roster_version) or ""
        if version != self._roster_version:
            self._teams = {s.id: s.team for s in load_staff(self.r, self.keys).values()}
            self._roster_version = version
            self.board.reschedule()

    def _drain_and_fire(self, now_ms: int) -> int:
        self._follow_teams()
        self.now = max(self.now, now_ms)
        # Read before the drain: an inbox entry acknowledged before this read committed its clock events
        # before its acknowledgement, so the drain below sees them.
        waiting_since = unapplied_since(self.r, self.keys)
        until = self.now if waiting_since is None else min(self.now, waiting_since - 1)
        fired = 0
        apply = self.board.apply  # bound once: the loop below runs for every clock event of the pipeline
        while batch := self.events.read():  # [] once every event is applied: only then is anything due
            alerts, crossed = [], []
            for entry in batch:
                for row in entry.data or ():  # None: trimmed while pending
                    event = event_from_wire(row)
                    if isinstance(event, PresenceChanged):
                        self.desk.apply(event)
                    elif isinstance(event, FollowUpCrossed):
                        crossed.append(event)
                    else:
                        alerts += apply(event)
            if crossed:  # committed before the events are acknowledged: a crash in between sends nothing twice
                self.followups.fire_crossed(crossed, self.desk.roster())
            out, held = self.desk.address(alerts)
            # The events are acknowledged in the same script that records what they fired.
            commit_escalation(self.r, self.keys, out, self.board.drain_changes(), [e.id for e in batch], held)
            fired += len(alerts)
        # What is due fires in parts of FIRE_AT_ONCE, each with the progress that says it fired. A part is prepared
        # while Redis applies the one before, and sent only once that one is applied: a room's alerts stay in order.
        released = self.desk.release(until)
        sent = None
        while True:
            alerts = self.board.due(until, FIRE_AT_ONCE)
            out, held = self.desk.address(alerts)
            if sent is not None:
                sent.wait()
            sent = send_escalation(self.r, self.keys, out + released, self.board.drain_changes(), [], held,
                                   [a["alert_id"] for a in released])
            released = []
            fired += len(alerts)
            if len(alerts) < FIRE_AT_ONCE:
                sent.wait()
                self.followups.fire(until, self.desk.roster)
                return fired

    def watching(self) -> int:
        return len(self.board.watches)


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class SupervisorActor(Supervision):
    """Restarted by Ray after a crash; __init__ rebuilds the board from Redis."""
