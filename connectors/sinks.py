"""Where alerts go: the console, a JSONL file, nowhere (benchmarks), or Lark (connectors/lark.py).

A sink delivers one alert or raises; retries, ordering and acknowledgement belong to the notifier.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

import orjson

from core.roster import Roster
from policies import priority


def enrich_alert(alert: dict, roster: Roster, rules: priority.PriorityRules = priority.DEFAULT_RULES,
                 lang: str = "zh") -> dict:
    """What every sink shows beyond the alert itself: the owner's name and team, and why the room
    ranks where it does (the same score the dashboard sorts by)."""
    owner = roster.staff.get(alert.get("owner_id") or "")
    why = priority.score(rules, waited_minutes=alert.get("waited_minutes"), stage=alert["stage"],
                         texts=[alert.get("last_text")], level=alert.get("level")).explain(lang)
    return {**alert, "owner_name": owner.name if owner else None, "team": owner.team if owner else None,
            "priority_why": why}


class Sink(Protocol):
    name: str

    def deliver(self, alert: dict) -> None: ...


class SuggestionSink(Protocol):
    """A sink that can also pass a wording suggestion to the rep who wrote a message."""

    def deliver_suggestion(self, suggestion: dict) -> None: ...


class NullSink:
    """Holds alerts and the moment they arrived; the pipeline benchmark reads the latencies."""

    name = "null"

    def __init__(self) -> None:
        self.received: list[tuple[str, int, float]] = []  # (alert_id, at_ms, arrival wall seconds)

    def deliver(self, alert: dict) -> None:
        self.received.append((alert["alert_id"], alert["at"], time.time()))


class JsonlSink:
    """Appends one JSON line per alert. Exactly once even across crashes: on start it reads back
    the ids already written, so an alert redelivered after a crash is skipped. Suggestions go to
    a second file beside it (suggestions.jsonl)."""

    name = "jsonl"

    def __init__(self, path: Path, id_field: str = "alert_id") -> None:
        self.path, self.id_field = Path(path), id_field
        self._suggestions: JsonlSink | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._written: set[str] = set()
        if self.path.exists():
            with self.path.open("rb") as f:
                for line in f:
                    try:
                        self._written.add(orjson.loads(line)[self.id_field])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # a line torn by a crash mid-write carries no complete alert
        self._file = self.path.open("ab")

    def deliver(self, alert: dict) -> None:
        if alert[self.id_field] in self._written:
            return
        self._file.write(orjson.dumps(alert) + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._written.add(alert[self.id_field])

    def deliver_suggestion(self, suggestion: dict) -> None:
        if self._suggestions is None:
            self._suggestions = JsonlSink(self.path.with_name("suggestions.jsonl"), id_field="suggestion_id")
        self._suggestions.deliver(suggestion)


class ConsoleSink:
    name = "console"

    def __init__(self, lang: str = "zh", tz: str = "Asia/Shanghai") -> None:
        from rich.console import Console

        self.console, self.lang, self.tz = Console(), lang, tz

    def deliver(self, alert: dict) -> None:
        from connectors.console import alert_line

        self.console.print(alert_line(alert, self.lang, self.tz))

    def deliver_suggestion(self, suggestion: dict) -> None:
        from connectors.console import suggestion_line

        self.console.print(suggestion_line(suggestion, self.lang))
