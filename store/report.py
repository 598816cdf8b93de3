"""The period report (application/report.py) read from Redis, for the callers that hold a connection:
the daily leaderboard card, the CLI's report file and the pipeline's report."""
from __future__ import annotations

from datetime import date

import redis

from sales_assistant.application.report import build_report as _build_report
from sales_assistant.policies.escalation import Policy
from sales_assistant.store.keys import Keys
from sales_assistant.store.repository import RedisRepository


def build_report(r: redis.Redis, keys: Keys, first: date, last: date, tz: str,
                 threshold_minutes: float, now_ms: int | None = None, owner: str | None = None,
                 policy: Policy | None = None) -> dict:
    """`policy`: which stages count business time, for their business reply times (None: wall time only)."""
    return _build_report(RedisRepository(r, keys), first, last, tz, threshold_minutes, now_ms, owner, policy)
