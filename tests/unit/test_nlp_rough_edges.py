"""What a user of the staff checks sees (issue 14): no rewrite that changes nothing, the product
vocabulary known to the fluency check, messages to colleagues left to colleagues, roster words."""
from __future__ import annotations

import pytest

from sales_assistant.config.settings import ConfigError
from sales_assistant.config.vocabulary import VOCABULARY_FILE, load_vocabulary
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff
from sales_assistant.models.analysis import Verdict, load_analyzer, roster_words
from sales_assistant.models.lm import CharLM
from sales_assistant.models.phrasing import Finding, PhrasingChecker, finding_from, load_phrasing_checker, same_wording
from sales_assistant.models.phrasing.rules import Hit
from sales_assistant.models.typo import Typo
from tests.support.data import corpus_lm

UI_SENTENCE = "在【设置-角色权限】里可以按模块勾选"  # flagged as low fluency on the demo day's 绩效 page
NO_REWRITE_ZH = "暂无更好的说法可以直接替换。"
NO_REWRITE_EN = "No better wording to suggest."


@pytest.fixture(scope="module")
def corpus() -> CharLM:
    return CharLM(corpus_lm())


# --- rewrites that change nothing ----------------------------------------------------------------

def test_same_wording_ignores_whitespace_and_for_wording_findings_punctuation() -> None:
    assert same_wording("好的，您稍等", "好的 ， 您稍等", ignore_punctuation=False)
    assert not same_wording("好的,您稍等", "好的，您稍等", ignore_punctuation=False)
    assert same_wording("好的,您稍等", "好的，您稍等。", ignore_punctuation=True)
    assert not same_wording("你稍等", "您稍等", ignore_punctuation=True)


def test_a_rewrite_that_changes_no_wording_is_dropped_and_the_finding_says_so() -> None:
    text = "不知道 。"
    for rewrite in ("不知道。", "不知道", "不知道！"):
        hit = Hit("curt", 0, len(text), rewrite, "curt", {"phrase": "不知道"})
        zh, en = finding_from(hit, text, "zh"), finding_from(hit, text, "en")
        assert zh.suggestion is None and zh.message.endswith(NO_REWRITE_ZH), zh
        assert en.suggestion is None and en.message.endswith(NO_REWRITE_EN), en
    real = finding_from(Hit("curt", 0, 3, "这个我确认一下", "curt", {"phrase": "不知道"}), text, "zh")
    assert real.suggestion == "这个我确认一下" and NO_REWRITE_ZH not in real.message


def test_a_punctuation_finding_keeps_its_punctuation_only_rewrite() -> None:
    text = "好的,您稍等。"
    kept = finding_from(Hit("mixed_punctuation", 2, 3, "，", "mixed_punctuation", {"half": ",", "full": "，"}),
                        text, "zh")
    assert kept.suggestion == "，" and NO_REWRITE_ZH not in kept.message
    same = finding_from(Hit("mixed_punctuation", 2, 3, ",", "mixed_punctuation", {"half": ",", "full": "，"}),
                        text, "zh")
    assert same.suggestion is None and same.message.endswith(NO_REWRITE_ZH)


def test_findings_without_a_rewrite_say_there_is_none(corpus) -> None:
    checker = load_phrasing_checker(lm=corpus)
    [[low]] = checker.check(["款这品产常非好质量的们我，库存有还天今"])
    assert low.kind == "low_fluency" and low.suggestion is None and low.message.endswith(NO_REWRITE_ZH)
    [[run_on]] = checker.check(["您好" + "我们这边的产品质量非常好价格也很实惠" * 3], lang="en")
    assert run_on.kind == "run_on" and run_on.suggestion is None and run_on.message.endswith(NO_REWRITE_EN)
    [[curt]] = checker.check(["不知道"])
    assert curt.suggestion and NO_REWRITE_ZH not in curt.message


def test_the_message_rewrite_is_none_when_nothing_changes() -> None:
    text = UI_SENTENCE
    low = Finding("low_fluency", "…" + NO_REWRITE_ZH, None, 0, len(text))
    verdict = Verdict(text, False, 0.0, text, phrasing=[low])
    assert verdict.flagged and verdict.rewrite is None
    assert verdict.to_dict()["corrected"] is None and verdict.to_dict()["phrasing"][0]["suggestion"] is None


def test_the_message_rewrite_applies_typo_fixes_and_phrasing_rewrites() -> None:
    text = "报价单以经发给你了"
    verdict = Verdict(text, False, 0.0, "报价单已经发给你了", typos=[Typo(3, 4, "以", "已")],
                      phrasing=[Finding("informal_you", "…", "您", 7, 8)])
    assert verdict.rewrite == "报价单已经发给您了" == verdict.to_dict()["corrected"]
    # of overlapping edits the earliest, then the longest, wins (as apply_suggestions does)
    overlapping = Verdict("不知道你看吧", False, 0.0, "不知道你看吧",
                          phrasing=[Finding("curt", "…", "这个我确认一下，稍后回复您", 0, 6),
                                    Finding("informal_you", "…", "您", 3, 4)])
    assert overlapping.rewrite == "这个我确认一下，稍后回复您"


def test_the_analyzer_offers_no_rewrite_for_the_menu_sentence(corpus) -> None:
    analyzer = load_analyzer("keywords", typo_model=None)  # the shipped vocabulary by default
    [verdict] = analyzer.analyze([UI_SENTENCE], [True])
    assert not verdict.flagged and verdict.to_dict()["corrected"] is None
    [rude] = analyzer.analyze(["你看一下"], [True])
    assert rude.to_dict()["corrected"] == "您看一下"


# --- the product vocabulary --------------------------------------------------------------------

def test_product_vocabulary_and_menu_paths_are_not_low_fluency(corpus) -> None:
    plain = load_phrasing_checker(lm=corpus)
    assert [f.kind for f in plain.check([UI_SENTENCE])[0]] == ["low_fluency"]  # what the vocabulary fixes
    knowing = load_phrasing_checker(lm=corpus, known_words=load_vocabulary())
    assert knowing.check([UI_SENTENCE, "在 设置 > 角色权限 里可以按模块勾选", "@安琪 在【设置-角色权限】里可以按模块勾选"]) \
        == [[], [], []]
    # a known word may take blame away, never add it: 企业版 is easier for the LM than its neighbours
    assert knowing.check(["企业版年付 54,000 元，报价单我发您邮箱"]) == [[]]
    # and garbled text is still caught
    [[garbled]] = knowing.check(["款这品产常非好质量的们我，库存有还天今"])
    assert garbled.kind == "low_fluency"


def test_the_shipped_vocabulary_and_its_errors(tmp_path) -> None:
    words = load_vocabulary()
    assert {"模块", "勾选", "企微", "角色权限"} <= set(words) and VOCABULARY_FILE.name == "vocabulary.txt"
    bad = tmp_path / "vocabulary.txt"
    bad.write_text("# comment\n\n模块\n角色 权限\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"vocabulary.txt, line 4: .*'角色 权限'"):
        load_vocabulary(bad)
    with pytest.raises(ConfigError, match="cannot read the vocabulary"):
        load_vocabulary(tmp_path / "missing.txt")


# --- who the message is for; roster words ------------------------------------------------------

def test_a_message_to_colleagues_is_not_held_to_the_customer_you() -> None:
    to_team = PhrasingChecker(colleagues=["宋宗强", "李佳芮"])
    assert to_team.check(["@宋宗强 这个客户比较急，你优先跟进下"]) == [[]]
    assert [f.kind for f in to_team.check(["@王女士 你看下这个报价"])[0]] == ["informal_you"]
    assert [f.kind for f in to_team.check(["@宋宗强 @王女士 你看下这个报价"])[0]] == ["informal_you"]
    assert [f.kind for f in PhrasingChecker().check(["@宋宗强 你优先跟进下"])[0]] == ["informal_you"]


def test_roster_words_are_names_teams_and_topics() -> None:
    roster = Roster(staff={"s1": Staff("s1", "董森", Role.SALES, "销售一部"), "s2": Staff("s2", "荣生", Role.AFTER_SALES)},
                    rooms={"R1": RoomInfo("R1", "句子互动服务群-网易严选"), "R2": RoomInfo("R2", "")})
    words, names = roster_words(roster)
    assert words == ["董森", "荣生", "销售一部", "句子互动服务群-网易严选"] and names == ["董森", "荣生"]


def test_the_lark_suggestion_card_offers_no_rewrite_where_there_is_none() -> None:
    import json

    from sales_assistant.connectors.lark import build_suggestion_card

    finding = {"kind": "low_fluency", "message": "这句话读起来不太通顺。" + NO_REWRITE_ZH, "suggestion": None}
    for corrected in (None, UI_SENTENCE):  # None now; the text itself in findings stored before
        card = json.dumps(build_suggestion_card({"text": UI_SENTENCE, "corrected": corrected, "typos": [],
                                                 "phrasing": [finding]}), ensure_ascii=False)
        assert "建议改为" not in card and NO_REWRITE_ZH in card and UI_SENTENCE in card
    card = json.dumps(build_suggestion_card({"text": "你稍等", "corrected": "您稍等", "typos": [], "phrasing": [
        {"kind": "informal_you", "message": "对客户请用敬称“您”。", "suggestion": "您"}]}), ensure_ascii=False)
    assert "建议改为" in card and "您稍等" in card
