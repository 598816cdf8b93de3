"""The ingest consumer: inbox stream -> closing labels -> room shards (in batches) -> acknowledge.

An entry is acknowledged only after every shard it touched has committed its effects; a crash
in between makes the stream redeliver it, and the rooms skip what they already applied.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

import ray

from sales_assistant.actors import Pingable, actor_name, settle_heap
from sales_assistant.models.closing import is_closing, load_closing_detector
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import load_roster, shard_of
from sales_assistant.store.wire import MessageRow, ShardBatch, ShardEntry

log = logging.getLogger("sales_assistant.ingest")

CONSUMER = "ingest-0"
NLP_TIMEOUT_S = 2.0


class Ingestion(Pingable):
    def __init__(self, redis_url: str, namespace: str, shards: int, closing_model: str, batch_size: int,
                 clock: str, consume: bool) -> None:
        """`consume`: keep reading the inbox on a thread of its own (the service); otherwise the
        driver calls pump() (replay, benchmarks). `clock`: on "virtual" time each batch advances
        the supervisor to the newest event time it carried."""
        self.r, self.keys = connect(redis_url), Keys(namespace)
        self.inbox = Inbox(self.r, self.keys)
        self.inbox.ensure_group()
        # Looked up by name, so a restarted ingest finds the same (or restarted) peers.
        self.shards = [ray.get_actor(actor_name(namespace, f"shard-{i}")) for i in range(shards)]
        self.supervisor = ray.get_actor(actor_name(namespace, "supervisor"))
        self.clock = clock
        self.batch_size = batch_size
        # The built-in list is always at hand: it decides alone, or whenever the NLP actor cannot.
        self.fallback = load_closing_detector("keywords")
        self.nlp = ray.get_actor(actor_name(namespace, "nlp")) if closing_model != "keywords" else None
        self.staff = set(load_roster(self.r, self.keys).staff)
        self._lock = threading.Lock()
        self._pending_after: str | None = "0"  # re-read unacknowledged entries after this id; None: read new ones
        self._sent: dict[int, int] = {}  # shard -> seq of the last entry sent it in this loop
        self.processed = 0
        settle_heap()
        if consume:
            threading.Thread(target=self._run_live, name="ingest-loop", daemon=True).start()

    def pump(self) -> int:
        """Process everything waiting in the inbox now (replay and tests); returns entries handled."""
        with self._lock:
            return self._consume(block_ms=None, forever=False)

    def _run_live(self) -> None:
        while True:
            try:
                with self._lock:
                    self._consume(block_ms=1000, forever=True)
            except Exception:  # noqa: BLE001 - keep consuming through Redis or shard restarts
                log.exception("ingest batch failed; it stays pending and is retried")
                self._pending_after = "0"
                time.sleep(0.5)

    def _consume(self, block_ms: int | None, forever: bool) -> int:
        """Two batches in flight: the next one is read and sent while the shards work on the last.
        A shard runs its batches in the order sent, and each batch is acknowledged only after its
        own shard calls returned, so the overlap changes nothing about what is applied or when."""
        total, in_flight = 0, None
        self._sent = {}  # a new chain for every shard (see RoomShard.apply)
        while True:
            batch = self._dispatch(block_ms if in_flight is None else None)
            if in_flight is not None:
                total += self._settle(in_flight)
            in_flight = batch
            if in_flight is None and not forever:
                return total

    def _dispatch(self, block_ms: int | None) -> tuple | None:
        """Each shard's part names the last entry this loop sent that shard before (`after`). A shard's
        first part of the loop starts a chain (`after=None`): the loop reads pending entries first,
        in order, so that part begins at the oldest entry for the shard not acknowledged."""
        entries = []
        if self._pending_after is not None:  # the batch before may still be in flight: read on after it
            entries = self.inbox.read(CONSUMER, self.batch_size, None, pending=True, after=self._pending_after)
            self._pending_after = entries[-1].stream_id if entries else None
        if not entries:
            entries = self.inbox.read(CONSUMER, self.batch_size, block_ms, pending=False)
        if not entries:
            return None
        self._label_closing(entries)
        by_shard: dict[int, ShardBatch] = defaultdict(ShardBatch)
        newest, unknown = 0, 0
        for e in entries:
            if e.row is None:  # written by a newer version: acknowledged with the batch, counted, not applied
                unknown += 1
                continue
            by_shard[shard_of(e.row.room_id, len(self.shards))].append(ShardEntry(e.seq, e.kind, e.row))
            newest = max(newest, e.row.ts)
        if unknown:
            self.r.hincrby(self.keys.stats, "rejected:unknown_kind", unknown)
        refs = []
        for i, batch in by_shard.items():
            refs.append(self.shards[i].apply.remote(batch, self._sent.get(i)))
            self._sent[i] = batch[-1].seq
        return entries, refs, newest

    def _settle(self, in_flight: tuple) -> int:
        entries, refs, newest = in_flight
        ray.get(refs)
        if self.clock == "virtual":
            ray.get(self.supervisor.advance.remote(newest))
        self.inbox.ack([e.stream_id for e in entries])
        self.processed += len(entries)
        return len(entries)

    def _label_closing(self, entries: list) -> None:
        """Only customers' words can close an exchange; staff text is not the closing model's business."""
        asks = [e.row for e in entries
                if isinstance(e.row, MessageRow) and e.row.sender_id not in self.staff and e.row.text]
        if not asks:
            return
        texts = [row.text for row in asks]
        labels = self._ask_nlp(texts) if self.nlp is not None else None
        if labels is None:
            labels = is_closing(self.fallback, texts)
        for row, closing in zip(asks, labels, strict=True):
            row.label_closing(closing)

    def _ask_nlp(self, texts: list[str]) -> list[bool] | None:
        try:
            return ray.get(self.nlp.closing.remote(texts), timeout=NLP_TIMEOUT_S)
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayError) as e:
            # Clocks must not wait for a model: the built-in list decides this batch.
            self.r.hincrby(self.keys.stats, "nlp_fallback", len(texts))
            log.warning("NLP actor unavailable (%s); %d closing labels from the built-in list", type(e).__name__,
                        len(texts))
            return None

    def reload_roster(self) -> None:
        self.staff = set(load_roster(self.r, self.keys).staff)


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class IngestActor(Ingestion):
    """Restarted by Ray after a crash; resumes from its consumer group's pending entries."""
