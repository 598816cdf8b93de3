"""The NLP actor: closing labels for what customers write (asked by the ingest, in batches), and
typo and phrasing checks for what staff write (read from the staff-texts stream at its own pace).

The ingest never waits on it for long: if it fails or falls behind, the clocks keep running on
the built-in closing list (see actors/ingest.py). Staff findings are stored per message, counted
per rep and room for the quality figure, and handed to the notifier as suggestions.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict

import orjson
import ray

from core.timeutil import day_of
from models.analysis import load_analyzer
from store.keys import COUNT_SEP, Keys
from store.redis import connect
from store.state import NLP_GROUP, commit_findings, ensure_group, load_roster

log = logging.getLogger("sales_assistant.nlp")

CONSUMER = "nlp-0"


class LanguageChecks:
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
        self.checked = 0
        if check_staff:
            ensure_group(self.r, self.keys.staff_texts, NLP_GROUP)
            threading.Thread(target=self._run, name="staff-checks", daemon=True).start()

    def closing(self, texts: list[str]) -> list[bool]:
        return [v.closing for v in self.analyzer.analyze(texts, [False] * len(texts))]

    def _run(self) -> None:
        cursor = "0"  # first what was taken but never acknowledged, then new texts
        while True:
            try:
                reply = self.r.xreadgroup(NLP_GROUP, CONSUMER, {self.keys.staff_texts: cursor}, count=20,
                                          block=None if cursor == "0" else 1000)
                rows = [(sid, f) for _, entries in (reply or []) for sid, f in entries]
                if cursor == "0" and not rows:
                    cursor = ">"
                if rows:
                    self._check([sid for sid, _ in rows], [row for _, f in rows if f for row in orjson.loads(f["d"])])
            except Exception:  # noqa: BLE001 - a bad batch must not stop the checks for good
                log.exception("staff checks failed; retrying")
                time.sleep(1)

    def _check(self, stream_ids: list[str], rows: list[list]) -> None:
        verdicts = self.analyzer.analyze([row[6] for row in rows], [True] * len(rows))
        findings, suggestions = [], []
        quality: dict[tuple[str, str], int] = defaultdict(int)
        for (mid, room_id, sender_id, sender_name, owner_id, topic, _text, ts), v in zip(rows, verdicts, strict=True):
            day = day_of(ts, self.tz)
            for scope, ident in (("room", room_id), ("staff", sender_id)):
                quality[(day, COUNT_SEP.join((scope, ident, "checked")))] += 1
                quality[(day, COUNT_SEP.join((scope, ident, "flagged")))] += v.flagged
            if v.flagged:
                item = {"suggestion_id": mid, "message_id": mid, "room_id": room_id, "topic": topic,
                        "sender_id": sender_id, "sender_name": sender_name, "owner_id": owner_id, "ts": ts,
                        "sender_open_id": self.open_ids.get(sender_id),
                        **{k: val for k, val in v.to_dict().items() if k not in ("closing", "closing_score")}}
                findings.append((day, mid, item))
                suggestions.append(item)
        commit_findings(self.r, self.keys, findings, quality, suggestions, stream_ids)
        self.checked += len(rows)

    def ping(self) -> int:
        return os.getpid()


@ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=4)
class NlpActor(LanguageChecks):
    """Restarted by Ray after a crash. Its closing calls are not retried: the ingest falls back."""
