"""The notifier hands each fired alert to every configured sink, in order, at least once per sink
and exactly once where the sink can tell (JSONL ids, Lark's uuid).

Every sink reads the alert stream through its own consumer group on its own thread, so a slow or
failing Lark only holds back Lark: the console, the file and the pipeline carry on.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import ray

from connectors.sinks import ConsoleSink, JsonlSink, NullSink, Sink, enrich_alert
from policies.priority import PriorityRules
from store.keys import Keys
from store.redis import connect
from store.state import caught_up, ensure_group, load_roster

log = logging.getLogger("sales_assistant.notifier")

MAX_BACKOFF_S = 60.0


@dataclass
class SinkSpec:
    """Picklable description of a sink, built into the real thing inside the actor."""

    name: str  # console | jsonl | null | lark
    path: str | None = None
    lark: dict = field(default_factory=dict, repr=False)  # holds the app secret
    lang: str = "zh"
    tz: str = "Asia/Shanghai"
    priority: dict = field(default_factory=dict)  # policies/priority.py weights: the card says why a room ranks

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
                     priority=settings.priority)
            for name in settings.sinks]


class Notification:
    def __init__(self, redis_url: str, namespace: str, specs: list[SinkSpec]) -> None:
        self.redis_url, self.keys = redis_url, Keys(namespace)
        self.r = connect(redis_url)
        self.sinks = {spec.name: spec.build() for spec in specs}
        self.failing: dict[str, str] = {}
        self._roster = load_roster(self.r, self.keys)
        self._roster_loaded = time.monotonic()
        self._rules = PriorityRules.from_mapping(specs[0].priority if specs else None)
        for spec in specs:
            name, sink = spec.name, self.sinks[spec.name]
            self._follow(self.keys.alerts, name,
                         lambda item, sink=sink, lang=spec.card_lang: sink.deliver(self._enrich(item, lang)))
            if hasattr(sink, "deliver_suggestion"):
                self._follow(self.keys.suggestions, name, lambda item, sink=sink: sink.deliver_suggestion(item))

    def _follow(self, stream: str, name: str, deliver: Callable[[dict], None]) -> None:
        ensure_group(self.r, stream, self._group(name))
        threading.Thread(target=self._run, args=(stream, name, deliver), name=f"{stream}-{name}", daemon=True).start()

    @staticmethod
    def _group(name: str) -> str:
        return f"sink:{name}"

    def _enrich(self, alert: dict, lang: str = "zh") -> dict:
        if time.monotonic() - self._roster_loaded > 30:
            self._roster, self._roster_loaded = load_roster(self.r, self.keys), time.monotonic()
        return enrich_alert(alert, self._roster, self._rules, lang)

    def _run(self, stream: str, name: str, deliver: Callable[[dict], None]) -> None:
        r = connect(self.redis_url)
        group, consumer = self._group(name), f"{name}-0"
        cursor = "0"  # first whatever this sink took but never acknowledged, then new items
        while True:
            try:
                reply = r.xreadgroup(group, consumer, {stream: cursor}, count=100,
                                     block=None if cursor == "0" else 1000)
                rows = [(sid, f) for _, entries in (reply or []) for sid, f in entries]
                if cursor == "0" and not rows:
                    cursor = ">"
                for sid, fields in rows:
                    if fields:
                        self._deliver_with_backoff(name, deliver, orjson.loads(fields["d"]))
                    r.xack(stream, group, sid)
            except Exception:  # noqa: BLE001 - a sink thread must survive Redis restarts
                log.exception("sink %s: reading %s failed; retrying", name, stream)
                cursor = "0"  # what it took but did not acknowledge comes back
                time.sleep(0.5)

    def _deliver_with_backoff(self, name: str, deliver: Callable[[dict], None], item: dict) -> None:
        delay = 0.5
        while True:
            try:
                deliver(item)
                if self.failing.pop(name, None) is not None:
                    self.r.hdel(self.keys.stats, f"sink_failing:{name}")
                    log.info("sink %s: delivering again", name)
                return
            except Exception as e:  # noqa: BLE001 - any failure of a sink is retried, never fatal
                reason = f"{type(e).__name__}: {e}"
                if name not in self.failing:
                    log.warning("sink %s failing (%s); retrying with backoff", name, reason)
                self.failing[name] = reason
                self.r.hset(self.keys.stats, f"sink_failing:{name}", int(time.time()))
                time.sleep(delay)
                delay = min(MAX_BACKOFF_S, delay * 2)

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


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class NotifierActor(Notification):
    """Restarted by Ray after a crash; each sink resumes from its consumer group."""
