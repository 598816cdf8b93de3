"""The NLP actors: closing labels for what customers write (asked by the ingest, one call per ingest
batch), and a pool of check actors for what staff write (typos, phrasing), which share the staff-texts
stream through its consumer group at their own pace.

The closing actor loads its model (and runs it once) in the constructor, so an answer to `ping` means
ready: the ingest waits for it before its first batch, and afterwards never waits long: if the actor
fails or falls behind, the clocks keep running on the built-in closing list, counted as a fallback
(actors/ingest.py, store/language_health.py).

Each check actor is one consumer of the `nlp` group (`Keys.check_consumer`): Redis hands every new
entry to one of them, so N actors on any nodes share the load. After a restart an actor reads its own
pending entries first; entries another consumer took and left unacknowledged for
`nlp.check_claim_idle_s` (a dead actor, a pool made smaller) it claims, so nothing is lost, and its
commit applies them only while it still owns them, so nothing is checked twice (store/state.py:
commit_findings). Findings are stored per message, counted per rep and room for the quality figure, and
handed to the notifier as suggestions. A team may choose to sample under load (`nlp.check_sample_under_lag`,
policies/check_sampling.py): an entry older than its `lag_s` has only the kept share of its texts checked,
and the rest acknowledged in the same commit, counted as skipped (stats `staff_skipped`).

Check actors check at the lowest CPU priority (`yield_cpu`): checks tolerate lag, the reply clocks do not,
so on a busy machine the closing actor, which the ingest waits on, and the shards win the CPU.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque

import ray

from sales_assistant.actors import Pingable
from sales_assistant.core.timeutil import day_of
from sales_assistant.models.analysis import load_analyzer, roster_words
from sales_assistant.models.closing import load_closing_detector
from sales_assistant.policies.check_sampling import SampleUnderLag, kept, sampling
from sales_assistant.store.keys import COUNT_SEP, NLP_GROUP, Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_findings, load_roster
from sales_assistant.store.streams import Entry, StreamConsumer
from sales_assistant.store.wire import staff_texts_of

log = logging.getLogger("sales_assistant.nlp")

CHECK_ENTRIES = 4  # stream entries per check batch: each holds one shard batch's staff texts
LAGS_KEPT = 100_000  # (lag, texts) per committed entry, for the benchmark's percentiles
WARM_UP = ["好的，我下午看下", "您好，合同已经发到您的邮箱了"]
# Texts per pass of the closing call: between passes it looks at the ingest's deadline, so a call the ingest
# gave up on stops within one pass instead of taking the CPU from the next batch's call.
CLOSING_PASS = 128


class ClosingLabels(Pingable):
    """Closing labels for the ingest, a batch per call; counts how many reached the model (not the rules)."""

    def __init__(self, closing_model: str, threads: int = 1) -> None:
        self.detector = load_closing_detector(closing_model, threads=threads)
        # One call through the model now, so that the first real batch does not pay its first-call cost
        # (allocations, the tokenizer): the ingest takes the actor's answer to `ping` as "ready" (actors/ingest.py).
        self.detector.scores(WARM_UP)
        self._lock = threading.Lock()
        self.labels = self.reached_model = self.abandoned = 0

    def closing_scores(self, texts: list[str], timeout_s: float | None = None) -> tuple[list[float], float] | None:
        """Each text's closing score, and the threshold at which a score means closing: the ingest keeps
        the score of a doubtful closing label (nlp.closing_confident). `timeout_s`: how long the ingest
        waits; once the call has run that long it returns None at the next pass, as the ingest has labelled
        these texts from the built-in list already (counted as abandoned). Timed from the call's start
        here, not from a wall-clock deadline: the ingest may run on a node whose clock differs."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        explain = getattr(self.detector, "explain", None)
        scores: list[float] = []
        model = 0
        for start in range(0, len(texts), CLOSING_PASS):
            if deadline is not None and time.monotonic() >= deadline:
                with self._lock:
                    self.abandoned += 1
                return None
            part = texts[start:start + CLOSING_PASS]
            if explain is None:  # a detector without rules: every label is the model's
                scores += self.detector.scores(part)
                model += len(part)
            else:
                decided = explain(part)
                scores += [e.score for e in decided]
                model += sum(e.decided_by == "model" for e in decided)
        with self._lock:
            self.labels += len(texts)
            self.reached_model += model
        return scores, self.detector.threshold

    def closing_stats(self) -> dict[str, int]:
        """Labels given since start, how many of them the model decided (the rest: the rules), and the calls
        given up past the ingest's deadline."""
        with self._lock:
            return {"labels": self.labels, "reached_model": self.reached_model, "abandoned": self.abandoned}


class StaffChecks(Pingable):
    """One consumer of the staff-texts stream: typo and phrasing checks, findings committed with the ack."""

    def __init__(self, actor: int, redis_url: str, namespace: str, typo_model: str, lm_path: str | None,
                 domain_words: list[str], tz: str, lang: str, claim_idle_s: float,
                 sample: SampleUnderLag | None = None, run: bool = True) -> None:
        """`actor`: its number in the pool (its consumer name); `sample`: sampling under load, None: every
        text is checked; `run`: check on a thread of its own (the service), else the caller calls `step`
        (tests)."""
        self.r, self.keys, self.tz = connect(redis_url), Keys(namespace), tz
        roster = load_roster(self.r, self.keys)
        self.open_ids = {s.id: s.lark_open_id for s in roster.staff.values() if s.lark_open_id}
        words, names = roster_words(roster)
        # The built-in closing list: staff texts need no closing label, and it costs nothing to load.
        self.analyzer = load_analyzer("keywords", typo_model=typo_model, phrasing=True, lm_path=lm_path,
                                      protected_words=words + domain_words, colleagues=names, lang=lang)
        self.analyzer.analyze(WARM_UP, [True, True])  # torch's first-call cost, before the first batch
        self.consumer = Keys.check_consumer(actor)
        self.stream = StreamConsumer(self.r, self.keys.staff_texts, NLP_GROUP, self.consumer, count=CHECK_ENTRIES)
        self.claim_idle_ms = max(1, int(claim_idle_s * 1000))
        self._next_claim = 0.0  # monotonic time of the next look for entries a dead consumer left
        self.sample = sample
        self.checked = self.skipped = 0
        self.lags: deque[tuple[int, int]] = deque(maxlen=LAGS_KEPT)
        self.thread: threading.Thread | None = None  # the checking thread, when it runs on its own
        if run:
            self.thread = threading.Thread(target=self._run, name="staff-checks", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        """A batch that fails stays pending, to be read again: one text the checks choke on must not
        stop them for good (after a restart, or claimed by another actor)."""
        while True:
            try:
                self.step(block_ms=1000)
            except Exception:  # noqa: BLE001 - a bad batch must not stop the checks for good
                log.exception("staff checks failed; retrying")
                self.stream.rewind()
                time.sleep(1)

    def step(self, block_ms: int | None = None) -> int:
        """One batch: first what another consumer left idle (looked for every half claim period), then
        this consumer's own pending entries, then new ones. Returns the texts checked."""
        batch: list[Entry] = []
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self.claim_idle_ms / 2000
            batch = self.stream.claim(self.claim_idle_ms)
            if batch:
                log.warning("%s took over %d staff-text batches another check actor left unacknowledged",
                            self.consumer, len(batch))
        if not batch:
            batch = self.stream.read(block_ms)
        return self._check(batch) if batch else 0

    def _check(self, batch: list[Entry]) -> int:
        rows_of, skipped_of = {}, {}
        read_ms = int(time.time() * 1000)
        for e in batch:
            written = staff_texts_of(e.data) if e.data else []
            # The entry's age is its texts' lag (the stream id carries the shard's commit time).
            if self.sample is not None and sampling(self.sample, (read_ms - int(e.id.split("-")[0])) / 1000):
                rows_of[e.id] = [row for row in written if kept(row.message_id, self.sample.keep)]
            else:
                rows_of[e.id] = written
            skipped_of[e.id] = len(written) - len(rows_of[e.id])
        rows = [row for e in batch for row in rows_of[e.id]]
        verdicts = iter(self.analyzer.analyze([row.text for row in rows], [True] * len(rows)))
        checked_of = {e.id: [(row, next(verdicts)) for row in rows_of[e.id]] for e in batch}
        ids = [e.id for e in batch]
        while ids:
            pairs = [pair for i in ids for pair in checked_of[i]]
            lost = set(commit_findings(self.r, self.keys, *self._effects(pairs), ids, self.consumer, len(pairs),
                                       sum(skipped_of[i] for i in ids)))
            if not lost:
                break
            log.warning("%s: another check actor claimed %d entries meanwhile; committing the rest", self.consumer,
                        len(lost))
            ids = [i for i in ids if i not in lost]
        now = int(time.time() * 1000)
        self.lags.extend((now - int(i.split("-")[0]), len(rows_of[i])) for i in ids)
        checked = sum(len(rows_of[i]) for i in ids)
        self.checked += checked
        self.skipped += sum(skipped_of[i] for i in ids)
        return checked

    def _effects(self, checked: list) -> tuple[list, dict, list]:
        findings, suggestions = [], []
        quality: dict[tuple[str, str], int] = defaultdict(int)
        for row, v in checked:
            day = day_of(row.ts, self.tz)
            for scope, ident in (("room", row.room_id), ("staff", row.sender_id)):
                quality[(day, COUNT_SEP.join((scope, ident, "checked")))] += 1
                quality[(day, COUNT_SEP.join((scope, ident, "flagged")))] += v.flagged
            if v.flagged:
                item = {"suggestion_id": row.message_id, "message_id": row.message_id, "room_id": row.room_id,
                        "topic": row.topic, "sender_id": row.sender_id, "sender_name": row.sender_name,
                        "owner_id": row.owner_id, "ts": row.ts, "sender_open_id": self.open_ids.get(row.sender_id),
                        **{k: val for k, val in v.to_dict().items() if k not in ("closing", "closing_score")}}
                findings.append((day, row.message_id, item))
                suggestions.append(item)
        return findings, quality, suggestions

    def check_stats(self) -> dict:
        """Texts checked and skipped (sampling) since start, and (lag ms from the staff texts' commit to their
        findings', texts checked)."""
        return {"checked": self.checked, "skipped": self.skipped, "lags": list(self.lags)}


def yield_cpu() -> None:
    """This thread, and the threads it starts from now on, run when nothing more urgent wants the CPU:
    Linux's SCHED_IDLE, elsewhere niceness 19. A niceness step alone does little: Ray starts its workers
    at niceness 15 already (RAY_worker_niceness), and 19 is the floor: under `nice -n 10` every actor, the
    closing one too, sits at 19 already."""
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(19 - os.nice(0))


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=4)
class NlpActor(ClosingLabels):
    """Restarted by Ray after a crash. Its closing calls are not retried: the ingest falls back."""


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=2)
class CheckActor(StaffChecks):
    """One of `nlp.check_actors`; restarted by Ray after a crash, it reads its own pending entries first."""

    def __init__(self, *args, **kwargs) -> None:
        yield_cpu()  # before its checking thread starts, which inherits it
        super().__init__(*args, **kwargs)

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()
