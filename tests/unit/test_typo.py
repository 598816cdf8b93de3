"""Typo correction: protected spans, typo positions, batching, a sales regression set.

The fast tests run the real corrector on a tiny LM built in the test from a few sentences, so
they need neither the corpus nor the 100 MB model. The slow ones build (or reuse) the full LM.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sales_assistant.models.lab.typo import load_corrector, metrics
from sales_assistant.models.lab.typo.datasets import SALES_TYPOS as SALES
from sales_assistant.models.lab.typo.datasets import read_pairs
from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.models.typo import Typo, apply_typos, load_typo_corrector
from sales_assistant.models.typo.ngram_csc import NgramCorrector
from sales_assistant.models.typo.protect import Protector
from tests.support.data import corpus_lm, required

CORPUS = [
    "这个产品的质量非常好。我们的产品质量很好。质量是我们的生命。",
    "请您放心，我们一定按时发货。您的订单今天下午就安排发货。",
    "价格方面我们可以再商量一下。合同已经发到您的邮箱了，请查收。",
    "谢谢您的支持，期待与您的进一步合作。感谢您一直以来的支持。",
    "您反馈的问题我们马上处理。我们会尽快给您回复。",
    "如果您有任何疑问，欢迎随时咨询。请联系我们的客服。",
] * 3


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    sales_targets = [t for _, t in read_pairs(SALES)]
    return build_lm_from_texts(CORPUS + sales_targets, tmp_path_factory.mktemp("lm") / "tiny.arpa", order=3)


@pytest.fixture(scope="module")
def corrector(tiny_lm) -> NgramCorrector:
    return NgramCorrector(lm_path=tiny_lm)


def test_a_typo_carries_its_span_in_the_original_text(corrector):
    text = "这个产品的质两非常好。"
    [(fixed, typos)] = corrector.correct([text])
    assert typos == [Typo(start=6, end=7, wrong="两", suggestion="量")]
    assert fixed == "这个产品的质量非常好。"
    assert apply_typos(text, typos) == fixed


def test_positions_count_emoji_and_mentions_as_python_characters(corrector):
    text = "@王经理\u2005👍😀这个产品的质两非常好。"
    [(fixed, typos)] = corrector.correct([text])
    assert [(t.start, t.wrong, t.suggestion) for t in typos] == [(text.index("两"), "两", "量")]
    assert all(text[t.start:t.end] == t.wrong for t in typos)
    assert fixed.startswith("@王经理\u2005👍😀")


def test_protected_names_and_products_are_never_corrected(tiny_lm):
    text = "质两科技的产品质两非常好。"
    plain = NgramCorrector(lm_path=tiny_lm)
    [(_, typos)] = plain.correct([text])
    assert 1 in {t.start for t in typos}  # without protection the company name gets "fixed"
    guarded = load_typo_corrector("ngram", protected_words=["质两科技"], lm_path=tiny_lm)
    [(fixed, typos)] = guarded.correct([text])
    assert fixed == "质两科技的产品质量非常好。"
    assert [t.start for t in typos] == [8]


def test_mentions_urls_numbers_and_emoji_are_protected():
    text = "@质两 看下 https://shop.example.com/p?id=12 价格1,999.50元，三百五十个，满意请点👍🏻或[微笑]"
    spans = [text[a:b] for a, b in Protector().spans(text)]
    assert "@质两" in spans
    assert "https://shop.example.com/p?id=12" in spans
    assert "1,999.50" in spans and "三百五十" in spans
    assert "👍🏻" in spans and "[微笑]" in spans


def test_a_mention_is_left_alone_while_the_message_is_corrected(corrector):
    [(fixed, typos)] = corrector.correct(["@质两\u2005这个产品的质两非常好。"])
    assert fixed == "@质两\u2005这个产品的质量非常好。"
    assert [t.start for t in typos] == [10]


def test_batches_keep_order_and_match_single_calls(corrector):
    texts = ["这个产品的质两非常好。", "", "请您放新，我们一定按时发货。", "OK 👍", "谢谢您的支持。"]
    batch = corrector.correct(texts)
    assert len(batch) == len(texts)
    assert batch == [corrector.correct([t])[0] for t in texts]
    assert batch[1] == ("", []) and batch[3] == ("OK 👍", [])


def test_clean_sentences_stay_as_they_are(corrector):
    clean = [t for s, t in read_pairs(SALES) if s == t]
    assert [fixed for fixed, _ in corrector.correct(clean)] == clean


def test_sales_regression_set_on_a_tiny_lm(corrector):
    """With an LM that knows the intended wording, every typo of the set must be found."""
    pairs = [(s, t) for s, t in read_pairs(SALES) if s != t]
    fixed = [f for f, _ in corrector.correct([s for s, _ in pairs])]
    missed = [s for (s, t), f in zip(pairs, fixed) if f != t]
    assert len(missed) <= 2, missed


def test_unknown_corrector_names_the_known_ones():
    known = r"ngram, ngram-docs, ngram-mixed, ngram\+mlm, ngram-docs\+mlm, ngram-mixed\+mlm"
    with pytest.raises(ValueError, match=known + "$"):
        load_typo_corrector("bert")
    with pytest.raises(ValueError, match=known + ", kenlm-csc$"):
        load_corrector("bert")  # the lab's benchmark: the product's correctors and the baseline


def test_sentence_metrics_follow_pycorrectors_definition():
    srcs = ["我跟朋唷去", "你好", "对不气", "天汽好", "谢谢"]
    tgts = ["我跟朋友去", "你好", "对不起", "天气好", "谢谢"]
    preds = ["我跟朋友去", "你们", "对不其", "天汽好", "谢谢"]
    s = metrics.score(srcs, tgts, preds)
    # TP 1 (fixed), FP 1 (clean changed), FN 2 (wrong fix counts as FN, not FP), TN 1
    assert (s.tp, s.fp, s.fn, s.tn) == (1, 1, 2, 1)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1 / 3)
    assert s.false_alarm_rate == pytest.approx(0.5)
    assert s.char_cor_p == pytest.approx(1 / 3) and s.char_cor_r == pytest.approx(1 / 3)
    assert s.char_det_p == pytest.approx(2 / 3)  # 对不其: right place, wrong character


# What the default corrector (ngram+mlm) measured, less a margin (MODEL_CARD.md, "Measured figures").
JUDGED_SALES_TP, JUDGED_SIGHAN_F1 = 10, 0.34  # measured: 11 of 15, 0.361
JUDGED_CORPUS500_F1 = 0.33  # measured: 0.354


def scores(corrector, pairs):
    preds = [f for f, _ in corrector.correct([s for s, _ in pairs])]
    return metrics.score([s for s, _ in pairs], [t for _, t in pairs], preds)


@pytest.mark.slow
def test_full_lm_on_the_sales_set_and_sighan():
    """Builds the corpus LM (about 1 min, once; then cached) and checks the measured figures hold."""
    from sales_assistant.models.lab.typo.datasets import dataset_pairs
    path = corpus_lm()
    sales_pairs, sighan_pairs = read_pairs(SALES), dataset_pairs("sighan2015")
    default = NgramCorrector(lm_path=path)
    sales, sighan = scores(default, sales_pairs), scores(default, sighan_pairs)
    assert sales.fp == 0 and sales.tp >= 10, sales
    # the false-alarm limit holds; F1 is short of its 0.50 (MODEL_CARD.md)
    assert sighan.false_alarm_rate <= 0.03 and sighan.f1 >= 0.31, sighan
    docs = NgramCorrector(lm_path=path, calibration="docs")
    sales, sighan = scores(docs, sales_pairs), scores(docs, sighan_pairs)
    assert sales.fp == 0 and sales.tp >= 12, sales
    # more found, more false alarms: over the 3% limit, which is why it is not the default
    assert sighan.false_alarm_rate <= 0.045 and sighan.f1 >= 0.39, sighan
    judged = load_typo_corrector("ngram+mlm", lm_path=path)
    sales, sighan = scores(judged, sales_pairs), scores(judged, sighan_pairs)
    assert sales.fp == 0 and sales.tp >= JUDGED_SALES_TP, sales
    # the default: the judge adds typos found within the limit
    assert sighan.false_alarm_rate <= 0.03 and sighan.f1 >= JUDGED_SIGHAN_F1, sighan


@pytest.mark.slow
def test_the_default_on_the_real_typos_of_corpus500():
    """The second set of real typos (corpus500.py): the default holds its figure, within the false-alarm limit."""
    from sales_assistant.models.lab.typo.corpus500 import corpus500_pairs
    path, pairs = corpus_lm(), required(corpus500_pairs)
    s = scores(load_typo_corrector("ngram+mlm", lm_path=path), pairs)
    assert s.false_alarm_rate <= 0.03 and s.f1 >= JUDGED_CORPUS500_F1, s


@pytest.mark.slow
def test_our_sentence_metrics_equal_pycorrectors_eval_function():
    from sales_assistant.models.lab.typo.evaluate import pycorrector_crosscheck

    pairs = [("我跟朋唷去", "我跟朋友去"), ("你好", "你好"), ("对不气", "对不起"), ("天汽好", "天气好"), ("谢谢", "谢谢")]
    preds = ["我跟朋友去", "你们", "对不其", "天汽好", "谢谢"]
    s = metrics.score([a for a, _ in pairs], [b for _, b in pairs], preds)
    assert pycorrector_crosscheck(pairs, preds) == pytest.approx((s.acc, s.precision, s.recall, s.f1))


@pytest.mark.slow
def test_kenlm_csc_baseline_keeps_protected_words(tiny_lm):
    baseline = load_corrector("kenlm-csc", protected_words=["质两科技"], lm_path=tiny_lm)
    text = "质两科技的产品质两非常好。"
    [(fixed, typos)] = baseline.correct([text])
    assert fixed.startswith("质两科技")
    assert all(text[t.start:t.end] == t.wrong and t.start >= 4 for t in typos)
    assert apply_typos(text, typos) == fixed



def test_weights_that_do_not_fit_the_features_are_refused(tiny_lm):
    with pytest.raises(ValueError, match="refit"):
        NgramCorrector(lm_path=tiny_lm, params={"weights": [1.0, 2.0]})


def test_every_calibration_ships_weights_for_its_features():
    from sales_assistant.models.typo.ngram_csc import FEATURES, JUDGE_FEATURES, JUDGED_PARAMS_PATHS, PARAMS_PATHS

    for paths, n in ((PARAMS_PATHS, len(FEATURES)), (JUDGED_PARAMS_PATHS, len(FEATURES) + len(JUDGE_FEATURES))):
        for calibration, path in paths.items():
            params = json.loads(path.read_text(encoding="utf-8"))
            assert len(params["weights"]) == n, (calibration, path)
            assert params["fitted_on"]["max_false_alarm"] == 0.01, path


def test_the_settings_offer_exactly_the_known_correctors():
    from typing import get_args

    from sales_assistant.config.settings import NlpSettings
    from sales_assistant.models.typo import CORRECTORS

    assert get_args(NlpSettings.model_fields["typo_model"].annotation) == CORRECTORS
