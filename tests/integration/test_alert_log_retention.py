"""The alert log keeps `alert_log_days`: older alerts that every sink has acknowledged are trimmed, and an
alert some sink has not taken or not acknowledged stays, however old. Real embedded Redis."""
from __future__ import annotations

import time

import orjson
import pytest

from sales_assistant.actors.jobs import RETENTION_EVERY_MS, AlertLogRetention
from sales_assistant.actors.notifier import Notification, SinkSpec
from sales_assistant.policies.deadlines import Alert
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import trim_alert_log
from sales_assistant.store.streams import ensure_group
from tests.support.polling import wait_for

TZ = "Asia/Shanghai"  # the service's `timezone` in these tests

pytestmark = pytest.mark.integration
DAY = 86_400_000
NOW = 400 * DAY


@pytest.fixture
def log(redis_dir, namespace):
    r, keys = connect(redis_dir[1]), Keys(namespace)
    for n, age in enumerate((300, 200, 120, 91, 89, 1)):  # days before NOW
        r.xadd(keys.alerts, {"d": alert(str(n))}, id=f"{NOW - age * DAY}-0")
    return r, keys, redis_dir[1]


def alert(n: str) -> bytes:
    """An alert as the supervisor writes it."""
    return orjson.dumps(Alert(f"R{n}", f"m{n}", 0, "green", 5, ("private",), "s1", "pre_sales", "群", NOW, NOW,
                              "王女士", "在吗？").to_dict())


def ids(r, keys: Keys) -> list[int]:
    return [int(sid.split("-")[0]) for sid, _ in r.xrange(keys.alerts)]


def test_only_what_every_sink_acknowledged_and_is_older_than_the_retention_goes(log):
    r, keys, _ = log
    ensure_group(r, keys.alerts, "caught-up")
    ensure_group(r, keys.alerts, "behind")
    taken = r.xreadgroup("caught-up", "c", {keys.alerts: ">"})[0][1]
    r.xack(keys.alerts, "caught-up", *[sid for sid, _ in taken])
    behind = r.xreadgroup("behind", "c", {keys.alerts: ">"}, count=3)[0][1]  # took three, acknowledged two
    r.xack(keys.alerts, "behind", behind[0][0], behind[1][0])
    assert trim_alert_log(r, keys, NOW, 90) == 2  # the 300 and 200 days old; the third waits for "behind"
    assert ids(r, keys)[0] == NOW - 120 * DAY
    r.xack(keys.alerts, "behind", behind[2][0])
    assert trim_alert_log(r, keys, NOW, 90) == 1  # the 120 days old one; "behind" has not taken the 91 days old
    r.xreadgroup("behind", "c", {keys.alerts: ">"}, count=1)
    assert trim_alert_log(r, keys, NOW, 90) == 0 and ids(r, keys)[0] == NOW - 91 * DAY  # taken, not acknowledged
    r.xack(keys.alerts, "behind", *[sid for sid, _ in r.xrange(keys.alerts)][:1])
    assert trim_alert_log(r, keys, NOW, 90) == 1 and ids(r, keys) == [NOW - 89 * DAY, NOW - DAY]


def test_without_a_sink_group_the_retention_alone_decides_and_an_empty_log_is_fine(log, namespace):
    r, keys, _ = log
    assert trim_alert_log(r, keys, NOW, 90) == 4 and len(ids(r, keys)) == 2
    assert trim_alert_log(r, Keys(namespace + "-empty"), NOW, 90) == 0


def test_the_notifier_trims_on_its_own_clock_once_every_ten_minutes(log):
    r, keys, url = log
    job = AlertLogRetention(r, keys, 90, every_ms=2 * DAY)
    assert job.tick(NOW - 111 * DAY) == 1  # the 300 days old one
    assert job.tick(NOW - 109 * DAY - DAY // 2) == 0  # the 200 days old one is due, but it is too soon
    assert job.tick(NOW - 109 * DAY) == 1 and len(ids(r, keys)) == 4
    r.delete(keys.alerts)
    r.xadd(keys.alerts, {"d": alert("old")}, id=f"{NOW - 100 * DAY}-0")
    r.xadd(keys.alerts, {"d": alert("new")}, id=f"{NOW - DAY}-0")
    started = time.monotonic()
    ten_minutes_a_second = lambda: NOW + int((time.monotonic() - started) * RETENTION_EVERY_MS)  # noqa: E731
    notifier = Notification(url, keys.ns, [SinkSpec("null", tz=TZ)], now=ten_minutes_a_second, alert_log_days=90)
    try:  # the null sink takes and acknowledges both; then the job trims the old one
        assert wait_for(lambda: ids(r, keys) == [NOW - DAY], 10), (ids(r, keys), notifier.failing, r.xinfo_groups(keys.alerts))
    finally:
        notifier.close()


def test_the_retention_is_a_setting_and_a_bad_one_is_named(monkeypatch):
    from sales_assistant.config.settings import ConfigError, load_settings

    assert load_settings().alert_log_days == 90
    monkeypatch.setenv("SA_ALERT_LOG_DAYS", "0")
    with pytest.raises(ConfigError, match="alert_log_days"):
        load_settings()
