"""Are the language checks keeping up? The rules behind `/api/health`'s "checks" and "nlp_fallback"
parts, the dashboard's banners and `doctor`.

Two things can go wrong without anything failing loudly: the staff checks fall behind (their stream's
oldest unchecked text grows old), and closing labels fall back to the built-in list (the NLP actor is
slow or gone). Neither may pass silently: past a setting, each is named. Pure: the facts come from
store/language_health.py, the limits from the settings (`nlp.check_lag_warn_s`, `nlp.fallback_warn_per_min`).
"""
from __future__ import annotations

from dataclasses import dataclass

FALLBACK_WINDOW_MIN = 5  # the fallback rate is an average over this many minutes, the current one included


@dataclass(frozen=True)
class CheckBacklog:
    """Staff texts written for the checks and not yet checked, and how long the oldest has waited."""

    texts: int
    entries: int  # stream entries (one per shard batch) not acknowledged
    oldest_age_s: float | None  # None: nothing waits
    skipped: int = 0  # texts acknowledged unchecked while sampling (nlp.check_sample_under_lag), since the data began


@dataclass(frozen=True)
class Fallbacks:
    """Closing labels that fell back to the built-in list."""

    total: int  # since the data began
    since_start: int  # since the service started
    per_min: float  # over the last FALLBACK_WINDOW_MIN minutes


def checks_behind(backlog: CheckBacklog, warn_s: float) -> bool:
    """The oldest unchecked staff text has waited longer than `warn_s`."""
    return backlog.oldest_age_s is not None and backlog.oldest_age_s > warn_s


def fallback_rate_high(fallbacks: Fallbacks, warn_per_min: float) -> bool:
    return fallbacks.per_min > warn_per_min


def fallback_rate(per_minute_counts: list[int]) -> float:
    """Labels per minute over the window, from its per-minute counts (missing minutes count as none)."""
    return sum(per_minute_counts) / FALLBACK_WINDOW_MIN
