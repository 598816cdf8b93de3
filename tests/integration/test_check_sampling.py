"""Sampling the staff checks under load (`nlp.check_sample_under_lag`): past the lag, check actors check only
the kept share of the staff texts, acknowledge every entry once, count the rest as skipped, and /api/health,
the dashboard and doctor say so. Off, every text is checked however old.

The check actors' logic (actors/nlp.py: StaffChecks) runs in-process, stepped by the test, on a real Redis,
as in test_check_pool.py; the lag is forced by writing entries whose stream ids are minutes old."""
from __future__ import annotations

import re
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from sales_assistant.actors.nlp import StaffChecks
from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.cli.doctor import check_language_health
from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.policies.access import UserRole
from sales_assistant.policies.check_sampling import SampleUnderLag, kept
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import NLP_GROUP, Keys
from sales_assistant.store.language_health import check_backlog
from sales_assistant.store.redis import connect
from sales_assistant.store.state import load_findings, load_quality
from sales_assistant.store.streams import caught_up
from sales_assistant.store.users import Accounts
from sales_assistant.store.wire import StaffTextRow, encode
from sales_assistant.web.app import create_app
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration
T = 1_795_136_400_000  # 2026-11-20 in Asia/Shanghai: the texts' own time
DAY = str(date(2026, 11, 20))
CORPUS = ["您好，合同已经发到您的邮箱了，请查收。", "我们的产品支持企业微信和个人微信同时接入。", "价格方面我们可以按年付给您优惠。",
          "这个问题我确认一下，稍后回复您。", "账号已经开通好了，登录方式发在群里了。"] * 20
TEXTS = ["您好，合同已经发到您的邮箱了", "不知道", "账号已经开通好了", "好的，我确认一下"]  # "不知道" is flagged
RULE = SampleUnderLag(lag_s=60, keep=0.25)


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return build_lm_from_texts(CORPUS, tmp_path_factory.mktemp("lm") / "tiny.arpa", order=3)


def checks(url: str, keys: Keys, lm, actor: int, sample: SampleUnderLag | None) -> StaffChecks:
    return StaffChecks(actor, url, keys.ns, "ngram", str(lm), [], "Asia/Shanghai", "zh", 120.0, sample, run=False)


def write(r, keys: Keys, first: int, batches: int, at_ms: int | None) -> list[str]:
    """`batches` shard commits of the staff texts, as the shards write them (stats staff_texts and the
    stream), with stream ids `at_ms` (minutes old: a forced lag) or now (None); their message ids."""
    ids = []
    for b in range(first, first + batches):
        rows = [StaffTextRow(f"om_{b:03d}_{i}", f"R{b}", "s1", "董森", "s1", None, text, T + b * 1000 + i)
                for i, text in enumerate(TEXTS)]
        r.hincrby(keys.stats, "staff_texts", len(rows))
        r.xadd(keys.staff_texts, {"d": encode(rows)}, id=f"{at_ms + b}-0" if at_ms is not None else "*")
        ids += [row.message_id for row in rows]
    return ids


def drain(r, keys: Keys, *actors: StaffChecks) -> None:
    assert wait_for(lambda: ([a.step() for a in actors], caught_up(r, keys.staff_texts, NLP_GROUP))[1], timeout_s=120)


def test_past_the_lag_only_the_kept_share_is_checked_and_every_entry_is_acknowledged_once(redis_dir, namespace, lm):
    url, r, keys = redis_dir[1], connect(redis_dir[1]), Keys(namespace)
    now = int(time.time() * 1000)
    old = write(r, keys, 0, 40, now - 300_000)  # waited 5 minutes: past lag_s
    fresh = write(r, keys, 40, 5, None)  # just written: checked in full
    a, b = checks(url, keys, lm, 0, RULE), checks(url, keys, lm, 1, RULE)
    drain(r, keys, a, b)

    expected_kept = [i for i in old if kept(i, RULE.keep)] + fresh
    skipped = len(old) + len(fresh) - len(expected_kept)
    assert 0 < skipped < len(old)
    assert (a.checked + b.checked, a.skipped + b.skipped) == (len(expected_kept), skipped)
    # Counted once each, in the commit that acknowledged their entry: checked + skipped = written.
    stats = r.hgetall(keys.stats)
    assert (int(stats["staff_checked"]), int(stats["staff_skipped"])) == (len(expected_kept), skipped)
    assert int(stats["staff_texts"]) == len(expected_kept) + skipped
    assert r.xpending(keys.staff_texts, NLP_GROUP)["pending"] == 0
    assert check_backlog(r, keys, now).texts == 0
    # Findings and the quality figure cover exactly the texts checked: the same ones on any replay.
    assert load_quality(r, keys, [DAY])[("staff", "s1", "checked")] == len(expected_kept)
    curt = sorted(i for i in expected_kept if i.endswith("_1"))
    assert curt and sorted(f["message_id"] for f in load_findings(r, keys, [DAY])) == curt
    assert r.xlen(keys.suggestions) == len(curt)


def test_without_the_setting_every_text_is_checked_however_old(redis_dir, namespace, lm):
    url, r, keys = redis_dir[1], connect(redis_dir[1]), Keys(namespace)
    ids = write(r, keys, 0, 6, int(time.time() * 1000) - 3_600_000)
    a = checks(url, keys, lm, 0, None)
    drain(r, keys, a)
    assert (a.checked, a.skipped) == (len(ids), 0)
    assert int(r.hget(keys.stats, "staff_checked")) == len(ids) and r.hget(keys.stats, "staff_skipped") is None


@pytest.fixture
def client(redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace,
                         nlp={"check_lag_warn_s": 600, "check_sample_under_lag": {"lag_s": 60, "keep": 0.25}})
    inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
    Accounts(inbox.r, inbox.keys).create("boss", "boss-password", UserRole.MANAGER)
    with TestClient(create_app(build_services(config, inbox))) as c:
        c.url, c.r, c.keys, c.settings = url, inbox.r, inbox.keys, config.settings
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)[1]
        assert c.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf},
                      follow_redirects=False).status_code == 303
        yield c


def test_health_the_dashboard_and_doctor_say_sampling_is_on_and_what_it_skipped(client, lm):
    now = int(time.time() * 1000)
    checks_ = client.get("/api/health").json()["checks"]
    assert checks_["skipped"] == 0 and checks_["sampling"] == {"lag_s": 60.0, "keep": 0.25, "on": False}
    assert 'id="checks-behind"' not in client.get("/").text

    old = write(client.r, client.keys, 0, 30, now - 300_000)
    actor = checks(client.url, client.keys, lm, 0, RULE)
    drain(client.r, client.keys, actor)
    skipped = sum(not kept(i, RULE.keep) for i in old)
    assert actor.skipped == skipped > 0
    checks_ = client.get("/api/health").json()["checks"]
    assert checks_["skipped"] == skipped and checks_["backlog"] == 0
    assert checks_["sampling"]["on"] is False  # caught up: nothing waits past lag_s any more

    write(client.r, client.keys, 30, 2, now - 120_000)  # waits 2 minutes: past lag_s, not past the warning
    checks_ = client.get("/api/health").json()["checks"]
    assert checks_["state"] == "ok" and checks_["sampling"]["on"] is True and checks_["backlog"] == 2 * len(TEXTS)
    page = client.get("/").text
    assert 'id="checks-behind"' in page and 'id="checks-sampling"' in page
    assert "按设置抽检中" in page and "25.0%" in page and f"抽检跳过未检查的消息共 {skipped}" in page
    assert f"skipped unchecked by sampling, in all {skipped}" in client.get("/?lang=en").text

    doctor = check_language_health(client.settings)
    assert f"抽检（nlp.check_sample_under_lag）跳过未检查 {skipped} 条" in doctor.zh
    assert f"skipped unchecked by sampling (nlp.check_sample_under_lag): {skipped}" in doctor.en
