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
handed to the notifier as suggestions.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque

import ray

from sales_assistant.actors import Pingable
from sales_assistant.core.timeutil import day_of
from sales_assistant.models.analysis import load_analyzer, roster_words
from sales_assistant.models.closing import load_closing_detector
from sales_assistant.store.keys import COUNT_SEP, NLP_GROUP, Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_findings, load_roster
from sales_assistant.store.streams import Entry, StreamConsumer
from sales_assistant.store.wire import staff_texts_of

log = logging.getLogger("sales_assistant.nlp")

CHECK_ENTRIES = 4  # stream entries per check batch: each holds one shard batch's staff texts
LAGS_KEPT = 100_000  # (lag, texts) per committed entry, for the benchmark's percentiles
WARM_UP = ["好的，我下午看下", "您好，合同已经发到您的邮箱了"]


class ClosingLabels(Pingable):
    """Closing labels for the ingest, a batch per call; counts how many reached the model (not the rules)."""

    def __init__(self, closing_model: str, threads: int = 1) -> None:
        self.detector = load_closing_detector(closing_model, threads=threads)
        # One call through the model now, so that the first real batch does not pay torch's first-call
        # cost: the ingest takes the actor's answer to `ping` as "ready" (actors/ingest.py).
        self.detector.scores(WARM_UP)
        self._lock = threading.Lock()
        self.labels = self.reached_model = 0

    def closing_scores(self, texts: list[str]) -> tuple[list[float], float]:
        """Each text's closing score, and the threshold at which a score means closing: the ingest keeps
        the score of a doubtful closing label (nlp.closing_confident)."""
        explain = getattr(self.detector, "explain", None)
        if explain is None:  # a detector without rules: every label is the model's
            scores, model = self.detector.scores(texts), len(texts)
        else:
            decided = explain(texts)
            scores, model = [e.score for e in decided], sum(e.decided_by == "model" for e in decided)
        with self._lock:
            self.labels += len(texts)
            self.reached_model += model
        return scores, self.detector.threshold

    def closing_stats(self) -> dict[str, int]:
        """Labels given since start, and how many of them the model decided (the rest: the rules)."""
        with self._lock:
            return {"labels": self.labels, "reached_model": self.reached_model}


class StaffChecks(Pingable):
    """One consumer of the staff-texts stream: typo and phrasing checks, findings committed with the ack."""

    def __init__(self, actor: int, redis_url: str, namespace: str, typo_model: str, lm_path: str | None,
                 domain_words: list[str], tz: str, lang: str, claim_idle_s: float, run: bool = True) -> None:
        """`actor`: its number in the pool (its consumer name); `run`: check on a thread of its own (the
        service), else the caller calls `step` (tests)."""
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
        self.checked = 0
        self.lags: deque[tuple[int, int]] = deque(maxlen=LAGS_KEPT)
        if run:
            threading.Thread(target=self._run, name="staff-checks", daemon=True).start()

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
        rows_of = {e.id: staff_texts_of(e.data) if e.data else [] for e in batch}
        rows = [row for e in batch for row in rows_of[e.id]]
        verdicts = iter(self.analyzer.analyze([row.text for row in rows], [True] * len(rows)))
        checked_of = {e.id: [(row, next(verdicts)) for row in rows_of[e.id]] for e in batch}
        ids = [e.id for e in batch]
        while ids:
            kept = [pair for i in ids for pair in checked_of[i]]
            lost = set(commit_findings(self.r, self.keys, *self._effects(kept), ids, self.consumer, len(kept)))
            if not lost:
                break
            log.warning("%s: another check actor claimed %d entries meanwhile; committing the rest", self.consumer,
                        len(lost))
            ids = [i for i in ids if i not in lost]
        now = int(time.time() * 1000)
        self.lags.extend((now - int(i.split("-")[0]), len(rows_of[i])) for i in ids)
        checked = sum(len(rows_of[i]) for i in ids)
        self.checked += checked
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
        """Texts checked since start, and (lag ms from the staff texts' commit to their findings', texts)."""
        return {"checked": self.checked, "lags": list(self.lags)}


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=4)
class NlpActor(ClosingLabels):
    """Restarted by Ray after a crash. Its closing calls are not retried: the ingest falls back."""


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=2)
class CheckActor(StaffChecks):
    """One of `nlp.check_actors`; restarted by Ray after a crash, it reads its own pending entries first."""

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()
