"""What a sink's backlog of alert cards becomes when it passes its bound: folded, never dropped.

While Lark is unreachable, alerts keep firing and wait for it in order. A manager does not want ten
minutes of stale cards when it answers again, and must not lose one either. So once more than `bound`
cards wait, the waiting alerts are folded:

1. **Per room.** A room's earlier waiting alerts fold into its newest one: one card per room, which
   says how many earlier alerts it stands for (the latest few listed) and goes to every chat any of
   them was meant for.
2. **Oldest rooms into a summary.** If more rooms wait than the bound allows, the rooms that have
   waited longest fold into one catch-up card per team (its public chat), a line per room. A summary
   goes out where its newest member stood, so the cards still leave oldest first.

Pure: no Redis, no Lark. The shell (store/folds.py, actors/notifier.py) persists the result atomically
and sends it; every alert stays in the alert log.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sales_assistant.core import levels

EARLIER_LINES = 10  # a room card lists at most this many of the alerts folded into it (the newest)


@dataclass(frozen=True)
class RoomLine:
    """One room in a summary: how many alerts it stands for and the worst of them."""

    room_id: str
    topic: str | None
    owner_id: str | None
    owner_name: str | None
    level: str | None
    waited_minutes: float
    first_at: int
    last_at: int
    alerts: int
    clock_id: str | None = None  # the wait of the room's newest alert (lines stored before it have none)

    def merge(self, other: RoomLine) -> RoomLine:
        newer = other if other.last_at >= self.last_at else self
        return replace(self, level=levels.higher(self.level, other.level), clock_id=newer.clock_id,
                       waited_minutes=max(self.waited_minutes, other.waited_minutes),
                       first_at=min(self.first_at, other.first_at), last_at=max(self.last_at, other.last_at),
                       alerts=self.alerts + other.alerts, topic=other.topic or self.topic,
                       owner_id=other.owner_id, owner_name=other.owner_name or self.owner_name)


@dataclass(frozen=True)
class Card:
    """A card waiting for the sink, at `entry_id` (its place in the alert stream).

    A room card carries its newest `alert` and what folded into it; a summary (`alert` None) carries
    a line per room for `team`. `folded` counts the alerts a card stands for besides its own.
    """

    entry_id: str
    alert: dict | None
    team: str | None = None
    folded: int = 0
    earlier: tuple[dict, ...] = ()  # room card: the newest EARLIER_LINES folded alerts, oldest first
    targets: tuple[str, ...] = ()  # room card: every target any of its alerts had, in first-seen order
    rooms: tuple[RoomLine, ...] = ()  # summary: one line per room, oldest first

    @classmethod
    def of(cls, entry_id: str, alert: dict) -> Card:
        """A card for one alert that nothing has folded into yet."""
        return cls(entry_id, alert, alert.get("team"), targets=tuple(alert.get("targets") or ()))

    @property
    def is_summary(self) -> bool:
        return self.alert is None

    @property
    def room_id(self) -> str | None:
        return None if self.alert is None else str(self.alert.get("room_id"))

    def stands_for(self) -> int:
        """Alerts this card delivers: its own (a room card) and every folded one."""
        return self.folded + (0 if self.is_summary else 1)


@dataclass(frozen=True)
class Folding:
    """The waiting cards after folding, and what changed."""

    cards: list[Card]  # in stream order; at most the bound (see fold_backlog)
    absorbed: list[str] = field(default_factory=list)  # entry ids now carried by another card
    moves: list[tuple[str, str]] = field(default_factory=list)  # (alert_id, entry id of the card it joined)

    @property
    def changed(self) -> bool:
        return bool(self.absorbed)


def stream_key(entry_id: str) -> tuple[int, int]:
    """A Redis stream id ("1700000000000-3") as a sortable (milliseconds, sequence) pair."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def compact(alert: dict) -> dict:
    """What a folded alert keeps for the card that carries it."""
    keep = ("alert_id", "room_id", "clock_id", "level", "waited_minutes", "at", "topic", "owner_id",
            "owner_name", "team", "targets")
    return {k: alert.get(k) for k in keep}


def room_line(card: Card) -> RoomLine:
    """A room card as one summary line, its folded alerts included."""
    alert = card.alert or {}
    ats = [int(alert.get("at", 0))] + [int(e.get("at", 0)) for e in card.earlier]
    level = alert.get("level")
    for e in card.earlier:
        level = levels.higher(level, e.get("level"))
    return RoomLine(str(alert.get("room_id")), alert.get("topic"), alert.get("owner_id"), alert.get("owner_name"),
                    level, float(alert.get("waited_minutes") or 0), min(ats), max(ats), card.stands_for(),
                    alert.get("clock_id"))


def fold_into_newer(older: Card, newer: Card) -> Card:
    """`older` (same room, earlier in the stream) folded into `newer`."""
    assert older.alert is not None and newer.alert is not None
    earlier = (*older.earlier, compact(older.alert), *newer.earlier)[-EARLIER_LINES:]
    targets = tuple(dict.fromkeys((*older.targets, *newer.targets)))
    return replace(newer, folded=newer.folded + older.stands_for(), earlier=earlier, targets=targets)


def fold_into_summary(card: Card, summary: Card | None, team: str | None) -> Card:
    """A room card (or an older summary of the same team) joins the team's summary."""
    lines = {line.room_id: line for line in (summary.rooms if summary else ())}
    incoming = card.rooms if card.is_summary else (room_line(card),)
    for line in incoming:
        lines[line.room_id] = lines[line.room_id].merge(line) if line.room_id in lines else line
    entry = max((card.entry_id, summary.entry_id) if summary else (card.entry_id,), key=stream_key)
    ordered = tuple(sorted(lines.values(), key=lambda line: line.first_at))
    return Card(entry, None, team, folded=(summary.folded if summary else 0) + card.stands_for(), rooms=ordered)


def fold_backlog(waiting: list[Card], bound: int) -> Folding:
    """Fold `waiting` (in stream order) until at most `bound` cards are left.

    Per room first, then the oldest rooms into their team's summary. The only case left above the bound
    is more teams with a summary than the bound itself: a summary per team is never merged across teams.
    """
    if bound < 1:
        raise ValueError("bound must be at least 1")
    if len(waiting) <= bound:
        return Folding(list(waiting))
    absorbed: list[str] = []
    moves: list[tuple[str, str]] = []

    def absorb(card: Card, into: str) -> None:
        absorbed.append(card.entry_id)
        if card.alert is not None:
            moves.append((str(card.alert.get("alert_id")), into))

    # 1. A room's earlier cards into its newest.
    newest: dict[str, Card] = {}
    summaries: dict[str | None, Card] = {}
    for card in waiting:
        if card.is_summary:
            if card.team in summaries:  # two summaries of one team (an earlier round): one is enough
                older = summaries[card.team]
                merged = fold_into_summary(older, card, card.team)
                absorbed.append(older.entry_id if merged.entry_id == card.entry_id else card.entry_id)
                summaries[card.team] = merged
            else:
                summaries[card.team] = card
            continue
        room = card.room_id or ""
        if room in newest:
            older = newest[room]
            absorb(older, card.entry_id)
            # What the older card had already absorbed now rides on this one too.
            card = fold_into_newer(older, card)
        newest[room] = card
    rooms = sorted(newest.values(), key=lambda c: stream_key(c.entry_id))

    # 2. The rooms that waited longest into their team's summary, until the bound holds.
    while rooms and len(rooms) + len(summaries) > bound:
        card = rooms.pop(0)
        summary = summaries.get(card.team)
        merged = fold_into_summary(card, summary, card.team)
        if summary is not None and summary.entry_id != merged.entry_id:
            absorbed.append(summary.entry_id)
        # The room card's own entry stays only if it now carries the summary.
        if merged.entry_id != card.entry_id:
            absorb(card, merged.entry_id)
        else:
            moves.append((str(card.alert.get("alert_id")), merged.entry_id))  # its entry now sends the summary
        summaries[card.team] = merged
    cards = sorted([*rooms, *summaries.values()], key=lambda c: stream_key(c.entry_id))
    return Folding(cards, absorbed, moves)
