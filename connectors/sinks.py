"""Where alerts go: the console, a JSONL file, nowhere (benchmarks), or Lark (connectors/lark.py).

A sink delivers alerts or raises; retries, ordering and acknowledgement belong to the notifier. What a
sink can do beyond `deliver` it says in `caps` (its `Capabilities`), so the notifier's delivery loop is
the same for every sink and never asks which kind it holds.
"""
from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from sales_assistant.connectors.i18n import explain
from sales_assistant.core.roster import Roster
from sales_assistant.policies import priority

LATE_NOTICE_MINUTES = 2  # a card delivered this long after its threshold was crossed says it is late


def late_minutes(at_ms: int, delivered_ms: int) -> int:
    """Minutes between the crossing of an alert's threshold (`at`) and its delivery, when that is long
    enough for the card to say so (a backlog after an outage, Lark down); 0 otherwise."""
    late = (delivered_ms - at_ms) // 60_000
    return late if late >= LATE_NOTICE_MINUTES else 0


def with_owner(alert: dict, roster: Roster) -> dict:
    """The alert with its owner's name and team: all that folding a backlog needs (policies/backlog.py)."""
    owner = roster.staff.get(alert.get("owner_id") or "")
    return {**alert, "owner_name": owner.name if owner else None, "team": owner.team if owner else None}


class Enricher:
    """What every sink shows beyond the alert itself: the owner's name and team, and why the room ranks
    where it does (the same score the dashboard sorts by), in one language under one set of rules.

    A burst's alerts share few reasons (a ladder's minutes, a stage, a level, a topic's words), so the
    sentence is built once per set of what the score is made of (`priority.found`), never per alert and
    never keyed on the customer's text."""

    KEPT = 4096  # sentences remembered; past that the memory starts afresh

    def __init__(self, rules: priority.PriorityRules = priority.DEFAULT_RULES, lang: str = "zh") -> None:
        self.rules, self.lang = rules, lang
        self._said: dict[tuple, str] = {}

    def __call__(self, alert: dict, roster: Roster) -> dict:
        text = alert.get("last_text")
        key = (alert.get("waited_minutes"), alert["stage"], alert.get("level"), priority.found(self.rules, [text]))
        why = self._said.get(key)
        if why is None:
            why = explain(priority.score(self.rules, waited_minutes=key[0], stage=key[1], texts=[text], level=key[2]),
                          self.lang)
            if len(self._said) >= self.KEPT:
                self._said.clear()
            self._said[key] = why
        owner = roster.staff.get(alert.get("owner_id") or "")
        return {**alert, "owner_name": owner.name if owner else None, "team": owner.team if owner else None,
                "priority_why": why}


def enrich_alert(alert: dict, roster: Roster, rules: priority.PriorityRules = priority.DEFAULT_RULES,
                 lang: str = "zh") -> dict:
    """One alert enriched (see Enricher; the notifier keeps one per language for its batches)."""
    return Enricher(rules, lang)(alert, roster)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a sink takes beyond one alert at a time; the notifier wires delivery and jobs from these."""

    lang: str = "zh"  # the language its alerts are enriched in (the priority reason)
    suggestions: bool = False  # deliver_suggestion: wording suggestions for the rep who wrote
    followups: bool = False  # deliver_followup: reminders to follow up idle rooms (policies/followups.py)
    max_waiting: int | None = None  # bounded: past this many waiting alerts they fold (deliver_catch_up)
    shows_answered: bool = False  # a late alert says how late, and whether the wait ended since (one Redis read per alert)
    digest_minutes: int | None = None  # holds lower levels for a rep's digest (digest_chat, deliver_digest)
    leaderboard: bool = False  # sends the day's leaderboard card (send_card)


class RetryLater(Exception):
    """A sink failed and knows when to try again (a rate limit's reset); the notifier waits at least that long."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UndeclaredCapability(RuntimeError):
    """The notifier asked a sink for something its `caps` do not declare: a wiring error, never bad input."""

    def __init__(self, sink: str, capability: str) -> None:
        super().__init__(f"sink {sink} does not declare {capability} in its caps")


class Sink(ABC):
    """The base of every sink: `deliver` one alert; `deliver_batch` many (one write where it can). The
    optional parts answer only for a sink whose `caps` declare them; the notifier asks no other."""

    name: str = "sink"
    caps: Capabilities = Capabilities()

    @abstractmethod
    def deliver(self, alert: dict) -> None:
        """One alert, idempotent per alert id."""

    def deliver_batch(self, alerts: list[dict]) -> None:
        """Every alert in order; a sink that can write many at once overrides it. A failure part-way is
        retried whole, so `deliver` must be idempotent per alert id (every sink's is)."""
        for alert in alerts:
            self.deliver(alert)

    def deliver_suggestion(self, suggestion: dict) -> None:
        raise UndeclaredCapability(self.name, "suggestions")

    def deliver_followup(self, followup: dict) -> None:
        """A follow-up of an idle room for its owner (`caps.followups`), idempotent per followup_id."""
        raise UndeclaredCapability(self.name, "followups")

    def deliver_catch_up(self, team: str | None, rooms: list[dict], alerts: int, card_id: str) -> None:
        """A bounded sink (`caps.max_waiting`): one card for rooms whose waiting alerts folded together."""
        raise UndeclaredCapability(self.name, "max_waiting")

    def digest_chat(self, alert: dict) -> str | None:
        """The chat whose digest holds this alert instead of it going there now; None: it goes out now."""
        return None

    def deliver_digest(self, chat_id: str, alerts: list[dict], batch_id: str) -> None:
        """A digest sink (`caps.digest_minutes`): one card for the alerts a chat's digest held."""
        raise UndeclaredCapability(self.name, "digest_minutes")

    def close(self) -> None:  # noqa: B027 - a default: most sinks hold nothing to release
        """Release what the sink holds (a file); it takes no alerts after."""


class NullSink(Sink):
    """Holds alerts and the moment they arrived; the pipeline benchmark reads the latencies."""

    name = "null"

    caps = Capabilities(followups=True)

    def __init__(self) -> None:
        self.received: list[tuple[str, int, float]] = []  # (alert_id, at_ms, arrival wall seconds)

    def deliver(self, alert: dict) -> None:
        self.received.append((alert["alert_id"], alert["at"], time.time()))

    def deliver_followup(self, followup: dict) -> None:
        self.received.append((followup["followup_id"], followup["at"], time.time()))


class JsonlSink(Sink):
    """Appends one JSON line per alert. Exactly once even across crashes: on start it reads back
    the ids already written, so an alert redelivered after a crash is skipped. Suggestions go to
    a second file beside it (suggestions.jsonl). A batch is one write and one fsync: the disk's
    flush, not the alerts, sets the pace of a burst; and its lines are encoded in one call (a call per
    alert cost several times more per alert, most of a burst's encoding)."""

    name = "jsonl"

    def __init__(self, path: Path, id_field: str = "alert_id", lang: str = "zh") -> None:
        self.caps = Capabilities(lang=lang, suggestions=True, followups=True)
        self.path, self.id_field = Path(path), id_field
        self._lines = msgspec.json.Encoder()
        self._suggestions: JsonlSink | None = None
        self._followups: JsonlSink | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._written: set[str] = set()
        torn = False
        if self.path.exists():
            with self.path.open("rb") as f:
                for line in f:
                    torn = not line.endswith(b"\n")
                    try:
                        self._written.add(orjson.loads(line)[self.id_field])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # a line torn by a crash mid-write carries no complete alert
        # Alerts carry what customers wrote: readable by this user alone (0600), whatever the umask.
        self._file = open(self.path, "ab", opener=lambda path, flags: os.open(path, flags, 0o600))  # noqa: SIM115
        if torn:
            self._file.write(b"\n")  # so the next alert starts a line of its own

    def deliver(self, alert: dict) -> None:
        self.deliver_batch([alert])

    def deliver_batch(self, alerts: list[dict]) -> None:
        fresh = {}
        for alert in alerts:
            if alert[self.id_field] not in self._written:
                fresh.setdefault(alert[self.id_field], alert)
        if not fresh:
            return
        self._file.write(self._lines.encode_lines(list(fresh.values())))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._written.update(fresh)

    def close(self) -> None:
        self._file.close()
        for beside in (self._suggestions, self._followups):
            if beside is not None:
                beside.close()

    def deliver_followup(self, followup: dict) -> None:
        """Follow-ups go to a file beside the alerts (followups.jsonl), once per followup_id."""
        if self._followups is None:
            self._followups = JsonlSink(self.path.with_name("followups.jsonl"), id_field="followup_id",
                                        lang=self.caps.lang)
        self._followups.deliver(followup)

    def deliver_suggestion(self, suggestion: dict) -> None:
        if self._suggestions is None:
            self._suggestions = JsonlSink(self.path.with_name("suggestions.jsonl"), id_field="suggestion_id",
                                          lang=self.caps.lang)
        self._suggestions.deliver(suggestion)


class ConsoleSink(Sink):
    name = "console"

    def __init__(self, lang: str, tz: str) -> None:
        from rich.console import Console

        self.console, self.lang, self.tz = Console(), lang, tz
        self.caps = Capabilities(lang=lang, suggestions=True, followups=True)

    def deliver(self, alert: dict) -> None:
        from sales_assistant.connectors.console import alert_line

        self.console.print(alert_line(alert, self.lang, self.tz))

    def deliver_suggestion(self, suggestion: dict) -> None:
        from sales_assistant.connectors.console import suggestion_line

        self.console.print(suggestion_line(suggestion, self.lang))

    def deliver_followup(self, followup: dict) -> None:
        from sales_assistant.connectors.console import followup_line

        self.console.print(followup_line(followup, self.lang, self.tz))
