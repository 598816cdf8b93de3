"""Sampling the staff checks under load: a team's choice (`nlp.check_sample_under_lag`), off by default.

When the staff checks fall behind by more than `lag_s`, the check actors check only a share (`keep`) of
the staff texts and acknowledge the rest as skipped (stats `staff_skipped`, shown by /api/health, the
dashboard's check-backlog banner and `doctor`): nothing is dropped silently. Which texts are kept
depends on the message id alone, so a replay, a restart or another check actor keeps the same ones.
Pure: the lag comes from the caller (actors/nlp.py: the age of the stream entry it reads; web: the
oldest unchecked text).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

BUCKETS = 10_000  # the share kept is resolved to 1/BUCKETS


@dataclass(frozen=True)
class SampleUnderLag:
    """Past `lag_s` seconds of lag, check only the share `keep` (0 < keep <= 1) of the staff texts."""

    lag_s: float
    keep: float  # bounds checked where the setting is read (config/settings.py)


def sampling(rule: SampleUnderLag | None, lag_s: float | None) -> bool:
    """Is sampling on at this lag? Never without the setting, never when nothing waits."""
    return rule is not None and lag_s is not None and lag_s > rule.lag_s


def kept(message_id: str, keep: float) -> bool:
    """Is this staff text among the share checked while sampling? The same answer for the same id in
    every process and run (a stable hash, not Python's salted `hash`)."""
    bucket = int.from_bytes(hashlib.blake2b(message_id.encode(), digest_size=8).digest(), "big") % BUCKETS
    return bucket < round(keep * BUCKETS)
