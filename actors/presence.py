"""The supervisor's presence desk: addresses each alert it fires by its owner's focus/away state at the
alert's `at` (policies/presence.py), and holds what must wait until the owner is back.

A thin shell: the reps' spells come from the shards' presence events on the clock-events stream (and
from Redis after a restart), the teams and backups from the roster in Redis (reloaded when its version
moves), the held alerts from a hash the supervisor's commit writes together with the alerts it sends
(store/state.commit_escalation), so a held alert is never lost and a released one never sent twice.
"""
from __future__ import annotations

import orjson
import redis

from sales_assistant.core.roster import Roster
from sales_assistant.policies.deadlines import Alert
from sales_assistant.policies.presence import HeldAlerts, Presence, PresenceChanged, route
from sales_assistant.store.keys import Keys
from sales_assistant.store.state import load_presence, load_staff, load_teams


class PresenceDesk:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys
        self.presences: dict[str, Presence] = load_presence(r, keys)
        self.held = HeldAlerts({aid: orjson.loads(raw) for aid, raw in r.hgetall(keys.presence_held).items()})
        self._roster = Roster()
        self._version: str | None = None

    def apply(self, event: PresenceChanged) -> None:
        """A newer history replaces the one held; a redelivered older one changes nothing."""
        p = event.presence
        known = self.presences.get(p.staff_id)
        if known is None or p.seq > known.seq:
            self.presences[p.staff_id] = p

    def roster(self) -> Roster:
        """Staff and teams as the roster in Redis says, read again only when its version moved."""
        version = self.r.get(self.keys.roster_version) or ""
        if version != self._version:
            self._roster, self._version = Roster(load_staff(self.r, self.keys), {}, load_teams(self.r, self.keys)), version
        return self._roster

    def address(self, alerts: list[Alert]) -> tuple[list[Alert | dict], dict[str, dict]]:
        """The alerts as they go out now (an away owner's private alert to their backup, or without the
        held targets), and those held: alert id -> the held alert."""
        if not alerts:
            return [], {}
        presences = self.presences
        if not presences:  # nobody has a state: every alert goes as fired (the common case, and a burst's)
            return alerts, {}
        out: list[Alert | dict] = []
        held = {}
        roster = self.roster()
        for alert in alerts:
            d = alert.to_dict()
            # An owner with no spells is at work (route's rule): no roster lookup for them.
            owner = roster.staff.get(alert.owner_id) if alert.owner_id in presences else None
            if owner is None:
                out.append(d)
                continue
            r = route(alert.targets, owner, alert.at, presences, roster.team(owner.team))
            if r.state is None:
                out.append(d)
                continue
            d["presence"] = r.state.value
            if r.private_to is not None:
                d["private_to"] = r.private_to
            if r.held:
                held_id = self.held.hold(d, r)
                held[held_id] = self.held.held[held_id]
            if r.send:
                out.append({**d, "targets": list(r.send), **({"held": list(r.held)} if r.held else {})})
        return out, held

    def release(self, until: int) -> list[dict]:
        """The held alerts whose owner is back by `until`, to go out now."""
        return self.held.due(until, self.presences) if self.held.held else []

    def next_release(self) -> int | None:
        return self.held.next_release(self.presences) if self.held.held else None
