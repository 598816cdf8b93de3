"""Where alerts go: the console, a JSONL file, nowhere (benchmarks), or Lark (connectors/lark.py).

A sink delivers one alert or raises; retries, ordering and acknowledgement belong to the notifier.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

import orjson


class Sink(Protocol):
    name: str

    def deliver(self, alert: dict) -> None: ...


class NullSink:
    """Holds alerts and the moment they arrived; the pipeline benchmark reads the latencies."""

    name = "null"

    def __init__(self) -> None:
        self.received: list[tuple[str, int, float]] = []  # (alert_id, at_ms, arrival wall seconds)

    def deliver(self, alert: dict) -> None:
        self.received.append((alert["alert_id"], alert["at"], time.time()))


class JsonlSink:
    """Appends one JSON line per alert. Exactly once even across crashes: on start it reads back
    the ids already written, so an alert redelivered after a crash is skipped."""

    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._written: set[str] = set()
        if self.path.exists():
            with self.path.open("rb") as f:
                for line in f:
                    try:
                        self._written.add(orjson.loads(line)["alert_id"])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # a line torn by a crash mid-write carries no complete alert
        self._file = self.path.open("ab")

    def deliver(self, alert: dict) -> None:
        if alert["alert_id"] in self._written:
            return
        self._file.write(orjson.dumps(alert) + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._written.add(alert["alert_id"])


class ConsoleSink:
    name = "console"

    def __init__(self, lang: str = "zh", tz: str = "Asia/Shanghai") -> None:
        from rich.console import Console

        self.console, self.lang, self.tz = Console(), lang, tz

    def deliver(self, alert: dict) -> None:
        from connectors.console import alert_line

        self.console.print(alert_line(alert, self.lang, self.tz))
