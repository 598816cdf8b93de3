"""The ingest consumer: inbox stream -> closing labels -> room shards (in batches) -> acknowledge.

An entry is acknowledged only after every shard it touched has committed its effects; a crash
in between makes the stream redeliver it, and the rooms skip what they already applied.

Closing labels come from the NLP actor, and the ingest takes nothing from the inbox until that actor
has loaded its models (at most `nlp.ready_timeout_s`), so that a restarted service labels its backlog
as replay does. The built-in list decides only when the actor fails or is not ready in time: each such
label is counted (`nlp_fallback`), logged, and the actor's state (`loading`, `ready`, `failed`, or `off`
when the built-in list is the configured model) is kept in Redis for /api/health. While the actor is slow
(a busy machine), the ingest takes fewer entries per batch, so that each batch's labels still come in time
(policies/closing_pace.py).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Literal

import ray

from sales_assistant.actors import Pingable, actor_name, settle_heap
from sales_assistant.models.closing import load_closing_detector
from sales_assistant.policies.closing_pace import first_batch_size, next_batch_size
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.language_health import record_fallbacks
from sales_assistant.store.redis import connect
from sales_assistant.store.state import load_roster, set_nlp_state, shard_of
from sales_assistant.store.wire import MessageRow, ShardBatch, ShardEntry

log = logging.getLogger("sales_assistant.ingest")

CONSUMER = "ingest-0"
NLP_TIMEOUT_S = 2.0  # a ready actor labels a batch well within this; past it the clocks must not wait
NlpState = Literal["off", "loading", "ready", "failed"]


class Ingestion(Pingable):
    def __init__(self, redis_url: str, namespace: str, shards: int, closing_model: str, batch_size: int,
                 clock: str, consume: bool, nlp_ready_timeout_s: float = 300.0,
                 closing_confident: float = 0.999) -> None:
        """`consume`: keep reading the inbox on a thread of its own (the service); otherwise the
        driver calls pump() (replay, benchmarks). `clock`: on "virtual" time each batch advances
        the supervisor to the newest event time it carried. `nlp_ready_timeout_s`: how long the
        first batch waits for the NLP actor to load its models. `closing_confident`: a closing label scored
        below it carries its score to the room, which keeps it in sight (core.room.Judgement)."""
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
        # Entries taken per batch, at most batch_size: fewer while the closing actor is slow, so that one batch's
        # labels come well within NLP_TIMEOUT_S rather than from the built-in list (policies/closing_pace.py).
        self._take = first_batch_size(batch_size) if self.nlp is not None else batch_size
        self.nlp_ready_timeout_s = nlp_ready_timeout_s
        self.closing_confident = closing_confident
        self._nlp_state: NlpState | None = None
        # A ping answered once the NLP actor has loaded its models (it loads them in its constructor);
        # None while it is known to answer.
        self._nlp_probe = self.nlp.ping.remote() if self.nlp is not None else None
        self._nlp_awaited = False
        self._set_nlp_state("loading" if self.nlp is not None else "off")
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
                time.sleep(0.5)

    def _consume(self, block_ms: int | None, forever: bool) -> int:
        """Two batches in flight: the next one is read and sent while the shards work on the last.
        A shard runs its batches in the order sent, and each batch is acknowledged only after its
        own shard calls returned, so the overlap changes nothing about what is applied or when."""
        total, in_flight = 0, None
        self._await_nlp()
        # A new chain for every shard (see RoomShard.apply), so the loop starts at the oldest entry not
        # acknowledged: after a failed loop (here or in pump) what it had taken is read again first.
        self._sent, self._pending_after = {}, "0"
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
            entries = self.inbox.read(CONSUMER, self._take, None, pending=True, after=self._pending_after)
            self._pending_after = entries[-1].stream_id if entries else None
        if not entries:
            entries = self.inbox.read(CONSUMER, self._take, block_ms, pending=False)
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
        self.inbox.ack([e.stream_id for e in entries])
        if self.clock == "virtual":  # after the ack: the supervisor fires nothing past unacknowledged input
            ray.get(self.supervisor.advance.remote(newest))
        self.processed += len(entries)
        return len(entries)

    def _label_closing(self, entries: list) -> None:
        """Only customers' words can close an exchange; staff text is not the closing model's business."""
        asks = [e.row for e in entries
                if isinstance(e.row, MessageRow) and e.row.sender_id not in self.staff and e.row.text]
        if not asks:
            return
        texts = [row.text for row in asks]
        answer = self._ask_nlp(texts) if self.nlp is not None else None
        # The built-in list's scores are 1 or 0: its labels are never doubtful.
        scores, threshold = answer or (self.fallback.scores(texts), self.fallback.threshold)
        for row, score in zip(asks, scores, strict=True):
            closing = score >= threshold
            row.label_closing(closing, score if closing and score < self.closing_confident else None)

    def _await_nlp(self) -> None:
        """Before the first batch: until the NLP actor has loaded its models, or `nlp_ready_timeout_s`
        has passed (then the ingest goes on, on the built-in list, and says so)."""
        if self._nlp_awaited or self._nlp_probe is None:
            return
        self._nlp_awaited = True
        answered, _ = ray.wait([self._nlp_probe], timeout=self.nlp_ready_timeout_s)
        if not self._nlp_answers():
            why = "failed to start" if answered else f"not ready after {self.nlp_ready_timeout_s:g} s (nlp.ready_timeout_s)"
            log.error("NLP actor %s: consuming anyway; closing labels come from the built-in list, counted as "
                      "nlp_fallback, until it answers", why)
            self._set_nlp_state("failed")

    def _nlp_answers(self) -> bool:
        """Has the NLP actor answered its latest ping? Never waits: while it loads or restarts, the
        built-in list decides at once rather than after a timeout per batch."""
        if self._nlp_probe is None:
            return True
        if not ray.wait([self._nlp_probe], timeout=0)[0]:
            return False
        try:
            ray.get(self._nlp_probe)
        except ray.exceptions.RayError:
            self._nlp_probe = self.nlp.ping.remote()
            return False
        self._nlp_probe = None
        self._set_nlp_state("ready")
        return True

    def _ask_nlp(self, texts: list[str]) -> tuple[list[float], float] | None:
        """The NLP actor's closing scores and its threshold, or None when it cannot give them now (a failure:
        counted and logged)."""
        reason = "not ready"
        if self._nlp_answers():
            started = time.monotonic()
            try:
                # The timeout goes with the call: past it the actor drops the rest of this batch rather than
                # compete for the CPU with the next one, which would then miss its own timeout too.
                answer = ray.get(self.nlp.closing_scores.remote(texts, NLP_TIMEOUT_S), timeout=NLP_TIMEOUT_S)
                reason = "past its timeout"
            except (ray.exceptions.GetTimeoutError, ray.exceptions.RayError) as e:
                answer, reason = None, type(e).__name__
                self._nlp_probe = self.nlp.ping.remote()
            self._take = next_batch_size(self._take, time.monotonic() - started, NLP_TIMEOUT_S, self.batch_size)
            if answer is not None:
                return answer
        # Clocks must not wait for a model: the built-in list decides this batch.
        record_fallbacks(self.r, self.keys, len(texts), int(time.time() * 1000))
        self._set_nlp_state("failed")
        log.warning("NLP actor unavailable (%s); %d closing labels from the built-in list", reason, len(texts))
        return None

    def _set_nlp_state(self, state: NlpState) -> None:
        """Written on a change only; read by /api/health (store/state.py: nlp_state)."""
        if state != self._nlp_state:
            set_nlp_state(self.r, self.keys, state, int(time.time() * 1000))
            self._nlp_state = state
            if state == "ready":
                log.info("NLP actor ready: closing labels from its models")

    def reload_roster(self) -> None:
        self.staff = set(load_roster(self.r, self.keys).staff)


@ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=4)
class IngestActor(Ingestion):
    """Restarted by Ray after a crash; resumes from its consumer group's pending entries."""
