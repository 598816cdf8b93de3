"""The notifier hands each fired alert to every configured sink, in order, at least once per sink
and exactly once where the sink can tell (JSONL ids, Lark's uuid).

Every sink reads the alert stream through its own consumer group on its own thread, so a slow or
failing Lark only holds back Lark: the console, the file and the pipeline carry on. With Lark, two
more threads run on the notifier's clock: the daily leaderboard and the reps' digests.

Lark's backlog is bounded (lark.max_waiting cards): past the bound the waiting alerts fold into fewer
cards (policies/backlog.py, store/folds.py), so nothing is lost and a returning Lark gets no flood.
Retries, backoff and the jobs all wait on the notifier's clock (`now`, `wait`), so tests step time.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import orjson
import ray

from connectors.lark import LarkSink, build_leaderboard_card, idempotency_key
from connectors.sinks import ConsoleSink, JsonlSink, NullSink, Sink, enrich_alert
from core.timeutil import zone
from policies.priority import PriorityRules
from store.digest import DigestStore, still_waiting, waits_ended
from store.folds import SinkBacklog
from store.keys import Keys
from store.redis import connect
from store.report import build_report
from core.roster import Roster
from store.state import caught_up, ensure_group, load_staff, trim_alert_log

log = logging.getLogger("sales_assistant.notifier")

MAX_BACKOFF_S = 60.0
JOB_TICK_S = 1.0  # how often the leaderboard and digest threads look at the clock
MARKER_TTL_S = 8 * 24 * 3600
FOLD_CHECK_MS = 1000  # how often a bounded sink looks at its backlog while it delivers
RETENTION_EVERY_MS = 10 * 60_000  # how often the alert log is trimmed to its retention


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
class _Retry:
    """One sink thread's backoff: when the next try is due (notifier clock, ms) and the current delay."""

    at: int = 0
    delay_s: float = 0.0

    def failed(self, now_ms: int) -> None:
        self.delay_s = min(MAX_BACKOFF_S, self.delay_s * 2) if self.delay_s else 0.5
        self.at = now_ms + int(self.delay_s * 1000)

    def succeeded(self) -> None:
        self.at, self.delay_s = 0, 0.0


@dataclass
class SinkSpec:
    """Picklable description of a sink, built into the real thing inside the actor."""

    name: str  # console | jsonl | null | lark
    path: str | None = None
    lark: dict = field(default_factory=dict, repr=False)  # holds the app secret
    lang: str = "zh"
    tz: str = "Asia/Shanghai"
    priority: dict = field(default_factory=dict)  # policies/priority.py weights: the card says why a room ranks
    threshold_minutes: float = 2.0  # a reply slower than this is late (the leaderboard counts them)

    @property
    def card_lang(self) -> str:
        """Lark cards speak Lark's configured language; every other sink the service's."""
        return self.lark.get("lang", self.lang) if self.name == "lark" else self.lang

    def build(self) -> Sink:
        if self.name == "console":
            return ConsoleSink(self.lang, self.tz)
        if self.name == "jsonl":
            return JsonlSink(Path(self.path or "alerts.jsonl"))
        if self.name == "null":
            return NullSink()
        if self.name == "lark":
            from connectors.lark import LarkSettings, LarkSink

            return LarkSink(LarkSettings.model_validate(self.lark))
        raise ValueError(f"sinks: unknown sink {self.name!r} (console, jsonl, lark, null)")


def sink_specs(settings) -> list[SinkSpec]:
    """The configured sinks, secrets included, for the notifier actor (never logged)."""
    # The callback's token and key stay with the web process: the notifier only sends.
    lark = (settings.lark.model_dump(mode="json", exclude={"verification_token", "encrypt_key"})
            | {"app_secret": settings.lark.app_secret.get_secret_value()})
    return [SinkSpec(name, path=str(settings.alerts_path()), lark=lark, lang=settings.lang, tz=settings.timezone,
                     priority=settings.priority, threshold_minutes=settings.over_threshold_minutes)
            for name in settings.sinks]


class DailyLeaderboard:
    """The day's leaderboard card, once, from lark.leaderboard_time (local, in lark.leaderboard_tz) on.

    A Redis marker records that it went out; the Lark uuid derived from the day makes Lark drop the
    resend of a notifier that died between sending and writing the marker.
    """

    def __init__(self, r, keys: Keys, sink: LarkSink, threshold_minutes: float) -> None:
        s = sink.settings
        self.r, self.keys, self.sink, self.threshold = r, keys, sink, threshold_minutes
        self.chat, self.at, self.tz, self.lang = s.leaderboard_chat, s.leaderboard_time, s.leaderboard_tz, s.lang

    def tick(self, now_ms: int) -> bool:
        """Send today's card if its time has come and it has not gone out; True when it went out now."""
        local = datetime.fromtimestamp(now_ms / 1000, zone(self.tz))
        if local.strftime("%H:%M") < self.at:
            return False
        day = local.date()
        marker = self.keys.lark_leaderboard(day.isoformat())
        if self.r.exists(marker):
            return False
        report = build_report(self.r, self.keys, day, day, self.tz, self.threshold, now_ms=now_ms)
        card = build_leaderboard_card(report, self.lang)
        self.sink.send_card(self.chat, card, idempotency_key(f"leaderboard/{day.isoformat()}", self.chat))
        self.r.set(marker, now_ms, ex=MARKER_TTL_S)
        log.info("leaderboard for %s sent to Lark chat %s", day, self.chat)
        return True


class DigestFlusher:
    """Each rep's held alerts as one card when their interval is up (store/digest.py holds them)."""

    def __init__(self, r, keys: Keys, store: DigestStore, sink: LarkSink) -> None:
        self.r, self.keys, self.store, self.sink = r, keys, store, sink

    def tick(self, now_ms: int) -> int:
        """Send every digest that is due; returns how many cards went out."""
        sent = 0
        for chat_id in self.store.due(now_ms):
            batch = self.store.seal(chat_id)
            if batch is None:
                continue
            batch_id, alerts = batch
            waiting = still_waiting(self.r, self.keys, alerts)
            if waiting:  # every room answered since: no card at all
                self.sink.deliver_digest(chat_id, waiting, batch_id)
                sent += 1
            self.store.sent(chat_id, now_ms)
        return sent


class AlertLogRetention:
    """Keeps the alert log (the alerts stream: the dashboard's 警报, reports, what each sink reads) to its last
    `days` days (settings alert_log_days), trimming what every sink has acknowledged."""

    def __init__(self, r, keys: Keys, days: int, every_ms: int = RETENTION_EVERY_MS) -> None:
        self.r, self.keys, self.days, self.every_ms, self._next = r, keys, days, every_ms, 0

    def tick(self, now_ms: int) -> int:
        """Trim once every `every_ms` of the clock; returns how many alerts went."""
        if now_ms < self._next:
            return 0
        self._next = now_ms + self.every_ms
        gone = trim_alert_log(self.r, self.keys, now_ms, self.days)
        if gone:
            log.info("alert log: %d alerts older than %d days trimmed", gone, self.days)
        return gone


class Notification:
    def __init__(self, redis_url: str, namespace: str, specs: list[SinkSpec], now: Callable[[], int] = wall_ms,
                 wait: Callable[[threading.Event, float], bool] = stop_wait, alert_log_days: int | None = None) -> None:
        """`now`: epoch ms; `wait(stop, seconds)`: sleep on that clock, True once `stop` is set. Wall time
        by default; tests pass a clock they step. `alert_log_days`: trim the alert log to that many days."""
        self.redis_url, self.keys = redis_url, Keys(namespace)
        self.r = connect(redis_url)
        self.sinks = {spec.name: spec.build() for spec in specs}
        self.failing: dict[str, str] = {}
        self.now, self.wait = now, wait
        self.backlogs: dict[str, SinkBacklog] = {}  # sinks whose waiting cards are bounded (Lark)
        self._fold_checked: dict[str, int] = {}
        self._delivered: set[str] = set()
        self.digest: DigestStore | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Only the staff: the rooms part of the roster grows with every room and is not needed here.
        self._roster = Roster(load_staff(self.r, self.keys))
        self._roster_loaded = time.monotonic()
        self._rules = PriorityRules.from_mapping(specs[0].priority if specs else None)
        if alert_log_days is not None:
            self._every("alerts:retention", AlertLogRetention(self.r, self.keys, alert_log_days).tick)
        for spec in specs:
            if isinstance(self.sinks[spec.name], LarkSink):  # before the sink's thread can hold an alert
                self._lark_jobs(self.sinks[spec.name], spec.threshold_minutes)
        for spec in specs:
            name, sink = spec.name, self.sinks[spec.name]
            if isinstance(sink, LarkSink):
                self.backlogs[name] = SinkBacklog(self.r, self.keys, self.keys.alerts, name, self._group(name),
                                                  self._consumer(name), sink.settings.max_waiting)
            self._follow(self.keys.alerts, name, partial(self._deliver_alert, sink, spec.card_lang, name))
            if hasattr(sink, "deliver_suggestion"):
                self._follow(self.keys.suggestions, name,
                             lambda _sid, item, sink=sink: sink.deliver_suggestion(item))

    def _lark_jobs(self, sink: LarkSink, threshold_minutes: float) -> None:
        settings = sink.settings
        if settings.digest.enabled:
            self.digest = DigestStore(self.r, self.keys, settings.digest.interval_minutes)
            self._every("lark:digest", DigestFlusher(self.r, self.keys, self.digest, sink).tick)
        if settings.leaderboard_chat:
            self._every("lark:leaderboard", DailyLeaderboard(self.r, self.keys, sink, threshold_minutes).tick)
        else:
            log.info("no lark.leaderboard_chat configured: the daily leaderboard is not sent")

    def _deliver_alert(self, sink: Sink, lang: str, name: str, entry_id: str, item: dict) -> None:
        backlog = self.backlogs.get(name)
        card = backlog.card(entry_id) if backlog is not None else None
        if card is not None and card.is_summary:
            rooms = [line.__dict__ for line in card.rooms]
            ended = waits_ended(self.r, self.keys, [(line.room_id, line.clock_id) for line in card.rooms])
            sink.deliver_catch_up(card.team, [row | {"answered": e} for row, e in zip(rooms, ended, strict=True)],
                                  card.folded, entry_id)
            return
        alert = self._enrich(item, lang)
        if isinstance(sink, LarkSink):  # late after an outage, a card says when the customer was answered since
            [ended] = waits_ended(self.r, self.keys, [(str(alert.get("room_id")), alert.get("clock_id"))])
            alert = alert | {"answered": ended}
        if card is not None:  # a room card carrying what folded into it: out at once, to every chat they named
            sink.deliver({**alert, "targets": list(card.targets), "folded": card.folded,
                          "earlier": list(card.earlier)})
            return
        if not isinstance(sink, LarkSink):
            sink.deliver(alert)
            return
        held = sink.digest_chat(alert) if self.digest is not None else None
        if held:  # held in Redis before the other chats are tried: a retry holds it no second time
            self.digest.hold(held, alert, self.now())
        sink.deliver(alert, held=held)

    def _every(self, name: str, job: Callable[[int], object]) -> None:
        """Run `job(now)` every JOB_TICK_S on its own thread; failures back off and show in health()."""
        def loop() -> None:
            delay = JOB_TICK_S
            while not self.wait(self._stop, delay):
                try:
                    job(self.now())
                    if self.failing.pop(name, None) is not None:
                        log.info("%s: working again", name)
                    delay = JOB_TICK_S
                except Exception as e:  # noqa: BLE001 - Lark or Redis down: try again later, never die
                    if name not in self.failing:
                        log.warning("%s failing (%s: %s); retrying with backoff", name, type(e).__name__, e)
                    self.failing[name] = f"{type(e).__name__}: {e}"
                    delay = min(MAX_BACKOFF_S, delay * 2)

        self._start(threading.Thread(target=loop, name=name, daemon=True))

    def _follow(self, stream: str, name: str, deliver: Callable[[str, dict], None]) -> None:
        ensure_group(self.r, stream, self._group(name))
        self._start(threading.Thread(target=self._run, args=(stream, name, deliver), name=f"{stream}-{name}", daemon=True))

    def _start(self, thread: threading.Thread) -> None:
        self._threads.append(thread)
        thread.start()

    @staticmethod
    def _group(name: str) -> str:
        return f"sink:{name}"

    @staticmethod
    def _consumer(name: str) -> str:
        return f"{name}-0"

    def _enrich(self, alert: dict, lang: str = "zh") -> dict:
        if time.monotonic() - self._roster_loaded > 30:
            self._roster, self._roster_loaded = Roster(load_staff(self.r, self.keys)), time.monotonic()
        return enrich_alert(alert, self._roster, self._rules, lang)

    def _run(self, stream: str, name: str, deliver: Callable[[str, dict], None]) -> None:
        r = connect(self.redis_url)
        group, consumer = self._group(name), self._consumer(name)
        backlog = self.backlogs.get(name) if stream == self.keys.alerts else None
        cursor = "0"  # first whatever this sink took but never acknowledged, then new items
        retry = _Retry()  # kept across a refold: folding does not reset the backoff
        while not self._stop.is_set():
            try:
                reply = r.xreadgroup(group, consumer, {stream: cursor}, count=100,
                                     block=None if cursor == "0" else 1000)
                rows = [(sid, f) for _, entries in (reply or []) for sid, f in entries]
                if cursor == "0" and not rows:
                    cursor = ">"
                for sid, fields in rows:
                    if fields:
                        self._deliver_with_backoff(name, deliver, sid, orjson.loads(fields["d"]), retry, backlog)
                    if backlog is not None:
                        backlog.done(sid)
                    else:
                        r.xack(stream, group, sid)
            except _Stopped:
                return
            except _Refolded:
                cursor = "0"  # the waiting cards changed: start again from the first of them
            except Exception:  # noqa: BLE001 - a sink thread must survive Redis restarts
                log.exception("sink %s: reading %s failed; retrying", name, stream)
                cursor = "0"  # what it took but did not acknowledge comes back
                if self.wait(self._stop, 0.5):
                    return

    def _deliver_with_backoff(self, name: str, deliver: Callable[[str, dict], None], entry_id: str, item: dict,
                              retry: _Retry, backlog: SinkBacklog | None = None) -> None:
        """Deliver or retry with backoff on the notifier's clock; a bounded sink folds its backlog meanwhile."""
        while True:
            self._wait_for_retry(name, retry, backlog)
            try:
                deliver(entry_id, item)
            except Exception as e:  # noqa: BLE001 - any failure of a sink is retried, never fatal
                reason = f"{type(e).__name__}: {e}"
                if name not in self.failing:
                    log.warning("sink %s failing (%s); retrying with backoff", name, reason)
                self.failing[name] = reason
                self.r.hsetnx(self.keys.stats, f"sink_failing:{name}", self.now() // 1000)
                retry.failed(self.now())
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

    def _wait_for_retry(self, name: str, retry: _Retry, backlog: SinkBacklog | None) -> None:
        """Until the next try is due; a bounded sink looks at its backlog every FOLD_CHECK_MS meanwhile,
        so the bound holds however long the backoff is."""
        while True:
            if backlog is not None:
                self._fold_if_over(name, backlog)
            left = retry.at - self.now()
            if left <= 0:
                return
            if self.wait(self._stop, min(FOLD_CHECK_MS, left) / 1000):
                raise _Stopped

    def _fold_if_over(self, name: str, backlog: SinkBacklog) -> None:
        """Past the bound, fold the sink's waiting cards (at most once per FOLD_CHECK_MS of its clock)."""
        now = self.now()
        if now - self._fold_checked.get(name, -FOLD_CHECK_MS) < FOLD_CHECK_MS:
            return
        self._fold_checked[name] = now
        folding = backlog.fold_if_over(partial(self._enrich, lang=self.sinks[name].settings.lang))
        if folding is not None:
            log.warning("sink %s: more than %d alert cards waited; %d folded into fewer cards (none lost)",
                        name, backlog.bound, len(folding.moves))
            raise _Refolded

    # --- for drivers and tests -------------------------------------------------------------------

    def drained(self) -> bool:
        """True when every sink has taken and acknowledged every alert and suggestion so far."""
        return all(caught_up(self.r, stream, self._group(name)) for name, sink in self.sinks.items()
                   for stream in (self.keys.alerts, self.keys.suggestions)
                   if stream == self.keys.alerts or hasattr(sink, "deliver_suggestion"))

    def received(self) -> list[tuple[str, int, float]]:
        sink = self.sinks.get("null")
        return list(sink.received) if isinstance(sink, NullSink) else []

    def ping(self) -> int:
        """Alive? Answers with the process id (the benchmarks sum every process's memory)."""
        return os.getpid()

    def health(self) -> dict[str, str]:
        return dict(self.failing)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop every thread; whatever a sink had not acknowledged is delivered by the next notifier."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class NotifierActor(Notification):
    """Restarted by Ray after a crash; each sink resumes from its consumer group."""
