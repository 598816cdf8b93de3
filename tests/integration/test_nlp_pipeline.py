"""The NLP models inside the real pipeline: closing labels before the rooms, staff checks after."""
from __future__ import annotations

import itertools
from datetime import date

import orjson
import pytest
import ray

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.actors.pipeline import Pipeline
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import Message
from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.store.state import load_findings, nlp_state, stats
from tests.support import scenario
from tests.support.polling import wait_for

pytestmark = pytest.mark.integration
T, M = scenario.T, scenario.M
DAY = date(2026, 11, 20)
CORPUS = ["您好，合同已经发到您的邮箱了，请查收。", "我们的产品支持企业微信和个人微信同时接入。", "价格方面我们可以按年付给您优惠。",
          "这个问题我确认一下，稍后回复您。", "账号已经开通好了，登录方式发在群里了。"] * 20


@pytest.fixture
def nlp_pipeline(ray_session, redis_dir, namespace, tmp_path):
    data, url = redis_dir
    lm = build_lm_from_texts(CORPUS, tmp_path / "tiny.arpa", order=3)
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, closing_model="learned",
                         nlp={"check_staff": True, "lm_path": str(lm)}, alerts_jsonl=tmp_path / "alerts.jsonl")
    p = build_pipeline(config, "virtual", [SinkSpec("jsonl", path=str(tmp_path / "alerts.jsonl"), tz=config.settings.timezone)])
    roster = dict(scenario.ROSTER, staff=[{**s, "lark_open_id": "ou_dongsen"} if s["id"] == "s1" else s
                                          for s in scenario.ROSTER["staff"]])
    p.load_roster(RosterFile.model_validate(roster).to_roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    yield p
    p.stop()


def episodes_by_clock(p: Pipeline) -> dict[str, dict]:
    return {e["episode_id"]: e for e in p.report(DAY, DAY)["episodes"]}


def test_learned_closing_and_staff_suggestions(nlp_pipeline, tmp_path):
    p = nlp_pipeline
    p.replay([
        Message("a1", "R1", "c1", "合同什么时候能发？", T),
        Message("a2", "R1", "s1", "不知道", T + 1 * M),  # curt: a suggestion for 董森
        Message("a3", "R1", "c1", "好的", T + 2 * M),  # closing after a staff reply: no clock
        Message("a4", "R2", "c2", "发票开了吗", T + 3 * M),
        Message("a5", "R2", "s2", "已经开好了", T + 4 * M),
        Message("a6", "R2", "c2", "好的，那价格是多少？", T + 5 * M),  # mixed: it needs an answer
    ], chunk=2)
    p.advance(T + 30 * M)
    assert p.wait_delivered(180)  # the check actors run at SCHED_IDLE: on a busy machine they wait for idle CPU
    eps = episodes_by_clock(p)
    assert "R1/a3" not in eps
    assert eps["R2/a6"]["ended_by"] == "open"
    report = p.report(DAY, DAY)
    assert {a["room_id"] for a in report["alerts"]} == {"R2"}

    findings = load_findings(p.r, p.keys, [str(DAY)])
    assert [f["message_id"] for f in findings] == ["a2"]
    assert findings[0]["phrasing"][0]["kind"] == "curt" and findings[0]["sender_id"] == "s1"
    suggestions = [orjson.loads(line) for line in (tmp_path / "suggestions.jsonl").read_bytes().splitlines()]
    assert [s["message_id"] for s in suggestions] == ["a2"]
    assert suggestions[0]["sender_open_id"] == "ou_dongsen"  # Lark sends it to 董森 directly
    sales = {s["staff_id"]: s for s in report["sales"]}
    assert (sales["s1"]["checked_messages"], sales["s1"]["flagged_per_100"]) == (1, 100.0)
    assert (sales["s2"]["checked_messages"], sales["s2"]["flagged_per_100"]) == (1, 0.0)
    assert stats(p.r, p.keys).get("nlp_fallback", 0) == 0


def test_clocks_keep_running_when_the_nlp_actor_is_gone(nlp_pipeline):
    p = nlp_pipeline
    ray.kill(p.actors["nlp"], no_restart=True)
    p.replay([Message("b1", "R1", "c1", "在吗", T), Message("b2", "R1", "s1", "在的", T + M),
              Message("b3", "R1", "c1", "好的", T + 2 * M), Message("b4", "R1", "c1", "价格多少", T + 3 * M)], chunk=4)
    eps = episodes_by_clock(p)
    assert eps["R1/b1"]["ended_by"] == "reply" and "R1/b3" not in eps and eps["R1/b4"]["ended_by"] == "open"
    assert stats(p.r, p.keys)["nlp_fallback"] >= 3


def test_past_its_ready_timeout_the_ingest_labels_with_the_built_in_list_and_says_so(ray_session, redis_dir, namespace,
                                                                                     tmp_path):
    """The wait for the models is bounded: past it the built-in list labels, each such label is counted and
    the state is "failed"; once the actor answers, its model labels again and the state is "ready"."""
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, closing_model="learned",
                         nlp={"check_staff": False, "ready_timeout_s": 0.01}, alerts_jsonl=tmp_path / "alerts.jsonl")
    sinks = [SinkSpec("jsonl", path=str(tmp_path / "alerts.jsonl"), tz=config.settings.timezone)]
    p = build_pipeline(config, "virtual", sinks)
    p.load_roster(scenario.roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    try:
        p.replay([Message("c1", "R1", "c1", "在吗", T), Message("c2", "R1", "s1", "在的", T + M),
                  Message("c3", "R1", "c1", "收到，谢谢", T + 2 * M)], chunk=3)  # the model most likely still loading
        # Served in numpy, the model can be loaded before the first batch even with a 0.01 s wait; which of the
        # two happened is read from the state, and each must have labelled the batch as it says.
        if nlp_state(p.r, p.keys)["state"] == "failed":
            assert stats(p.r, p.keys)["nlp_fallback"] == 2
            assert "R1/c3" in episodes_by_clock(p)  # the list does not know these thanks: a clock started
        else:
            assert nlp_state(p.r, p.keys)["state"] == "ready" and stats(p.r, p.keys).get("nlp_fallback", 0) == 0
            assert "R1/c3" not in episodes_by_clock(p)
        fallbacks = stats(p.r, p.keys).get("nlp_fallback", 0)

        ray.get(p.actors["nlp"].ping.remote(), timeout=600)  # loaded now
        # The ingest learns it from its own probe at a later batch, and on a loaded machine a first call can
        # still pass its timeout: each such batch is labelled by the list and counted, until one is the model's.
        batches, thanks = itertools.count(), ""

        def a_batch_labelled_by_the_model() -> bool:
            nonlocal fallbacks, thanks
            i = next(batches)
            at, thanks = T + (3 + 3 * i) * M, f"d{i}c"
            p.replay([Message(f"d{i}a", "R2", "c2", "发票开了吗", at), Message(f"d{i}b", "R2", "s2", "开好了", at + M),
                      Message(thanks, "R2", "c2", "收到，谢谢", at + 2 * M)], chunk=3)
            now = stats(p.r, p.keys).get("nlp_fallback", 0)
            if nlp_state(p.r, p.keys)["state"] == "ready" and now == fallbacks:
                return True
            assert now == fallbacks + 2  # the customer's two lines went to the list, and were counted
            assert f"R2/{thanks}" in episodes_by_clock(p)
            fallbacks = now
            return False

        assert wait_for(a_batch_labelled_by_the_model, timeout_s=120, interval_s=0.5), "never back to the model"
        assert f"R2/{thanks}" not in episodes_by_clock(p)  # the model knows these thanks close the exchange
    finally:
        p.stop()


RUN_ON = "您好合同已经发到您的邮箱了请查收我们的产品支持企业微信和个人微信同时接入价格方面我们可以按年付给您优惠"


def test_no_rewrite_is_offered_where_there_is_no_better_wording(nlp_pipeline, tmp_path):
    """Issue 14: a finding without better wording says so and no consumer gets a rewrite equal to the text;
    a rep's 你 to a colleague they @mention is no finding; the longest waits name their room's topic."""
    p = nlp_pipeline
    p.replay([
        Message("n1", "R1", "c1", "合同什么时候能发？", T),
        Message("n2", "R1", "s1", RUN_ON, T + 1 * M),  # run-on: no safe rewrite
        Message("n3", "R1", "e1", "@董森 你帮忙跟进下这个客户", T + 2 * M),  # to a colleague
        Message("n4", "R1", "s1", "你稍等", T + 3 * M),  # 你 -> 您: a real rewrite
    ], chunk=4)
    p.advance(T + 30 * M)
    assert p.wait_delivered(180)  # the check actors run at SCHED_IDLE: on a busy machine they wait for idle CPU
    findings = {f["message_id"]: f for f in load_findings(p.r, p.keys, [str(DAY)])}
    assert set(findings) == {"n2", "n4"}
    assert findings["n2"]["corrected"] is None
    assert findings["n2"]["phrasing"] and all(f["suggestion"] is None and f["message"].endswith("暂无更好的说法可以直接替换。")
                                              for f in findings["n2"]["phrasing"])
    assert findings["n4"]["corrected"] == "您稍等"
    suggestions = {s["message_id"]: s for s in map(orjson.loads, (tmp_path / "suggestions.jsonl").read_bytes().splitlines())}
    assert suggestions["n2"]["corrected"] is None and suggestions["n4"]["corrected"] == "您稍等"
    report = p.report(DAY, DAY)
    assert [(w["room_id"], w["topic"]) for w in report["longest_waits"]] == [("R1", "网易严选")]
