"""Checks tolerate lag, the reply clocks do not: a check actor checks at the lowest CPU priority, and a
closing call the ingest has given up on stops instead of taking the CPU from the next."""
from __future__ import annotations

import os

import pytest
import ray

from sales_assistant.actors.nlp import CLOSING_PASS, CheckActor, ClosingLabels, NlpActor
from sales_assistant.models.lm import build_lm_from_texts

pytestmark = pytest.mark.integration
CORPUS = ["您好，合同已经发到您的邮箱了，请查收。", "这个问题我确认一下，稍后回复您。"] * 20


def test_a_closing_call_past_the_ingests_deadline_is_given_up():
    labels = ClosingLabels("keywords")
    texts = ["好的", "价格多少？", "收到，谢谢"] * CLOSING_PASS
    scores, threshold = labels.closing_scores(texts, 60)
    assert len(scores) == len(texts) and [s >= threshold for s in scores[:3]] == [True, False, False]
    assert labels.closing_scores(texts, 0) is None  # past the ingest's wait: it has labelled them already
    assert labels.closing_stats() == {"labels": len(texts), "reached_model": len(texts), "abandoned": 1}


def test_a_check_actor_checks_at_the_lowest_cpu_priority(ray_session, redis_dir, namespace, tmp_path):
    """Its checking thread runs under SCHED_IDLE; the closing actor's threads keep the normal policy."""
    _, url = redis_dir
    lm = build_lm_from_texts(CORPUS, tmp_path / "tiny.arpa", order=3)
    actor = CheckActor.remote(0, url, namespace, "ngram", str(lm), [], "Asia/Shanghai", "zh", 120.0, None, True)
    closing = NlpActor.remote("keywords")
    try:
        policy = ray.get(actor.__ray_call__.remote(lambda self: os.sched_getscheduler(self.thread.native_id)),
                         timeout=300)
        assert policy == os.SCHED_IDLE
        assert ray.get(closing.__ray_call__.remote(lambda self: os.sched_getscheduler(0))) == os.SCHED_OTHER
    finally:
        ray.kill(actor, no_restart=True)
        ray.kill(closing, no_restart=True)
