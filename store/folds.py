"""A sink's bounded backlog in Redis: folding waiting alert cards (policies/backlog.py) atomically.

The waiting cards are the sink's unacknowledged entries of the alert stream. Folding first takes every
new entry into the sink's pending list (XREADGROUP), then in one MULTI/EXEC acknowledges the entries
another card now carries, stores what each remaining card stands for (hash `folds`, entry id -> card)
and logs each folded alert (stream `folded`, capped). A crash leaves either the old backlog or the new
one; the alert stream itself, the alert log, is never changed.
"""
from __future__ import annotations

from collections.abc import Callable

import orjson
import redis

from sales_assistant.policies.backlog import Card, Folding, RoomLine, fold_backlog
from sales_assistant.store.keys import Keys
from sales_assistant.store.streams import backlog_of

FOLDED_LOG_MAX = 100_000
_PAGE = 500


def card_to_json(card: Card) -> bytes:
    return orjson.dumps({"alert": card.alert, "team": card.team, "folded": card.folded, "earlier": card.earlier,
                         "targets": card.targets, "rooms": [line.__dict__ for line in card.rooms]})


def card_from_json(entry_id: str, raw: str | bytes) -> Card:
    d = orjson.loads(raw)
    return Card(entry_id, d["alert"], d["team"], d["folded"], tuple(d["earlier"]), tuple(d["targets"]),
                tuple(RoomLine(**line) for line in d["rooms"]))


class SinkBacklog:
    """The waiting cards of one sink (consumer group `group`, consumer `consumer`) on `stream`."""

    def __init__(self, r: redis.Redis, keys: Keys, stream: str, sink: str, group: str, consumer: str,
                 bound: int) -> None:
        self.r, self.stream, self.group, self.consumer, self.bound = r, stream, group, consumer, bound
        self.folds_key, self.log_key = keys.sink_folds(sink), keys.sink_folded_log(sink)
        self.stats_key, self.sink = keys.stats, sink

    def card(self, entry_id: str) -> Card | None:
        """What the entry stands for when something folded into it; None: just its own alert."""
        raw = self.r.hget(self.folds_key, entry_id)
        return None if raw is None else card_from_json(entry_id, raw)

    def done(self, entry_id: str) -> None:
        """The entry's card went out: acknowledge it and forget what it carried, together."""
        pipe = self.r.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, entry_id)
        pipe.hdel(self.folds_key, entry_id)
        pipe.execute()

    def fold_if_over(self, with_owner: Callable[[dict], dict]) -> Folding | None:
        """Fold the waiting cards if more than the bound wait; returns the folding when anything folded.
        `with_owner` adds an alert's owner name and team, which folding groups and labels by."""
        if backlog_of(self.r, self.stream, self.group, cap=self.bound + 1) <= self.bound:
            return None
        while self.r.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=_PAGE):
            pass  # every waiting entry is now pending for this consumer, in stream order
        folds = {k: v for k, v in self.r.hgetall(self.folds_key).items()}
        waiting: list[Card] = []
        cursor = "0"
        while True:
            reply = self.r.xreadgroup(self.group, self.consumer, {self.stream: cursor}, count=_PAGE)
            rows = [(sid, f) for _, entries in (reply or []) for sid, f in entries]
            if not rows:
                break
            for sid, fields in rows:
                if sid in folds:
                    waiting.append(card_from_json(sid, folds[sid]))
                elif fields:
                    waiting.append(Card.of(sid, with_owner(orjson.loads(fields["d"]))))
            cursor = rows[-1][0]
        folding = fold_backlog(waiting, self.bound)
        if not folding.changed:
            return None
        pipe = self.r.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, *folding.absorbed)
        pipe.hdel(self.folds_key, *folding.absorbed)
        changed = {c.entry_id: card_to_json(c) for c in folding.cards if c.folded or c.is_summary}
        if changed:
            pipe.hset(self.folds_key, mapping=changed)
        for alert_id, into in folding.moves:
            pipe.xadd(self.log_key, {"alert_id": alert_id, "into": into}, maxlen=FOLDED_LOG_MAX, approximate=True)
        pipe.hincrby(self.stats_key, f"folded:{self.sink}", len(folding.moves))
        pipe.execute()
        return folding


def sink_backlog(r: redis.Redis, keys: Keys, sink: str) -> dict[str, int]:
    """What waits for a sink: its cards not yet acknowledged (`waiting`, counted up to 10,000) and the
    alerts that ride on them besides their own (`folded`), as the health check and the dashboard show it."""
    return {"waiting": backlog_of(r, keys.alerts, keys.sink_group(sink)),
            "folded": sum(orjson.loads(raw)["folded"] for raw in r.hvals(keys.sink_folds(sink)))}


def folded_log(r: redis.Redis, keys: Keys, sink: str) -> list[tuple[str, str]]:
    """(alert_id, entry id of the card it joined), oldest first: where each folded alert went."""
    return [(f["alert_id"], f["into"]) for _, f in r.xrange(keys.sink_folded_log(sink))]
