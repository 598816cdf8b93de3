"""Focus and away states (专注 / 会议 / 外出 / 下班): who receives a rep's private alert at a moment.

A rep's presence is a short history of spells (a state, from when, until when or until cleared), changed
only by `SetPresence` orders applied once, in inbox order, by the shard the rep's id routes to. The
supervisor keeps every rep's history (fed by the shards' presence events) and asks `route` at each
alert's `at`, so replay and the live service address the same alerts the same way, however late an alert
is computed. A team's rule (core/roster.py `Team`, from the roster file) says what happens while a rep is
away: their private alerts go to their named backup (`Staff.backup`) or wait until the state ends
(`HeldAlerts`), and whether the public escalation still runs at its thresholds.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sales_assistant.core.messages import SetPresence
from sales_assistant.core.roster import Staff, Team

MAX_SPELLS = 16  # the history an alert computed late may still need; older spells are long over
PRIVATE, PUBLIC = "private", "public"  # policies/escalation.Target's values, as alerts carry them


class PresenceState(StrEnum):
    FOCUS = "focus"  # 专注
    MEETING = "meeting"  # 会议
    AWAY = "away"  # 外出
    OFF = "off"  # 下班


class AwayRule(StrEnum):
    """What a team does with an away rep's private alerts."""

    BACKUP = "backup"  # to the rep's named backup (held when there is none, or the backup is away too)
    HOLD = "hold"  # held until the state ends, then delivered


@dataclass(slots=True, frozen=True)
class Spell:
    """One state of a rep, from `start` until `end` (epoch ms; None: until cleared)."""

    state: PresenceState
    start: int
    end: int | None
    by: str

    def covers(self, t: int) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(slots=True)
class Presence:
    """A rep's spells, oldest first, and the inbox position of the last order applied (redelivery is harmless)."""

    staff_id: str
    seq: int = -1
    spells: tuple[Spell, ...] = ()

    def apply(self, order: SetPresence, seq: int) -> bool:
        """A new state from `order.ts` (ending the current one), or the current one cleared; False if seen."""
        if seq <= self.seq:
            return False
        self.seq = seq
        last = self.spells[-1].start if self.spells else order.ts
        ts = max(order.ts, last)  # never rewrite the past another order already wrote
        spells = [s if s.end is not None and s.end <= ts else replace(s, end=ts) for s in self.spells]
        if order.state is not None and (order.until is None or order.until > ts):
            spells.append(Spell(PresenceState(order.state), ts, order.until, order.by))
        self.spells = tuple(s for s in spells if s.end is None or s.end > s.start)[-MAX_SPELLS:]
        return True

    def at(self, t: int) -> Spell | None:
        """The state the rep was in at `t`, or None (at work)."""
        return next((s for s in reversed(self.spells) if s.covers(t)), None)

    def away_until(self, t: int) -> int | None:
        """When the rep is back after `t`: the end of the spells running on without a gap from `t`; None while
        that is not known (a state until cleared). `t` itself when the rep is not away at `t`."""
        end = t
        for s in self.spells:
            if s.covers(end):
                if s.end is None:
                    return None
                end = s.end
        return end

    def to_list(self) -> list:
        return [self.seq, [[s.state.value, s.start, s.end, s.by] for s in self.spells]]

    @classmethod
    def from_list(cls, staff_id: str, row: list) -> Presence:
        seq, spells = row
        return cls(staff_id, seq, tuple(Spell(PresenceState(st), start, end, by) for st, start, end, by in spells))


@dataclass(slots=True, frozen=True)
class PresenceChanged:
    """A shard applied a presence order: the rep's whole history as it now stands (idempotent to re-apply)."""

    presence: Presence


@dataclass(slots=True, frozen=True)
class Route:
    """Where an alert goes at its `at`: `send` now (the private target to `private_to` when someone covers),
    `held` until the owner is back. `state`: the owner's state then, None when at work."""

    send: tuple[str, ...]
    held: tuple[str, ...] = ()
    private_to: str | None = None
    state: PresenceState | None = None


def route(targets: tuple[str, ...], owner: Staff | None, at: int, presences: Mapping[str, Presence],
          team: Team) -> Route:
    """The pure rule: who receives an alert crossed at `at` whose owner may be away then."""
    spell = presences[owner.id].at(at) if owner is not None and owner.id in presences else None
    if spell is None:
        return Route(tuple(targets))
    send, held, private_to = [], [], None
    backup = owner.backup if team.away == AwayRule.BACKUP else None
    covered = backup is not None and (backup not in presences or presences[backup].at(at) is None)
    for target in targets:
        if target == PRIVATE and covered:
            send.append(target)
            private_to = backup
        elif target == PRIVATE or (target == PUBLIC and not team.public_while_away):
            held.append(target)
        else:
            send.append(target)
    return Route(tuple(send), tuple(held), private_to, spell.state)


@dataclass(slots=True)
class HeldAlerts:
    """Alerts (their held targets) waiting for their owner to come back, by the id they go out with."""

    held: dict[str, dict] = field(default_factory=dict)

    def hold(self, alert: dict, route: Route) -> str:
        """Keep the held part of `alert`; its id is the alert's own when nothing of it went out now."""
        alert_id = alert["alert_id"] if not route.send else f"{alert['alert_id']}/held"
        self.held[alert_id] = {**alert, "alert_id": alert_id, "targets": list(route.held), "held_from": alert["at"],
                               "presence": route.state.value if route.state else None}
        return alert_id

    def due(self, until: int, presences: Mapping[str, Presence]) -> list[dict]:
        """The held alerts whose owner is back at or before `until`, in the order they come back, each with the
        moment it went out (`released_at`); removed from the held."""
        out = []
        for alert_id, alert in list(self.held.items()):
            presence = presences.get(alert.get("owner_id") or "")
            back = alert["held_from"] if presence is None else presence.away_until(alert["held_from"])
            if back is not None and back <= until:
                out.append({**alert, "released_at": max(back, alert["held_from"])})
                del self.held[alert_id]
        return sorted(out, key=lambda a: (a["released_at"], a["at"], a["alert_id"]))

    def next_release(self, presences: Mapping[str, Presence]) -> int | None:
        """The earliest known moment a held alert's owner is back (None: none known)."""
        backs = [presences[a["owner_id"]].away_until(a["held_from"]) if a.get("owner_id") in presences
                 else a["held_from"] for a in self.held.values()]
        known = [b for b in backs if b is not None]
        return min(known) if known else None
