"""The fitting step of the ngram corrector (tune.py): the weighted logistic fit and the threshold rule."""
from __future__ import annotations

import numpy as np
import pytest

from sales_assistant.models.lab.typo.synth import Pair
from sales_assistant.models.lab.typo.tune import TEXTS, fit_logistic, pick_threshold


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype(float)
    return x, y


def test_the_fit_finds_the_direction_that_separates():
    x, y = _data()
    w, b = fit_logistic(x, y)
    assert w[0] > 1.0 and w[1] < -0.3 and abs(w[2]) < 0.3
    accuracy = ((x @ w + b > 0) == (y == 1)).mean()
    assert accuracy > 0.85


def test_a_weight_of_two_is_the_same_as_a_row_twice():
    x, y = _data()
    weight = np.where(np.arange(len(y)) < 100, 2.0, 1.0)
    w, b = fit_logistic(x, y, sample_weight=weight)
    w2, b2 = fit_logistic(np.vstack([x, x[:100]]), np.concatenate([y, y[:100]]))
    # the same up to the standardization, which uses the rows as given
    assert w == pytest.approx(w2, rel=1e-3) and b == pytest.approx(b2, rel=1e-3)


def test_no_weights_and_weights_of_one_agree():
    x, y = _data()
    assert fit_logistic(x, y)[0] == pytest.approx(fit_logistic(x, y, sample_weight=np.ones(len(y)))[0])


def test_the_threshold_is_the_best_f1_within_the_false_alarm_cap():
    # ten clean sentences and ten with one typo each; one candidate per sentence
    pairs = [Pair("好好学习", "好好学习")] * 10 + [Pair("好好学刁", "好好学习")] * 10
    where = [(k, 3, "习" if k >= 10 else "刁") for k in range(20)]
    # the typos score 1..10; the clean sentences' candidates 0.5 (six of them) and 4.45, 5.45, 6.45, 7.45
    scores = [0.5] * 6 + [4.45, 5.45, 6.45, 7.45] + list(range(1, 11))
    tau, stats = pick_threshold(pairs, where, scores, max_false_alarm=0.1)
    assert 6.45 <= tau < 7.0  # one false alarm allowed (7.45), and as many typos as that leaves: 7 to 10
    assert stats["false_alarm_rate"] == pytest.approx(0.1) and stats["recall"] == pytest.approx(0.4)
    tau0, stats0 = pick_threshold(pairs, where, scores, max_false_alarm=0.0)
    assert 7.45 <= tau0 < 8.0 and stats0["false_alarm_rate"] == 0.0 and stats0["recall"] == pytest.approx(0.3)


def test_a_cap_no_threshold_can_keep_is_an_error():
    pairs = [Pair("好好学习", "好好学习")]
    with pytest.raises(RuntimeError, match="no threshold"):
        pick_threshold(pairs, [(0, 3, "刁")], [100.0], max_false_alarm=0.0)


def test_the_mixed_calibration_fits_on_both_texts():
    assert TEXTS["mixed"] == TEXTS["lm-dev"] + TEXTS["docs"]
