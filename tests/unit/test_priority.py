import time
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales_assistant.config.priority_file import PriorityFile
from sales_assistant.config.settings import ConfigError, load_settings
from sales_assistant.connectors.i18n import explain, reason_text
from sales_assistant.core.levels import Level
from sales_assistant.policies.priority import (
    DEFAULT_RULES,
    Priority,
    Reason,
    Why,
    rank,
    score,
)


def s(waited, stage="after_sales", texts=(), level=None, rules=DEFAULT_RULES) -> Priority:
    return score(rules, waited_minutes=waited, stage=stage, texts=texts, level=level)


def reason(p: Priority, code: str) -> Reason:
    return next(r for r in p.reasons if r.code == code)


def test_longer_wait_ranks_higher():
    assert s(12).score > s(5).score
    assert explain(s(12)) == "客户已等待 12 分钟"
    assert explain(s(12), "en") == "waiting 12 min"


def test_pre_sales_ranks_above_after_sales_at_equal_wait():
    pre, after = s(10, "pre_sales"), s(10, "after_sales")
    assert pre.score > after.score
    assert "售前群优先" in explain(pre) and "pre-sales first" in explain(pre, "en")
    assert "售前" not in explain(after)


def test_refund_outweighs_about_ten_minutes_of_waiting():
    # 退款 is worth 12 minutes: it beats 10 minutes more of quiet waiting, not 15.
    refund = s(10, texts=["我要退款"])
    assert refund.score > s(20, texts=["你好"]).score
    assert refund.score < s(25, texts=["你好"]).score
    assert [room for room, _ in rank(["quiet", "refund"], lambda r: refund if r == "refund" else s(20))] == [
        "refund", "quiet"]


def test_each_category_counts_once():
    once = s(5, texts=["退款"])
    many = s(5, texts=["退款退款退款", "投诉！退款", "急急急"])
    assert many.score == once.score
    assert [r.code for r in many.reasons].count("urgent") == 1


def test_reasons_name_the_words_found_in_order_deduplicated():
    p = s(23, "pre_sales", texts=["退款！我要投诉，退款", "报价多少钱？合同和发票呢", "什么时候到账"])
    assert explain(p) == ("客户已等待 23 分钟；客户提到：退款、投诉；售前群优先；涉及付款：到账；"
                           "询问价格：报价、多少钱；涉及合同：合同、发票；客户在提问")
    assert explain(p, "en") == ("waiting 23 min; customer mentions: 退款, 投诉; pre-sales first; "
                               "about payment: 到账; asks about price: 报价, 多少钱; about the contract: 合同, 发票; "
                               "customer asks a question")
    assert [r.points for r in p.reasons] == sorted((r.points for r in p.reasons), reverse=True)


def test_longest_word_wins_and_polite_gui_is_not_price():
    found = reason(s(5, texts=["帮我取消订单"]), "urgent")
    assert found.words == ("取消订单",) and reason_text(found, "en") == "customer mentions: 取消订单"
    assert {r.code for r in s(5, texts=["贵公司的产品不错"]).reasons} == {"waiting"}


def test_question_mark_adds_a_small_bonus():
    assert s(5, texts=["在吗?"]).score - s(5, texts=["在吗"]).score == DEFAULT_RULES.question
    assert reason(s(5, texts=["在吗？"]), "question") == Reason(Why.QUESTION, 3.0)
    assert reason_text(Reason(Why.QUESTION, 3.0)) == "客户在提问"


def test_level_nudges_on_top_of_minutes():
    assert s(30, level="red").score == s(30).score + 3
    assert reason(s(30, level="red"), "level") == Reason(Why.LEVEL, 3.0, level=Level.RED)
    assert "已到红色提醒" in explain(s(30, level="red"))
    assert "alert reached red" in explain(s(30, level="red"), "en")
    assert "alert" not in explain(s(5, level="green"), "en")  # worth 0 points: no line
    with pytest.raises(ValueError):
        s(5, level="pink")


def test_long_waits_are_capped_but_still_rank_by_wait():
    assert s(500).score == s(120).score
    assert explain(s(150)) == "客户已等待 2 小时 30 分钟"
    assert [p.waited_minutes for _, p in rank([s(150), s(500), s(120)], lambda p: p)] == [500, 150, 120]


def test_not_waiting_rooms_sort_last():
    idle = s(None, "pre_sales", texts=["退款！投诉！"], level="grey")
    assert idle == Priority(0.0, (Reason(Why.NOT_WAITING, 0.0),))
    assert explain(idle, "en") == "not waiting"
    fresh = s(0, texts=[])
    assert fresh.score > idle.score and explain(fresh) == "客户刚发消息"
    ranked = rank({"idle": idle, "fresh": fresh, "old": s(40)}.items(), lambda kv: kv[1])
    assert [k for (k, _), _ in ranked] == ["old", "fresh", "idle"]


def test_rank_is_deterministic():
    rooms = [(f"room{i}", w) for i, w in enumerate([5, None, 5, 30, 5, None, 12, 30])]

    def key(r):
        return s(r[1])

    first = [r for r, _ in rank(rooms, key)]
    assert first == [r for r, _ in rank(list(rooms), key)]
    assert [name for name, _ in first] == ["room3", "room7", "room6", "room0", "room2", "room4", "room1", "room5"]


def test_robust_to_empty_none_emoji_and_huge_text():
    assert s(5, texts=[]).score == s(5, texts=["", None, "👌😀🙏"]).score  # type: ignore[list-item]
    assert s(5, texts=None).score == s(5).score  # type: ignore[arg-type]
    huge = "退款" + "啊" * 100_000 + "投诉"
    t0 = time.perf_counter()
    p = s(5, texts=[huge] * 20)
    assert time.perf_counter() - t0 < 0.5
    assert "退款" in explain(p) and "投诉" not in explain(p)  # past the 2,000-char scan window
    assert s(-3).score == s(0).score == s(float("nan")).score


def test_priority_section_overrides_and_keeps_defaults():
    rules = PriorityFile.model_validate({"pre_sales": 30, "urgent": {"points": 20}, "levels": {"red": 10},
                                         "price": {"words": ["  价目表 "]}}).to_rules()
    assert rules.pre_sales == 30 and rules.urgent.points == 20 and rules.urgent.words == DEFAULT_RULES.urgent.words
    assert rules.levels["red"] == 10 and rules.levels["purple"] == DEFAULT_RULES.levels["purple"]
    assert rules.price.words == ("价目表",)
    assert reason_text(reason(s(5, texts=["价目表发我"], rules=rules), "price")) == "询问价格：价目表"
    assert PriorityFile().to_rules() == PriorityFile.model_validate({}).to_rules() == DEFAULT_RULES


def test_settings_hold_the_typed_rules():
    assert load_settings(priority={"pre_sales": 30, "levels": {"red": 10}}).priority_rules == replace(
        DEFAULT_RULES, pre_sales=30, levels={**DEFAULT_RULES.levels, Level.RED: 10})
    assert load_settings().priority_rules == DEFAULT_RULES


@pytest.mark.parametrize("bad, field", [
    ({"pre_sales": -1}, "pre_sales"),
    ({"urgent": {"points": -0.5}}, "urgent.points"),
    ({"levels": {"red": -2}}, "levels.red"),
    ({"price": {"words": []}}, "price.words"),
    ({"contract": {"words": ["合同", "  "]}}, "contract.words.1"),
    ({"open_clock": 0}, "open_clock"),
    ({"per_minute": float("inf")}, "per_minute"),
    ({"weight_of_vip": 5}, "weight_of_vip"),
])
def test_a_bad_priority_section_fails_at_start_naming_the_field(bad, field):
    with pytest.raises(ConfigError) as e:
        load_settings(priority=bad)
    assert f"priority.{field}" in str(e.value)


@given(st.floats(0, 10_000), st.floats(0, 10_000), st.sampled_from(["pre_sales", "after_sales"]),
       st.lists(st.text(max_size=50), max_size=5))
def test_score_is_monotonic_in_minutes_waited(a, b, stage, texts):
    lo, hi = sorted((a, b))
    assert s(lo, stage, texts).score <= s(hi, stage, texts).score
    ranked = rank([s(lo, stage, texts), s(hi, stage, texts)], lambda p: p)
    assert ranked[0][1].waited_minutes == hi
