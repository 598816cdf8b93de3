"""The NLP actor: closing labels for what customers write (asked by the ingest, in batches), and
typo and phrasing checks for what staff write (read from the staff-texts stream at its own pace).

The models load (and run once) in the constructor, so an answer to `ping` means ready: the ingest
waits for it before its first batch, and afterwards never waits long: if the actor fails or falls
behind, the clocks keep running on the built-in closing list, counted as a fallback (actors/ingest.py).
Staff findings are stored per message, counted per rep and room for the quality figure, and handed
to the notifier as suggestions.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

import ray

from sales_assistant.actors import Pingable
from sales_assistant.core.timeutil import day_of
from sales_assistant.models.analysis import load_analyzer
from sales_assistant.store.keys import COUNT_SEP, NLP_GROUP, Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_findings, load_roster
from sales_assistant.store.streams import StreamConsumer
from sales_assistant.store.wire import staff_texts_of

log = logging.getLogger("sales_assistant.nlp")

CONSUMER = "nlp-0"


class LanguageChecks(Pingable):
    def __init__(self, redis_url: str, namespace: str, closing_model: str, typo_model: str | None,
                 lm_path: str | None, domain_words: list[str], tz: str, lang: str) -> None:
        """`typo_model` None: no staff checks, closing labels only."""
        check_staff = typo_model is not None
        self.r, self.keys, self.tz = connect(redis_url), Keys(namespace), tz
        roster = load_roster(self.r, self.keys)
        self.open_ids = {s.id: s.lark_open_id for s in roster.staff.values() if s.lark_open_id}
        names = [s.name for s in roster.staff.values()] + [r.topic for r in roster.rooms.values() if r.topic]
        self.analyzer = load_analyzer(closing_model, typo_model=typo_model,
                                      phrasing=check_staff, lm_path=lm_path, protected_words=names + domain_words,
                                      lang=lang)
        # One call through every model now, so that the first real batch does not pay torch's first-call
        # cost: the ingest takes the actor's answer to `ping` as "ready" (actors/ingest.py).
        self.analyzer.analyze(["好的，我下午看下", "您好，合同已经发到您的邮箱了"], [False, check_staff])
        self.checked = 0
        if check_staff:
            self.staff_texts = StreamConsumer(self.r, self.keys.staff_texts, NLP_GROUP, CONSUMER, count=20)
            threading.Thread(target=self._run, name="staff-checks", daemon=True).start()

    def closing(self, texts: list[str]) -> list[bool]:
        return [v.closing for v in self.analyzer.analyze(texts, [False] * len(texts))]

    def _run(self) -> None:
        """First what it took but never acknowledged, then new texts. A batch that fails stays pending
        until the actor restarts: one text the checks choke on must not stop them for good."""
        while True:
            try:
                if batch := self.staff_texts.read(block_ms=1000):
                    self._check([e.id for e in batch], [row for e in batch if e.data for row in e.data])
            except Exception:  # noqa: BLE001 - a bad batch must not stop the checks for good
                log.exception("staff checks failed; retrying")
                time.sleep(1)

    def _check(self, stream_ids: list[str], data: list[list]) -> None:
        rows = staff_texts_of(data)
        verdicts = self.analyzer.analyze([row.text for row in rows], [True] * len(rows))
        findings, suggestions = [], []
        quality: dict[tuple[str, str], int] = defaultdict(int)
        for row, v in zip(rows, verdicts, strict=True):
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
        commit_findings(self.r, self.keys, findings, quality, suggestions, stream_ids)
        self.checked += len(rows)


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=4)
class NlpActor(LanguageChecks):
    """Restarted by Ray after a crash. Its closing calls are not retried: the ingest falls back."""
