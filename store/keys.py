"""Every Redis key the product uses, in one place, under one namespace."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    ns: str = "sa"

    @property
    def inbox(self) -> str:  # stream: messages and manager orders, in arrival order
        return f"{self.ns}:inbox"

    @property
    def inbox_times(self) -> str:  # zset: a push's last inbox entry id -> the push's earliest event time
        return f"{self.ns}:inbox:times"

    @property
    def inbox_pushes(self) -> str:  # list: those last entry ids, in push order, until acknowledged
        return f"{self.ns}:inbox:pushes"

    def seen(self, message_id: str) -> str:  # idempotency marker per message id
        return f"{self.ns}:seen:{message_id}"

    @property
    def seen_prefix(self) -> str:
        return f"{self.ns}:seen:"

    @property
    def rooms(self) -> str:  # hash room_id -> Room snapshot
        return f"{self.ns}:rooms"

    def counts(self, day: str) -> str:  # hash "room\x1fspeaker" -> messages that day
        return f"{self.ns}:counts:{day}"

    def hourly(self, day: str) -> str:  # hash "hour\x1fspeaker" -> messages in that local hour of the day
        return f"{self.ns}:hourly:{day}"

    def episodes(self, day: str) -> str:  # hash episode_id -> closed episode, by the day it started
        return f"{self.ns}:episodes:{day}"

    @property
    def clock_events(self) -> str:  # stream: clock started/touched/stopped, shards -> supervisor
        return f"{self.ns}:clock-events"

    @property
    def escalation(self) -> str:  # hash room_id -> the supervisor's watch of its latest clock
        return f"{self.ns}:escalation"

    @property
    def alerts(self) -> str:  # stream: every alert fired; the notifier's outbox and the alert log
        return f"{self.ns}:alerts"

    @property
    def presence(self) -> str:  # hash staff_id -> the rep's focus/away spells (policies/presence.Presence)
        return f"{self.ns}:presence"

    @property
    def presence_held(self) -> str:  # hash alert id -> a private alert held until its owner is back
        return f"{self.ns}:presence:held"

    @property
    def followups_due(self) -> str:  # zset room_id -> when its idle-room follow-up is due (policies/followups.py)
        return f"{self.ns}:followups:due"

    @property
    def followups_sent(self) -> str:  # hash room_id -> the key of the follow-up last sent: once per idle period
        return f"{self.ns}:followups:sent"

    @property
    def followups(self) -> str:  # stream: every follow-up fired; the notifier's third outbox and their log
        return f"{self.ns}:followups"

    @property
    def staff_texts(self) -> str:  # stream: what staff wrote, for the NLP actor's typo and phrasing checks
        return f"{self.ns}:staff-texts"

    def findings(self, day: str) -> str:  # hash message_id -> the NLP findings on a staff message
        return f"{self.ns}:findings:{day}"

    def quality(self, day: str) -> str:  # hash "room|staff\x1fid\x1fchecked|flagged" -> count
        return f"{self.ns}:quality:{day}"

    @property
    def suggestions(self) -> str:  # stream: wording suggestions for reps, the notifier's second outbox
        return f"{self.ns}:suggestions"

    @property
    def staff(self) -> str:  # hash staff_id -> staff entry
        return f"{self.ns}:roster:staff"

    @property
    def teams(self) -> str:  # hash team -> its rule for reps in a focus/away state, as the roster file sets it
        return f"{self.ns}:roster:teams"

    @property
    def roster_rooms(self) -> str:  # hash room_id -> room entry as configured
        return f"{self.ns}:roster:rooms"

    @property
    def stats(self) -> str:  # hash of counters: accepted, duplicates, rejected:<reason>, ...
        return f"{self.ns}:stats"

    @property
    def nlp_state(self) -> str:  # hash: the NLP actor's state as the ingest sees it (state, since ms)
        return f"{self.ns}:nlp-state"

    def nlp_fallbacks(self, minute: int) -> str:  # counter, expiring: closing labels from the built-in list that minute
        return f"{self.ns}:nlp-fallbacks:{minute}"

    @property
    def labels(self) -> str:  # stream: closing labels from people's cancels and restarts (core.room.Correction)
        return f"{self.ns}:labels"

    def recent(self, room_id: str) -> str:  # list: the room's latest messages, newest last, capped
        return f"{self.ns}:recent:{room_id}"

    @property
    def outbox(self) -> str:  # stream: what the service says in rooms, read by the WeChat bridge (store/outbox.py)
        return f"{self.ns}:outbox"

    def outbox_say(self, say_id: str) -> str:  # string: the say and its outcome (queued, said, failed), expiring once done
        return f"{self.ns}:outbox:say:{say_id}"

    @property
    def bridge(self) -> str:  # hash: the WeChat bridge as last heard (last contact, login, spool, errors)
        return f"{self.ns}:bridge:wechaty"

    @property
    def approvals(self) -> str:  # hash approval_id -> a proposed stage change and its decision
        return f"{self.ns}:approvals"

    @property
    def audit(self) -> str:  # capped stream: every write made by a person: who, what, when, before, after
        return f"{self.ns}:audit"

    @property
    def users(self) -> str:  # hash username -> account (role, staff link, password hash)
        return f"{self.ns}:users"

    @property
    def api_tokens(self) -> str:  # hash sha256(token) -> username: integration tokens, never stored in clear
        return f"{self.ns}:api-tokens"

    def session(self, digest: str) -> str:  # string: sha256 of a dashboard session id -> username, expiring
        return f"{self.ns}:session:{digest}"

    def user_sessions(self, username: str) -> str:  # set of the user's session digests, to end them all at once
        return f"{self.ns}:user-sessions:{username}"

    def login_failures(self, kind: str, who: str) -> str:  # hash: failed logins in a row per account or address
        return f"{self.ns}:login-failures:{kind}:{who}"

    @property
    def rejections(self) -> str:  # capped stream of rejected input, for people to look at
        return f"{self.ns}:rejections"

    def lark_leaderboard(self, day: str) -> str:  # marker: that day's leaderboard card went out
        return f"{self.ns}:lark:leaderboard:{day}"

    @property
    def lark_digest_due(self) -> str:  # zset chat_id -> epoch ms when its held alerts go out as one card
        return f"{self.ns}:lark:digest-due"

    # per chat: "open" / "sealed" hash alert_id -> alert, "batch"
    def lark_digest(self, chat_id: str, part: str) -> str:
        return f"{self.ns}:lark:digest:{chat_id}:{part}"

    # marker: an alert is held once, even if redelivered
    def lark_digest_held(self, chat_id: str, alert_id: str) -> str:
        return f"{self.ns}:lark:digest-held:{chat_id}:{alert_id}"

    def sink_folds(self, sink: str) -> str:  # hash entry id -> a waiting card that other alerts folded into
        return f"{self.ns}:sink:{sink}:folds"

    def sink_folded_log(self, sink: str) -> str:  # capped stream: each folded alert and the card it joined
        return f"{self.ns}:sink:{sink}:folded"

    @property
    def roster_version(self) -> str:  # counter bumped by every roster write: readers reload only when it moved
        return f"{self.ns}:roster:version"

    # Consumer groups live on their stream, which carries the namespace: their names need none.

    @staticmethod
    def sink_group(sink: str) -> str:  # each sink reads the alerts and suggestions streams through its own group
        return f"sink:{sink}"

    @staticmethod
    def check_consumer(actor: int) -> str:  # one consumer of NLP_GROUP per staff-check actor
        return f"check-{actor}"

    @staticmethod
    def sink_consumer(sink: str, lane: int = 0) -> str:  # one consumer per delivery lane of a sink
        return f"{sink}-{lane}"


INBOX_GROUP = "rooms"  # the shards read the inbox
EVENTS_GROUP = "supervisor"  # the supervisor reads the clock events
NLP_GROUP = "nlp"  # the staff-check actors read the staff texts, one consumer each (Keys.check_consumer)
OUTBOX_GROUP = "bridge"  # the WeChat bridge reads the outbox
OUTBOX_CONSUMER = "wechaty"  # one bridge, one consumer


COUNT_SEP = "\x1f"
