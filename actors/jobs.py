"""The notifier's scheduled jobs: the daily leaderboard card, the reps' digest cards and the alert log's
retention, each a small class with `tick(now_ms)`, run by `Scheduler` on the notifier's clock.

They live apart from delivery so that delivery stays a thin loop: a job never holds back an alert, and
an alert burst never delays a job. Each job is idempotent per tick (a Redis marker, a sealed digest batch
with its Lark uuid, a trim that only drops what every sink acknowledged), so a notifier that dies mid-job
repeats it harmlessly. `jobs_for` asks each sink what it takes (its capabilities), never its type.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import redis

from sales_assistant.connectors.lark import LarkSink, build_leaderboard_card, idempotency_key
from sales_assistant.connectors.sinks import Sink
from sales_assistant.core.timeutil import zone
from sales_assistant.policies.escalation import Policy
from sales_assistant.store.digest import DigestStore, still_waiting
from sales_assistant.store.keys import Keys
from sales_assistant.store.report import build_report
from sales_assistant.store.state import trim_alert_log

log = logging.getLogger("sales_assistant.jobs")

MAX_BACKOFF_S = 60.0
JOB_TICK_S = 1.0  # how often a job looks at the clock
MARKER_TTL_S = 8 * 24 * 3600
RETENTION_EVERY_MS = 10 * 60_000  # how often the alert log is trimmed to its retention

Job = Callable[[int], object]


class DailyLeaderboard:
    """The day's leaderboard card, once, from the sink's leaderboard time (local, in its time zone) on.

    A Redis marker records that it went out; the Lark uuid derived from the day makes Lark drop the
    resend of a notifier that died between sending and writing the marker.
    """

    def __init__(self, r: redis.Redis, keys: Keys, sink: LarkSink, threshold_minutes: float,
                 policy: Policy | None = None) -> None:
        """`policy`: which stages count business time, so that their averages are business minutes, as on
        the dashboard (None: wall minutes)."""
        s = sink.settings
        self.r, self.keys, self.sink, self.threshold, self.policy = r, keys, sink, threshold_minutes, policy
        self.chat, self.at, self.tz, self.lang = s.leaderboard_chat, s.leaderboard_time, sink.leaderboard_tz, s.lang

    def tick(self, now_ms: int) -> bool:
        """Send today's card if its time has come and it has not gone out; True when it went out now."""
        local = datetime.fromtimestamp(now_ms / 1000, zone(self.tz))
        if local.strftime("%H:%M") < self.at:
            return False
        day = local.date()
        marker = self.keys.lark_leaderboard(day.isoformat())
        if self.r.exists(marker):
            return False
        report = build_report(self.r, self.keys, day, day, self.tz, self.threshold, now_ms=now_ms, policy=self.policy)
        card = build_leaderboard_card(report, self.lang)
        self.sink.send_card(self.chat, card, idempotency_key(f"leaderboard/{day.isoformat()}", self.chat))
        self.r.set(marker, now_ms, ex=MARKER_TTL_S)
        log.info("leaderboard for %s sent to chat %s", day, self.chat)
        return True


class DigestFlusher:
    """Each rep's held alerts as one card when their interval is up (store/digest.py holds them)."""

    def __init__(self, r: redis.Redis, keys: Keys, store: DigestStore, sink: Sink) -> None:
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

    def __init__(self, r: redis.Redis, keys: Keys, days: int, every_ms: int = RETENTION_EVERY_MS) -> None:
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


def jobs_for(r: redis.Redis, keys: Keys, sink: Sink, threshold_minutes: float,
             policy: Policy | None = None) -> tuple[list[tuple[str, Job]], DigestStore | None]:
    """The jobs a sink asks for, by name, and the digest store its delivery holds alerts in (None: no digest)."""
    jobs: list[tuple[str, Job]] = []
    digest = None
    if sink.caps.digest_minutes:
        digest = DigestStore(r, keys, sink.caps.digest_minutes)
        jobs.append((f"{sink.name}:digest", DigestFlusher(r, keys, digest, sink).tick))
    if sink.caps.leaderboard:
        jobs.append((f"{sink.name}:leaderboard", DailyLeaderboard(r, keys, sink, threshold_minutes, policy).tick))
    return jobs, digest


class Scheduler:
    """Runs each job every JOB_TICK_S on a thread of its own, on the notifier's clock (`now`, `wait`).
    A failing job (Lark or Redis down) backs off and shows in `failing`; it never dies."""

    def __init__(self, now: Callable[[], int], wait: Callable[[threading.Event, float], bool],
                 stop: threading.Event, failing: dict[str, str]) -> None:
        self.now, self.wait, self.stop, self.failing = now, wait, stop, failing
        self.threads: list[threading.Thread] = []

    def every(self, name: str, job: Job) -> None:
        thread = threading.Thread(target=self._loop, args=(name, job), name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _loop(self, name: str, job: Job) -> None:
        delay = JOB_TICK_S
        while not self.wait(self.stop, delay):
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
