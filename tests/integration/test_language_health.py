"""How the language checks keep up, where people see it: /api/health, the dashboard's banners, doctor;
the facts behind them (store/language_health.py) on a real Redis, and the settings that bound them."""
from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.cli.doctor import check_language_health
from sales_assistant.config.settings import ConfigError, load_settings
from sales_assistant.policies.access import UserRole
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import NLP_GROUP, Keys
from sales_assistant.store.language_health import check_backlog, fallbacks, mark_service_start, record_fallbacks
from sales_assistant.store.redis import connect
from sales_assistant.store.streams import ensure_group
from sales_assistant.store.users import Accounts
from sales_assistant.store.wire import StaffTextRow, encode
from sales_assistant.web.app import create_app

pytestmark = pytest.mark.integration
MINUTE = 60_000


def staff_text_at(r, keys: Keys, ms: int, texts: int = 2) -> str:
    """A shard's commit of `texts` staff texts, as if made at `ms` (the stream id carries the time)."""
    rows = [StaffTextRow(f"m{ms}-{i}", "R1", "s1", None, None, None, "好的", ms) for i in range(texts)]
    r.hincrby(keys.stats, "staff_texts", texts)
    return r.xadd(keys.staff_texts, {"d": encode(rows)}, id=f"{ms}-0")


def test_fallbacks_count_since_start_and_per_minute_over_five_minutes(redis_dir, namespace):
    r, keys, now = connect(redis_dir[1]), Keys(namespace), 1_795_136_400_000
    record_fallbacks(r, keys, 3, now - 60 * MINUTE)  # before this start, and outside the window
    mark_service_start(r, keys, now - 10 * MINUTE)
    record_fallbacks(r, keys, 4, now - 6 * MINUTE)  # since start, outside the window
    record_fallbacks(r, keys, 6, now - 4 * MINUTE)
    record_fallbacks(r, keys, 4, now)
    got = fallbacks(r, keys, now)
    assert (got.total, got.since_start, got.per_min) == (17, 14, 2.0)


def test_the_check_backlog_counts_unchecked_texts_and_the_oldest_ones_age(redis_dir, namespace):
    r, keys, now = connect(redis_dir[1]), Keys(namespace), 1_795_136_400_000
    assert check_backlog(r, keys, now).oldest_age_s is None
    first = staff_text_at(r, keys, now - 90_000, texts=3)
    staff_text_at(r, keys, now - 30_000)
    backlog = check_backlog(r, keys, now)
    assert (backlog.texts, backlog.entries, backlog.oldest_age_s) == (5, 2, 90.0)
    ensure_group(r, keys.staff_texts, NLP_GROUP)
    r.xreadgroup(NLP_GROUP, "check-0", {keys.staff_texts: ">"}, count=1)  # taken, not yet checked: still waits
    assert check_backlog(r, keys, now).oldest_age_s == 90.0
    r.xack(keys.staff_texts, NLP_GROUP, first)
    r.hincrby(keys.stats, "staff_checked", 3)
    backlog = check_backlog(r, keys, now)
    assert (backlog.texts, backlog.entries, backlog.oldest_age_s) == (2, 1, 30.0)


@pytest.fixture
def client(redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace,
                         nlp={"check_lag_warn_s": 60, "fallback_warn_per_min": 1, "check_actors": 3})
    inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
    Accounts(inbox.r, inbox.keys).create("boss", "boss-password", UserRole.MANAGER)
    with TestClient(create_app(build_services(config, inbox))) as c:
        c.r, c.keys = inbox.r, inbox.keys
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)[1]
        assert c.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf},
                      follow_redirects=False).status_code == 303
        yield c


def test_health_and_dashboard_say_when_the_checks_fall_behind(client):
    now = int(time.time() * 1000)
    staff_text_at(client.r, client.keys, now - 30_000)
    checks = client.get("/api/health").json()["checks"]
    assert checks["state"] == "ok" and checks["backlog"] == 2 and checks["actors"] == 3
    assert 30 <= checks["oldest_age_s"] < 60 and checks["warn_after_s"] == 60
    assert 'id="checks-behind"' not in client.get("/").text

    client.r.delete(client.keys.staff_texts)
    staff_text_at(client.r, client.keys, now - 300_000, texts=5)  # older than nlp.check_lag_warn_s
    checks = client.get("/api/health").json()["checks"]
    assert checks["state"] == "behind" and checks["backlog"] == 7 and checks["oldest_age_s"] >= 300
    page = client.get("/").text
    assert 'id="checks-behind"' in page and "员工用语检查落后" in page
    assert "Staff language checks are behind" in client.get("/?lang=en").text


def test_health_and_dashboard_say_when_closing_labels_fall_back(client):
    mark_service_start(client.r, client.keys, int(time.time() * 1000))
    record_fallbacks(client.r, client.keys, 5, int(time.time() * 1000))  # 1 a minute over 5: not above the setting
    got = client.get("/api/health").json()["nlp_fallback"]
    assert got == {"state": "ok", "total": 5, "since_start": 5, "per_min": 1.0, "warn_per_min": 1.0}
    assert 'id="nlp-fallback-high"' not in client.get("/").text

    record_fallbacks(client.r, client.keys, 1, int(time.time() * 1000))
    got = client.get("/api/health").json()["nlp_fallback"]
    assert (got["state"], got["since_start"], got["per_min"]) == ("high", 6, 1.2)
    page = client.get("/").text
    assert 'id="nlp-fallback-high"' in page and "结束语模型未能及时作答" in page
    # Only people who are logged in see it.
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1]})
    assert 'id="nlp-fallback-high"' not in client.get("/login").text


def test_doctor_shows_the_fallbacks_since_start_and_warns_past_the_rate(redis_dir, namespace, monkeypatch):
    data, url = redis_dir
    r, keys = connect(url), Keys(namespace)
    settings = load_settings(data_dir=data, redis_url=url, namespace=namespace, nlp={"fallback_warn_per_min": 1})
    record_fallbacks(r, keys, 2, int(time.time() * 1000) - 30 * MINUTE)
    mark_service_start(r, keys, int(time.time() * 1000))
    check = check_language_health(settings)
    assert check.status == "ok" and "since start: 0 (all time 2)" in check.en and "启动以来" in check.zh
    record_fallbacks(r, keys, 40, int(time.time() * 1000))
    check = check_language_health(settings)
    assert check.status == "warn" and "since start: 40 (all time 42), 8.0 per minute" in check.en
    assert check.fix_en


@pytest.mark.parametrize(("field", "value"), [("check_actors", 0), ("check_lag_warn_s", 0),
                                              ("check_claim_idle_s", -1), ("fallback_warn_per_min", -1)])
def test_bad_language_check_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=f"nlp.{field}"):
        load_settings(nlp={field: value})
