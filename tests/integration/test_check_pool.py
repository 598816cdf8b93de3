"""The staff-check actors share the staff-texts stream through its consumer group: each text is checked
by one of them, once; what a dead one took is claimed by another; a slow one whose entries were claimed
commits nothing twice; no consumer's pending entries are trimmed away by another's commit.

The actors' logic (actors/nlp.py: StaffChecks) runs in-process, stepped by the test, on a real Redis."""
from __future__ import annotations

from datetime import date

import pytest

from sales_assistant.actors.nlp import StaffChecks
from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.store.keys import NLP_GROUP, Keys
from sales_assistant.store.language_health import check_backlog
from sales_assistant.store.redis import connect
from sales_assistant.store.state import commit_shard_batch, load_findings, load_quality
from sales_assistant.store.streams import StreamConsumer, caught_up
from sales_assistant.store.wire import StaffTextRow
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration
T = 1_795_136_400_000  # 2026-11-20 in Asia/Shanghai
DAY = str(date(2026, 11, 20))
CORPUS = ["您好，合同已经发到您的邮箱了，请查收。", "我们的产品支持企业微信和个人微信同时接入。", "价格方面我们可以按年付给您优惠。",
          "这个问题我确认一下，稍后回复您。", "账号已经开通好了，登录方式发在群里了。"] * 20
TEXTS = ["您好，合同已经发到您的邮箱了", "不知道", "账号已经开通好了"]  # the curt "不知道" is flagged


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return build_lm_from_texts(CORPUS, tmp_path_factory.mktemp("lm") / "tiny.arpa", order=3)


@pytest.fixture
def store(redis_dir, namespace):
    _, url = redis_dir
    return url, connect(url), Keys(namespace)


def checks(store, lm, actor: int, claim_idle_s: float = 120.0) -> StaffChecks:
    url, _, keys = store
    return StaffChecks(actor, url, keys.ns, "ngram", str(lm), [], "Asia/Shanghai", "zh", claim_idle_s, run=False)


def write(store, batches: int) -> list[str]:
    """`batches` shard commits of three staff texts each, as the shards write them; their message ids."""
    _, r, keys = store
    ids = []
    for b in range(batches):
        rows = [StaffTextRow(f"m{b}-{i}", f"R{b}", "s1", "董森", "s1", None, text, T + b * 1000 + i)
                for i, text in enumerate(TEXTS)]
        commit_shard_batch(r, keys, [], {}, [], [], {"staff_texts": len(rows)}, staff_texts=rows)
        ids += [row.message_id for row in rows]
    return ids


def checked_once(store, ids: list[str]) -> None:
    """Every text checked exactly once: the quality counts, the checked counter, one finding and one
    suggestion per flagged text, and nothing left in the group."""
    _, r, keys = store
    quality = load_quality(r, keys, [DAY])
    assert quality[("staff", "s1", "checked")] == len(ids)
    assert int(r.hget(keys.stats, "staff_checked")) == len(ids)
    curt = [i for i in ids if i.endswith("-1")]
    assert sorted(f["message_id"] for f in load_findings(r, keys, [DAY])) == sorted(curt)
    assert r.xlen(keys.suggestions) == len(curt)
    assert caught_up(r, keys.staff_texts, NLP_GROUP)
    assert r.xpending(keys.staff_texts, NLP_GROUP)["pending"] == 0
    backlog = check_backlog(r, keys, T)
    assert (backlog.texts, backlog.entries, backlog.oldest_age_s) == (0, 0, None)


def test_two_check_actors_share_the_stream_and_check_each_text_once(store, lm):
    ids = write(store, 12)
    a, b = checks(store, lm, 0), checks(store, lm, 1)
    assert (a.consumer, b.consumer) == ("check-0", "check-1")
    _, r, keys = store
    assert wait_for(lambda: (a.step(), b.step(), caught_up(r, keys.staff_texts, NLP_GROUP))[2], timeout_s=60)
    assert a.checked > 0 and b.checked > 0  # both consumers of the group got entries
    assert a.checked + b.checked == len(ids)
    checked_once(store, ids)


def test_one_actors_commit_never_trims_what_another_holds(store, lm):
    ids = write(store, 8)
    a, b = checks(store, lm, 0), checks(store, lm, 1)
    held = a.stream.read()  # a takes the first four entries and is still working on them
    assert len(held) == 4
    while b.step():  # b checks the rest and trims the stream after each commit
        pass
    _, r, keys = store
    assert all(r.xrange(keys.staff_texts, e.id, e.id) for e in held)  # a's entries are still there
    assert a._check(held) == 12
    checked_once(store, ids)


def test_what_a_dead_actor_took_is_claimed_and_checked_once(store, lm):
    ids = write(store, 6)
    _, r, keys = store
    dead = StreamConsumer(r, keys.staff_texts, NLP_GROUP, Keys.check_consumer(1), count=4)
    assert len(dead.read()) == 4  # taken, never acknowledged: the actor died
    alive = checks(store, lm, 0, claim_idle_s=0.001)
    assert wait_for(lambda: (alive.step(), caught_up(r, keys.staff_texts, NLP_GROUP))[1], timeout_s=60)
    assert alive.checked == len(ids)
    checked_once(store, ids)


def test_a_slow_actor_whose_entries_were_claimed_commits_nothing(store, lm):
    ids = write(store, 4)
    slow, fast = checks(store, lm, 1), checks(store, lm, 0, claim_idle_s=0.001)
    taken = slow.stream.read()
    assert len(taken) == 4
    assert wait_for(lambda: fast.step() > 0, timeout_s=30)  # fast claims slow's entries and checks them
    assert fast.checked == len(ids)
    assert slow._check(taken) == 0  # slow finishes late: it owns none of them any more
    checked_once(store, ids)
