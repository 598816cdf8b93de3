"""The facts behind "are the language checks keeping up?" (policies/language_health.py judges them).

- Closing labels that fell back to the built-in list: counted by the ingest (`record_fallbacks`) in the
  stats hash (`nlp_fallback`, since the data began) and per minute (expiring counters, for the rate);
  the service's start (`mark_service_start`, by actors/pipeline.py) keeps the total it found, so the
  count since start is the difference.
- The staff-check backlog: texts the shards handed to the checks (stats `staff_texts`) minus those
  checked (stats `staff_checked`, in the check actors' commit) and those sampling skipped (`staff_skipped`,
  in the same commit), and the age of the oldest stream entry the `nlp` group has not acknowledged.
"""
from __future__ import annotations

import redis

from sales_assistant.policies.language_health import FALLBACK_WINDOW_MIN, CheckBacklog, Fallbacks, fallback_rate
from sales_assistant.store.keys import NLP_GROUP, Keys
from sales_assistant.store.streams import backlog_of, oldest_unacknowledged

MINUTE_MS = 60_000


def record_fallbacks(r: redis.Redis, keys: Keys, n: int, now_ms: int) -> None:
    """`n` closing labels came from the built-in list at `now_ms`."""
    minute = keys.nlp_fallbacks(now_ms // MINUTE_MS)
    pipe = r.pipeline(transaction=False)
    pipe.hincrby(keys.stats, "nlp_fallback", n)
    pipe.incrby(minute, n)
    pipe.expire(minute, (FALLBACK_WINDOW_MIN + 1) * 60)
    pipe.execute()


def mark_service_start(r: redis.Redis, keys: Keys, now_ms: int) -> None:
    """The service starts: fallbacks from here on count as `since_start`."""
    total = int(r.hget(keys.stats, "nlp_fallback") or 0)
    r.hset(keys.nlp_state, mapping={"started": now_ms, "fallback_at_start": total})


def fallbacks(r: redis.Redis, keys: Keys, now_ms: int) -> Fallbacks:
    minute = now_ms // MINUTE_MS
    pipe = r.pipeline(transaction=False)
    pipe.hget(keys.stats, "nlp_fallback")
    pipe.hget(keys.nlp_state, "fallback_at_start")
    pipe.mget([keys.nlp_fallbacks(m) for m in range(minute - FALLBACK_WINDOW_MIN + 1, minute + 1)])
    total, at_start, recent = pipe.execute()
    total = int(total or 0)
    return Fallbacks(total, total - int(at_start or 0), fallback_rate([int(n or 0) for n in recent]))


def check_backlog(r: redis.Redis, keys: Keys, now_ms: int) -> CheckBacklog:
    written, checked, skipped = r.hmget(keys.stats, ["staff_texts", "staff_checked", "staff_skipped"])
    oldest = oldest_unacknowledged(r, keys.staff_texts, NLP_GROUP)
    # Before any check actor has made the group, every entry of the stream waits.
    grouped = r.exists(keys.staff_texts) and any(g["name"] == NLP_GROUP for g in r.xinfo_groups(keys.staff_texts))
    entries = backlog_of(r, keys.staff_texts, NLP_GROUP) if grouped else r.xlen(keys.staff_texts)
    skipped = int(skipped or 0)
    return CheckBacklog(max(0, int(written or 0) - int(checked or 0) - skipped), entries,
                        None if oldest is None else max(0.0, (now_ms - oldest) / 1000), skipped)
