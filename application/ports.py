"""What the application needs from storage, as typing.Protocol ports; store/repository.py implements them
on Redis, and a test may implement them on anything.

The ports speak the domain's types (Room, Roster, Watch, Episode, orders) and plain dicts for the
records the application itself writes (approvals, audit entries) and the alert log it reads.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sales_assistant.core.messages import Order
from sales_assistant.core.room import Correction, Episode, Room
from sales_assistant.core.roster import Roster, Speaker
from sales_assistant.policies.deadlines import Watch
from sales_assistant.policies.presence import Presence


class Orders(Protocol):
    """Where a person's orders go: the inbox, so the rooms apply them once and in order with the messages."""

    def push(self, items: list[Order]) -> list[bool]: ...


class RoomReads(Protocol):
    """The rooms, the roster and what the pipeline recorded about them."""

    def roster(self) -> Roster: ...

    def known_rooms(self, roster: Roster) -> dict[str, Room]:
        """Every room the service knows: seen in the stream, or configured but silent so far."""
        ...

    def room(self, room_id: str) -> Room | None:
        """The room's snapshot, or None when no message reached it yet."""
        ...

    def last_messages(self, room_ids: Sequence[str]) -> list[dict | None]:
        """Each room's latest message, None for a silent room. A message: ts, sender_id, sender_name
        (None when the platform gave none), speaker, text, type, closing, message_id."""
        ...

    def recent_messages(self, room_id: str) -> list[dict]:
        """The room's latest messages, oldest first."""
        ...

    def message_counts(self, days: Sequence[str]) -> dict[tuple[str, Speaker], int]:
        """(room_id, speaker) -> messages over the business days."""
        ...

    def findings(self, days: Sequence[str]) -> list[dict]: ...

    def alerts(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
        """The alert log, oldest first, optionally those crossed in [start_ms, end_ms)."""
        ...

    def alert(self, alert_id: str) -> dict | None:
        """One alert of the log, looked up newest first (a card's button is pressed on a recent card)."""
        ...

    def watches(self) -> Iterable[Watch]:
        """The supervisor's watches: each room's latest clock that fired, with the level it reached."""
        ...

    def presences(self) -> dict[str, Presence]:
        """The reps' focus/away spells, by staff id, as the shards applied the orders."""
        ...

    def followups(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]:
        """The follow-ups of idle rooms sent, oldest first, optionally those fired in [start_ms, end_ms)."""
        ...


class Says(Protocol):
    """Where what the service says in a chat room goes: the outbox the WeChat bridge consumes (store/outbox.py)."""

    def add(self, room_id: str, text: str, mentions: list[str], at: int, by: str) -> str:
        """Queue a say; returns its id, the bridge's idempotency key."""
        ...


class Approvals(Protocol):
    """Proposed stage changes and their decisions, by approval id."""

    def approvals(self) -> list[dict]: ...

    def approval(self, approval_id: str) -> dict | None: ...

    def add_approval(self, approval: dict) -> None: ...

    def decide_approval(self, approval_id: str, decided: dict) -> bool:
        """Store the decision only if the approval is still pending; False when somebody decided first."""
        ...


class AuditLog(Protocol):
    """Every write a person made: who, what, when, before, after."""

    def append_audit(self, entry: dict) -> None: ...

    def audit(self, room_id: str | None, limit: int) -> list[dict]:
        """The newest entries first, all of them or those about one room."""
        ...

    def corrections(self, since_ms: int | None = None) -> list[Correction]:
        """The closing labels people's applied cancels and restarts gave, oldest first, optionally those
        whose order came at or after `since_ms`."""
        ...


class WorkspaceStore(RoomReads, Approvals, AuditLog, Protocol):
    """Everything application.workspace.Workspace reads and writes besides the orders."""


class ReportSource(Protocol):
    """What the period report reads."""

    def roster(self) -> Roster: ...

    def known_rooms(self, roster: Roster) -> dict[str, Room]: ...

    def episodes(self, days: Sequence[str]) -> list[Episode]:
        """Closed episodes, by the business day they started."""
        ...

    def message_counts(self, days: Sequence[str]) -> dict[tuple[str, Speaker], int]: ...

    def hourly(self, days: Sequence[str]) -> dict[tuple[int, Speaker], int]:
        """(local hour of day, speaker) -> messages over the days."""
        ...

    def quality(self, days: Sequence[str]) -> dict[tuple[str, str, str], int]:
        """(scope "room"|"staff", id, "checked"|"flagged") -> messages over the days."""
        ...

    def findings(self, days: Sequence[str]) -> list[dict]: ...

    def alerts(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]: ...

    def followups(self, start_ms: int | None = None, end_ms: int | None = None) -> list[dict]: ...
