"""How the language checks keep up, as `/api/health` and the dashboard's banners show it: the staff-check
backlog (texts, age of the oldest) and the closing labels that fell back to the built-in list.

Facts from store/language_health.py, judged by policies/language_health.py against the settings
(`nlp.check_lag_warn_s`, `nlp.fallback_warn_per_min`); wall time, as the stream ids are.
"""
from __future__ import annotations

import time

from sales_assistant.policies.check_sampling import sampling
from sales_assistant.policies.language_health import checks_behind, fallback_rate_high
from sales_assistant.store.language_health import check_backlog, fallbacks


def checks_health(services) -> dict:
    """state: off (no staff checks) | ok | behind (the oldest unchecked text is older than the setting).
    `skipped`: texts acknowledged unchecked by sampling; `sampling`: None unless the team chose to sample
    under load (`nlp.check_sample_under_lag`), else its setting and whether the lag has turned it on."""
    nlp = services.settings.nlp
    backlog = check_backlog(services.inbox.r, services.keys, int(time.time() * 1000))
    state = "off" if not nlp.check_staff else "behind" if checks_behind(backlog, nlp.check_lag_warn_s) else "ok"
    sample = nlp.check_sample_under_lag if nlp.check_staff else None
    return {"state": state, "actors": nlp.check_actors if nlp.check_staff else 0, "backlog": backlog.texts,
            "backlog_entries": backlog.entries,
            "oldest_age_s": None if backlog.oldest_age_s is None else round(backlog.oldest_age_s, 1),
            "warn_after_s": nlp.check_lag_warn_s, "skipped": backlog.skipped,
            "sampling": None if sample is None else {
                "lag_s": sample.lag_s, "keep": sample.keep,
                "on": sampling(sample.to_policy(), backlog.oldest_age_s)}}


def fallback_health(services) -> dict:
    """state: ok | high (more labels per minute fell back than the setting allows)."""
    nlp = services.settings.nlp
    got = fallbacks(services.inbox.r, services.keys, int(time.time() * 1000))
    return {"state": "high" if fallback_rate_high(got, nlp.fallback_warn_per_min) else "ok", "total": got.total,
            "since_start": got.since_start, "per_min": round(got.per_min, 2), "warn_per_min": nlp.fallback_warn_per_min}


def banners(services) -> dict:
    """The dashboard's warnings about the language checks: None where all is well."""
    checks, fallback = checks_health(services), fallback_health(services)
    sampling_on = checks["sampling"] is not None and checks["sampling"]["on"]
    return {"checks_behind": checks if checks["state"] == "behind" or sampling_on else None,
            "nlp_fallback_high": fallback if fallback["state"] == "high" else None}
