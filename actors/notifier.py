"""The notifier hands each fired alert to every configured sink, in order, at least once per sink
and exactly once where the sink can tell (JSONL ids, Lark's uuid).

It is a shell: every sink reads the alert stream (and, if it takes them, the suggestions stream) through
its own consumer group (store/streams.py) on its own thread, so a slow or failing Lark only holds back
Lark. A batch read together is enriched together (owner, team, why it ranks: connectors/sinks.py), handed
to the sink together and acknowledged with one command. What a sink can do beyond that it says in its
`caps`: a bounded sink's waiting cards fold past its bound (policies/backlog.py, store/folds.py), so
nothing is lost and a returning Lark gets no flood; a digest sink holds lower levels for a rep's digest.
The scheduled jobs (leaderboard, digests, alert-log retention) run beside delivery (actors/jobs.py).

The staff directory is cached and reloaded only when the roster version in Redis moves. Retries, backoff
and the jobs all wait on the notifier's clock (`now`, `wait`), so tests step time.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ray
import redis

from sales_assistant.actors import Pingable, settle_heap
from sales_assistant.actors.jobs import AlertLogRetention, Scheduler, jobs_for
from sales_assistant.connectors.sinks import (
    ConsoleSink,
    Enricher,
    JsonlSink,
    NullSink,
    RetryLater,
    Sink,
    late_minutes,
    with_owner,
)
from sales_assistant.core.roster import Roster
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.priority import DEFAULT_RULES, PriorityRules
from sales_assistant.store.digest import DigestStore, waits_ended
from sales_assistant.store.folds import SinkBacklog
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import load_staff
from sales_assistant.store.streams import Entry, StreamConsumer, caught_up

log = logging.getLogger("sales_assistant.notifier")

MAX_BACKOFF_S = 60.0
FOLD_CHECK_MS = 1000  # how often a bounded sink looks at its backlog while it delivers
# Entries a plain sink reads, writes (one fsync) and acknowledges at once. In a burst the fsync and the two
# round trips per batch, not the alerts, set the pace; a full batch still goes out within ~0.1 s.
BATCH = 2000
BOUNDED_BATCH = 100  # a bounded sink sends one card at a time: a smaller read keeps folding cheap
ROSTER_CHECK_S = 1.0  # how often the cached staff directory asks Redis whether the roster moved
READ_BLOCK_MS = 1000


def wall_ms() -> int:
    return int(time.time() * 1000)


def stop_wait(stop: threading.Event, seconds: float) -> bool:
    """Wall-clock waiting: True when the notifier is closing."""
    return stop.wait(seconds)


class _Stopped(Exception):
    """The notifier is closing: leave the item unacknowledged for the next one."""


class _Refolded(Exception):
    """The sink's backlog was folded: read its waiting cards again from the first."""


@dataclass
class Backoff:
    """One lane's backoff: when the next try is due (notifier clock, ms) and the current delay."""

    at: int = 0
    delay_s: float = 0.0

    def failed(self, now_ms: int, at_least_s: float | None = None) -> None:
        self.delay_s = min(MAX_BACKOFF_S, self.delay_s * 2) if self.delay_s else 0.5
        self.at = now_ms + int(max(self.delay_s, at_least_s or 0.0) * 1000)

    def succeeded(self) -> None:
        self.at, self.delay_s = 0, 0.0


@dataclass
class SinkSpec:
    """Picklable description of a sink, built into the real thing inside the actor."""

    name: str  # console | jsonl | null | lark
    path: str | None = None
    lark: dict = field(default_factory=dict, repr=False)  # holds the app secret
    lang: str = "zh"
    tz: str = field(kw_only=True)  # settings.timezone: the times on cards and console lines
    priority: PriorityRules = DEFAULT_RULES  # validated at start-up: the card says why a room ranks
    threshold_minutes: float = 2.0  # a reply slower than this is late (the leaderboard counts them)

    def build(self) -> Sink:
        if self.name == "console":
            return ConsoleSink(self.lang, self.tz)
        if self.name == "jsonl":
            return JsonlSink(Path(self.path or "alerts.jsonl"), lang=self.lang)
        if self.name == "null":
            return NullSink()
        if self.name == "lark":
            from sales_assistant.connectors.lark import LarkSettings, LarkSink

            return LarkSink(LarkSettings.model_validate(self.lark), self.tz)
        raise ValueError(f"sinks: unknown sink {self.name!r} (console, jsonl, lark, null)")


def sink_specs(settings) -> list[SinkSpec]:
    """The configured sinks, secrets included, for the notifier actor (never logged)."""
    # The callback's token and key stay with the web process: the notifier only sends.
    lark = (settings.lark.model_dump(mode="json", exclude={"verification_token", "encrypt_key"})
            | {"app_secret": settings.lark.app_secret.get_secret_value()})
    return [SinkSpec(name, path=str(settings.alerts_path()), lark=lark, lang=settings.lang, tz=settings.timezone,
                     priority=settings.priority_rules, threshold_minutes=settings.over_threshold_minutes)
            for name in settings.sinks]


class StaffDirectory:
    """The staff part of the roster (names, teams), cached: reloaded only when the roster version in Redis
    moved, which costs one GET per ROSTER_CHECK_S, never a scan on the delivery path."""

    def __init__(self, r: redis.Redis, keys: Keys, check_every_s: float = ROSTER_CHECK_S) -> None:
        self.r, self.keys, self.check_every_s = r, keys, check_every_s
        self._version: str | None = None
        self._roster = Roster({})
        self._next_check = 0.0
        self.reloads = 0

    def roster(self) -> Roster:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.check_every_s
            version = self.r.get(self.keys.roster_version) or ""
            if version != self._version:
                self._roster, self._version = Roster(load_staff(self.r, self.keys)), version
                self.reloads += 1
        return self._roster


@dataclass
class _Lane:
    """One sink reading one stream: its consumer, its bounded backlog if any, its backoff."""

    name: str
    sink: Sink
    stream: str
    group: str
    deliver: Callable[[_Lane, list[Entry]], None]
    backlog: SinkBacklog | None = None
    retry: Backoff = field(default_factory=Backoff)
    consumer: StreamConsumer | None = None  # made by the lane's own thread, which alone reads and acknowledges


class Notification(Pingable):
    def __init__(self, redis_url: str, namespace: str, specs: list[SinkSpec], now: Callable[[], int] = wall_ms,
                 wait: Callable[[threading.Event, float], bool] = stop_wait, alert_log_days: int | None = None,
                 policy: Policy | None = None) -> None:
        """`now`: epoch ms; `wait(stop, seconds)`: sleep on that clock, True once `stop` is set. Wall time
        by default; tests pass a clock they step. `alert_log_days`: trim the alert log to that many days.
        `policy`: the escalation policy, whose clocks (business or wall) the leaderboard's averages count in."""
        self.redis_url, self.keys = redis_url, Keys(namespace)
        self.r = connect(redis_url)
        self.sinks = {spec.name: spec.build() for spec in specs}
        self.failing: dict[str, str] = {}
        self.now, self.wait = now, wait
        self.staff = StaffDirectory(self.r, self.keys)
        rules = specs[0].priority if specs else DEFAULT_RULES
        self._enrichers = {lang: Enricher(rules, lang) for lang in {sink.caps.lang for sink in self.sinks.values()}}
        self._digests: dict[str, DigestStore] = {}
        self._fold_checked: dict[str, int] = {}
        self._delivered: set[str] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.jobs = Scheduler(now, wait, self._stop, self.failing)
        if alert_log_days is not None:
            self.jobs.every("alerts:retention", AlertLogRetention(self.r, self.keys, alert_log_days).tick)
        for spec in specs:  # the jobs first: a digest store must exist before a sink thread can hold an alert
            jobs, digest = jobs_for(self.r, self.keys, self.sinks[spec.name], spec.threshold_minutes, policy)
            if digest is not None:
                self._digests[spec.name] = digest
            for name, job in jobs:
                self.jobs.every(name, job)
        for name, sink in self.sinks.items():
            group = self.keys.sink_group(name)
            backlog = None
            if sink.caps.max_waiting is not None:
                backlog = SinkBacklog(self.r, self.keys, self.keys.alerts, name, group, self.keys.sink_consumer(name),
                                      sink.caps.max_waiting)
            self._follow(_Lane(name, sink, self.keys.alerts, group, self._deliver_alerts, backlog))
            if sink.caps.suggestions:
                self._follow(_Lane(name, sink, self.keys.suggestions, group, self._deliver_suggestions))
            if sink.caps.followups:
                self._follow(_Lane(name, sink, self.keys.followups, group, self._deliver_followups))
        # A burst's batches make thousands of short-lived dicts: without this, the collections they set off walk
        # every long-lived object of the process (Ray's included), a third of the notifier's time per alert.
        settle_heap()

    # --- delivery ----------------------------------------------------------------------------------

    def _deliver_alerts(self, lane: _Lane, batch: list[Entry]) -> None:
        """A plain sink takes the batch at once; a bounded or digest sink one alert at a time, each
        acknowledged with what it carried (store/folds.py)."""
        if lane.backlog is None and lane.name not in self._digests:
            alerts = self._prepare(lane.sink, [e.data for e in batch if e.data is not None])
            self._with_backoff(lane, lambda: lane.sink.deliver_batch(alerts))
            self._ack(lane, batch)
            return
        for entry in batch:
            if entry.data is not None:
                self._with_backoff(lane, lambda entry=entry: self._deliver_one(lane, entry))
            if lane.backlog is not None:
                lane.backlog.done(entry.id)
            else:
                self._ack(lane, [entry])

    def _deliver_one(self, lane: _Lane, entry: Entry) -> None:
        sink = lane.sink
        card = lane.backlog.card(entry.id) if lane.backlog is not None else None
        if card is not None and card.is_summary:
            rooms = [line.__dict__ for line in card.rooms]
            ended = waits_ended(self.r, self.keys, [(line.room_id, line.clock_id) for line in card.rooms])
            sink.deliver_catch_up(card.team, [row | {"answered": e} for row, e in zip(rooms, ended, strict=True)],
                                  card.folded, entry.id)
            return
        [alert] = self._prepare(sink, [entry.data])
        if card is not None:  # a room card carrying what folded into it: out at once, to every chat they named
            sink.deliver({**alert, "targets": list(card.targets), "folded": card.folded, "earlier": list(card.earlier)})
            return
        digest = self._digests.get(lane.name)
        held = sink.digest_chat(alert) if digest is not None else None
        if held:  # held in Redis before the other chats are tried: a retry holds it no second time
            digest.hold(held, alert, self.now())
            alert = alert | {"digest_chat": held}
        sink.deliver(alert)

    def _deliver_suggestions(self, lane: _Lane, batch: list[Entry]) -> None:
        for entry in batch:
            if entry.data is not None:
                self._with_backoff(lane, lambda entry=entry: lane.sink.deliver_suggestion(entry.data))
        self._ack(lane, batch)

    def _deliver_followups(self, lane: _Lane, batch: list[Entry]) -> None:
        """Follow-ups of idle rooms, each with its owner's name and team (the chat a card falls back to)."""
        roster = self.staff.roster()
        for entry in batch:
            if entry.data is not None:
                followup = with_owner(entry.data, roster)
                self._with_backoff(lane, lambda followup=followup: lane.sink.deliver_followup(followup))
        self._ack(lane, batch)

    def _prepare(self, sink: Sink, items: list[dict]) -> list[dict]:
        """Enriched in the sink's language; with `answered` and `late_minutes` where the sink shows whether the
        wait ended and how late the alert comes."""
        roster, enrich = self.staff.roster(), self._enrichers[sink.caps.lang]
        alerts = [enrich(item, roster) for item in items]
        if sink.caps.shows_answered and alerts:
            ended = waits_ended(self.r, self.keys, [(str(a.get("room_id")), a.get("clock_id")) for a in alerts])
            now = self.now()
            alerts = [a | {"answered": e, "late_minutes": late_minutes(int(a["at"]), now)}
                      for a, e in zip(alerts, ended, strict=True)]
        return alerts

    def _ack(self, lane: _Lane, batch: list[Entry]) -> None:
        lane.consumer.ack([e.id for e in batch])

    # --- the loop each lane runs -------------------------------------------------------------------

    def _follow(self, lane: _Lane) -> None:
        thread = threading.Thread(target=self._run, args=(lane,), name=f"{lane.stream}-{lane.name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, lane: _Lane) -> None:
        count = BOUNDED_BATCH if lane.backlog is not None else BATCH
        # The lane is its group's one reader (store/streams.py, `sole`), except a bounded sink's, whose waiting
        # cards are the group's pending entries (store/folds.py).
        lane.consumer = consumer = StreamConsumer(connect(self.redis_url), lane.stream, lane.group,
                                                  self.keys.sink_consumer(lane.name), count=count,
                                                  sole=lane.backlog is None)
        while not self._stop.is_set():
            try:
                batch = consumer.read(block_ms=READ_BLOCK_MS)
                if batch:
                    lane.deliver(lane, batch)
            except _Stopped:
                return
            except _Refolded:
                consumer.rewind()  # the waiting cards changed: start again from the first of them
            except Exception:  # noqa: BLE001 - a sink thread must survive Redis restarts
                log.exception("sink %s: reading %s failed; retrying", lane.name, lane.stream)
                consumer.rewind()  # what it took but did not acknowledge comes back
                if self.wait(self._stop, 0.5):
                    return

    def _with_backoff(self, lane: _Lane, deliver: Callable[[], None]) -> None:
        """Deliver or retry with backoff on the notifier's clock (at least as long as the sink asks);
        a bounded sink folds its backlog meanwhile."""
        name, retry = lane.name, lane.retry
        while True:
            self._wait_for_retry(lane)
            try:
                deliver()
            except Exception as e:  # noqa: BLE001 - any failure of a sink is retried, never fatal
                reason = f"{type(e).__name__}: {e}"
                if name not in self.failing:
                    log.warning("sink %s failing (%s); retrying with backoff", name, reason)
                self.failing[name] = reason
                self.r.hsetnx(self.keys.stats, f"sink_failing:{name}", self.now() // 1000)
                retry.failed(self.now(), e.retry_after_s if isinstance(e, RetryLater) else None)
                continue
            retry.succeeded()
            recovered = self.failing.pop(name, None) is not None
            if recovered or name not in self._delivered:
                # also on this notifier's first success: a predecessor may have died while it failed
                self.r.hdel(self.keys.stats, f"sink_failing:{name}")
                self._delivered.add(name)
            if recovered:
                log.info("sink %s: delivering again", name)
            return

    def _wait_for_retry(self, lane: _Lane) -> None:
        """Until the next try is due; a bounded sink looks at its backlog every FOLD_CHECK_MS meanwhile,
        so the bound holds however long the backoff is."""
        while True:
            if lane.backlog is not None:
                self._fold_if_over(lane)
            left = lane.retry.at - self.now()
            if left <= 0:
                return
            if self.wait(self._stop, min(FOLD_CHECK_MS, left) / 1000):
                raise _Stopped

    def _fold_if_over(self, lane: _Lane) -> None:
        """Past the bound, fold the sink's waiting cards (at most once per FOLD_CHECK_MS of its clock)."""
        now = self.now()
        if now - self._fold_checked.get(lane.name, -FOLD_CHECK_MS) < FOLD_CHECK_MS:
            return
        self._fold_checked[lane.name] = now
        roster = self.staff.roster()  # folding groups by team and names owners; a card is enriched when it goes out
        folding = lane.backlog.fold_if_over(lambda item: with_owner(item, roster))
        if folding is not None:
            log.warning("sink %s: more than %d alert cards waited; %d folded into fewer cards (none lost)",
                        lane.name, lane.backlog.bound, len(folding.moves))
            raise _Refolded

    # --- for drivers and tests -------------------------------------------------------------------

    def drained(self) -> bool:
        """True when every sink has taken and acknowledged every alert and suggestion so far."""
        return all(caught_up(self.r, stream, self.keys.sink_group(name)) for name, sink in self.sinks.items()
                   for stream in (self.keys.alerts, self.keys.suggestions, self.keys.followups)
                   if stream == self.keys.alerts or (sink.caps.suggestions and stream == self.keys.suggestions)
                   or (sink.caps.followups and stream == self.keys.followups))

    def received(self) -> list[tuple[str, int, float]]:
        sink = self.sinks.get("null")
        return list(sink.received) if isinstance(sink, NullSink) else []

    def health(self) -> dict[str, str]:
        return dict(self.failing)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop every thread; whatever a sink had not acknowledged is delivered by the next notifier."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        threads = self._threads + self.jobs.threads
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if not any(thread.is_alive() for thread in threads):  # a sink still in use stays open
            for sink in self.sinks.values():
                sink.close()


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class NotifierActor(Notification):
    """Restarted by Ray after a crash; each sink resumes from its consumer group."""
