"""A shard hosts many Room state machines in one process and persists each batch atomically."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

import ray

from sales_assistant.actors import settle_heap
from sales_assistant.core.messages import MessageType
from sales_assistant.core.room import ClockStopped, Correction, Episode, Rejection, Room, correction_of
from sales_assistant.core.roster import RoomInfo, Roster, Speaker
from sales_assistant.core.timeutil import day_of, hour_of
from sales_assistant.policies.followups import Due, FollowUpCrossed, crossed, due
from sales_assistant.policies.presence import Presence, PresenceChanged
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import (
    commit_shard_batch,
    load_presence,
    load_roster,
    load_shard_rooms,
    record_rejections,
    shard_of,
)
from sales_assistant.store.wire import (
    KIND_CANCEL,
    KIND_FOLLOWUP_HOLD,
    KIND_MESSAGE,
    KIND_PRESENCE,
    KIND_REASSIGN,
    KIND_RESTART,
    KIND_SNOOZE,
    MessageRow,
    RecentRow,
    ShardEntry,
    StaffTextRow,
)

log = logging.getLogger("sales_assistant.shard")

STAFF_SPEAKERS = frozenset({Speaker.OWNER, Speaker.EMPLOYEE})
RECENT_TEXT_CHARS = 500  # the dashboard shows recent messages; a whole essay is not needed there
APPLY_ORDER = {KIND_CANCEL: Room.cancel, KIND_REASSIGN: Room.reassign, KIND_SNOOZE: Room.snooze,
               KIND_FOLLOWUP_HOLD: Room.hold_follow_up, KIND_RESTART: Room.restart}
CORRECTING = frozenset({KIND_CANCEL, KIND_RESTART})  # orders that say what the closing label should have been


class RoomShard:
    """The shard's logic without Ray, so tests and the benchmark can drive it in-process too."""

    def __init__(self, shard_id: int, shards: int, redis_url: str, namespace: str, tz: str,
                 check_staff: bool = False, followup_days: dict[str, int] | None = None) -> None:
        """`check_staff`: hand what staff write to the NLP actor's typo and phrasing checks. `followup_days`:
        stage -> idle days after which its rooms are due a follow-up (the policy's `followup`)."""
        self.followup_days = dict(followup_days or {})
        self.shard_id, self.tz, self.check_staff = shard_id, tz, check_staff
        self.r, self.keys = connect(redis_url), Keys(namespace)
        self.shards = shards
        self.rooms: dict[str, Room] = load_shard_rooms(self.r, self.keys, shard_id, shards)
        self.roster: Roster = load_roster(self.r, self.keys, self._is_new_here)
        self.presence: dict[str, Presence] = load_presence(self.r, self.keys, self._is_here)
        settle_heap()
        self._settled_rooms = len(self.rooms)
        self._in_step = False  # has applied the batch before the next one (see apply)
        self._last_seq: int | None = None  # the last entry of the batch applied last
        self._ahead_of_redis = False  # a batch failed before its commit: memory ran ahead of Redis

    def apply(self, entries: list[ShardEntry], after: int | None = None) -> dict[str, int]:
        """Apply the entries (a store.wire.ShardBatch from the ingest) in order; persist everything they
        changed; return counts.

        Rooms skip what they have already seen, so a batch must never overtake an earlier one that
        was not applied. Two things would let it: Ray retries the calls of a shard that died in any
        order (a later batch first), and a batch that failed before its commit (Redis restarting)
        has already moved its rooms on in memory. So every batch says what it follows: `after` is
        the last entry the ingest sent this shard before it, and the shard takes the batch only if
        that is the batch it applied last. `after=None` starts a chain: the batch begins at the
        oldest entry for this shard not acknowledged (the ingest's first batch for it since a
        restart or failure). A refused batch makes the ingest resend everything from there; the
        shard reloads its rooms first if its memory may be ahead of Redis. (Being "in step" alone is
        not enough: a chain start retried after a restart would let the batch after a refused one
        overtake it.)"""
        if after is not None and (not self._in_step or after != self._last_seq):
            raise RuntimeError(f"shard {self.shard_id}: out of step; waiting for the oldest unacknowledged entries")
        if self._ahead_of_redis:
            self.rooms = load_shard_rooms(self.r, self.keys, self.shard_id, self.shards)
            self.roster = load_roster(self.r, self.keys, self._is_new_here)
            self.presence = load_presence(self.r, self.keys, self._is_here)
        self._in_step, self._ahead_of_redis = False, True
        counts = self._apply(entries)
        self._in_step, self._ahead_of_redis = True, False
        self._last_seq = entries[-1].seq if entries else self._last_seq
        return counts

    def _apply(self, entries: list[ShardEntry]) -> dict[str, int]:
        touched: dict[str, Room] = {}
        counts: dict[tuple[str, str, Speaker], int] = defaultdict(int)
        episodes: list[tuple[str, Episode]] = []
        events: list = []
        stats: dict[str, int] = defaultdict(int)
        rejected: list[dict] = []
        staff_texts: list[StaffTextRow] = []
        recent: dict[str, list[RecentRow]] = defaultdict(list)
        hourly: dict[tuple[str, int, Speaker], int] = defaultdict(int)
        corrections: list[Correction] = []
        presence: dict[str, Presence] = {}
        refollow: set[str] = set()  # rooms whose stage or hold an order changed: their follow-up is looked at again
        for entry in entries:
            row = entry.row
            if entry.kind == KIND_PRESENCE:
                member = self.presence.setdefault(row.staff_id, Presence(row.staff_id))
                if member.apply(row.order(), entry.seq):
                    presence[member.staff_id] = member
                    events.append(PresenceChanged(Presence(member.staff_id, member.seq, member.spells)))
                else:
                    stats["redelivered"] += 1
                continue
            if entry.kind == KIND_MESSAGE:
                msg = row.message()
                room = self._room(msg.room_id, msg.room_topic)
                was_due, was = (self._due(room), (room.owner_id, room.stage)) if self.followup_days else (None, None)
                outcome = room.handle(msg, self.roster.role_of(msg.sender_id), entry.seq)
            else:
                room = self._room(row.room_id, None)
                order = row.order()
                was_due, was = (self._due(room), (room.owner_id, room.stage)) if self.followup_days else (None, None)
                outcome = APPLY_ORDER[entry.kind](room, order, entry.seq)
                refollow.add(room.room_id)
            if outcome.rejected is Rejection.DUPLICATE:
                stats["redelivered"] += 1
                continue
            if was_due is not None and outcome.rejected is None and crossed(was_due, row.ts):  # see FollowUpCrossed
                events.append(FollowUpCrossed(room.room_id, was_due, was[0], str(was[1]), room.topic, row.ts))
            touched[room.room_id] = room
            if outcome.rejected is not None:
                stats[f"rejected:{outcome.rejected.value}"] += 1
                rejected.append({"reason": outcome.rejected.value, "room_id": room.room_id,
                                 "message_id": row.id if isinstance(row, MessageRow) else None, "timestamp": row.ts})
                continue
            if outcome.speaker is not None:
                day = day_of(msg.ts, self.tz)
                counts[(day, room.room_id, outcome.speaker)] += 1
                hourly[(day, hour_of(msg.ts, self.tz), outcome.speaker)] += 1
                stats["applied"] += 1
                recent[room.room_id].append(RecentRow(msg.ts, msg.sender_id, msg.sender_name, outcome.speaker.value,
                                                      msg.text[:RECENT_TEXT_CHARS], msg.type, msg.closing, msg.id))
                if self.check_staff and outcome.speaker in STAFF_SPEAKERS and msg.text and msg.type == MessageType.TEXT:
                    staff_texts.append(StaffTextRow(msg.id, room.room_id, msg.sender_id, msg.sender_name, room.owner_id,
                                                    room.topic, msg.text, msg.ts))
                    stats["staff_texts"] += 1  # minus stats staff_checked: the check backlog (/api/health)
            if outcome.event is not None:
                events.append(outcome.event)
                if entry.kind in CORRECTING and (label := correction_of(order, outcome.event, room.owner_id)):
                    corrections.append(label)
                if isinstance(outcome.event, ClockStopped):
                    ep = outcome.event.episode
                    episodes.append((day_of(ep.started_at, self.tz), ep))
        commit_shard_batch(self.r, self.keys, touched.values(), counts, episodes, events, stats, staff_texts, recent,
                           hourly, presence.values(), self._followups_due(touched.values(), refollow), corrections)
        if len(self.rooms) > 1.1 * self._settled_rooms + 1000:  # many new rooms: out of the collector's sight too
            settle_heap()
            self._settled_rooms = len(self.rooms)
        if rejected:
            record_rejections(self.r, self.keys, rejected)
            for row in rejected:
                log.warning("rejected %s", row)
        return {"applied": stats["applied"], "events": len(events), "rejected": len(rejected),
                "redelivered": stats["redelivered"]}

    def _due(self, room: Room) -> Due | None:
        """The room's follow-up as it stands (policies/followups.py), when its stage has them."""
        days = self.followup_days.get(room.stage)
        return None if days is None else due(room.active_at, room.clock is not None, room.free_at, room.hold, days)

    def _followups_due(self, rooms: Iterable[Room], refollow: set[str]) -> dict[str, int | None]:
        """When each room the batch touched is due a follow-up (policies/followups.py), None when not; nothing
        for rooms of a stage without follow-ups, unless an order changed their stage or hold."""
        if not self.followup_days:
            return {}
        out = {}
        for room in rooms:
            days = self.followup_days.get(room.stage)
            if days is not None or room.room_id in refollow:
                d = due(room.active_at, room.clock is not None, room.free_at, room.hold, days)
                out[room.room_id] = None if d is None else d.at
        return out

    def _room(self, room_id: str, topic: str | None) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            # A room the roster does not list is unassigned until someone owns it. Once the Room
            # exists it carries owner and stage itself; the roster entry is not kept twice.
            info = self.roster.rooms.pop(room_id, None) or RoomInfo(room_id, topic or "")
            room = self.rooms[room_id] = Room(info)
        return room

    def _is_here(self, staff_id: str) -> bool:
        return shard_of(staff_id, self.shards) == self.shard_id

    def _is_new_here(self, room_id: str) -> bool:
        """A Room carries its own owner and stage: the roster matters only for rooms not seen yet."""
        return shard_of(room_id, self.shards) == self.shard_id and room_id not in self.rooms

    def reload_roster(self) -> None:
        self.roster = load_roster(self.r, self.keys, self._is_new_here)

    def room_count(self) -> int:
        return len(self.rooms)

    def memory(self) -> dict:
        """Resident memory of this process and how many rooms it holds (for the benchmarks)."""
        import gc
        import os

        import psutil

        gc.collect()
        # USS, not RSS: pages shared with Ray's object store or other workers are not this shard's.
        return {"pid": os.getpid(), "uss": psutil.Process().memory_full_info().uss, "rooms": len(self.rooms)}


@ray.remote(max_restarts=-1, max_task_retries=-1)
class ShardActor(RoomShard):
    """Restarted by Ray after a crash; __init__ rebuilds its rooms from Redis."""

    def node_id(self) -> str:
        """The Ray node this shard runs on (placement checks)."""
        return ray.get_runtime_context().get_node_id()
