"""Scores for a corrector's output against (source, target) pairs.

Sentence level is pycorrector's definition (``pycorrector/utils/evaluate_utils.py``,
``eval_model_batch``): a pair whose source needs no change is a negative, TN if the prediction
leaves it alone and FP otherwise; a pair that needs changes is a positive, TP only if the
prediction equals the target exactly, FN otherwise (a wrong fix is an FN, not an FP).
precision = TP/(TP+FP), recall = TP/(TP+FN). evaluate.py checks that pycorrector's own function
gives the same numbers on the same predictions.

Character level (same-length pairs): detection counts positions changed, correction counts
(position, character) pairs, against the positions where source and target differ.
The false-alarm rate is FP / negatives: the share of correct sentences that got changed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class Scores:
    sentences: int
    acc: float
    precision: float
    recall: float
    f1: float
    false_alarm_rate: float
    char_det_p: float
    char_det_r: float
    char_det_f1: float
    char_cor_p: float
    char_cor_r: float
    char_cor_f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    def as_dict(self) -> dict:
        return asdict(self)


def _prf(hit: int, pred: int, gold: int) -> tuple[float, float, float]:
    p = hit / pred if pred else 0.0
    r = hit / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _edits(a: str, b: str) -> set[tuple[int, str]]:
    if len(a) != len(b):
        return set()
    return {(i, y) for i, (x, y) in enumerate(zip(a, b)) if x != y}


def score(srcs: Sequence[str], tgts: Sequence[str], preds: Sequence[str]) -> Scores:
    tp = fp = fn = tn = 0
    det_hit = det_pred = cor_hit = cor_pred = gold_n = 0
    for src, tgt, pred in zip(srcs, tgts, preds, strict=True):
        if src == tgt:
            if pred == tgt:
                tn += 1
            else:
                fp += 1
        elif pred == tgt:
            tp += 1
        else:
            fn += 1
        if len(src) != len(tgt):
            continue  # character level is defined on same-length pairs only
        gold = _edits(src, tgt)
        got = _edits(src, pred) if len(pred) == len(src) else {(i, "?") for i in range(len(src))}
        gold_pos = {i for i, _ in gold}
        got_pos = {i for i, _ in got}
        det_hit += len(gold_pos & got_pos)
        det_pred += len(got_pos)
        cor_hit += len(gold & got)
        cor_pred += len(got)
        gold_n += len(gold)
    total = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp > 0 else 0.0
    recall = tp / (tp + fn) if tp > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    dp, dr, df = _prf(det_hit, det_pred, gold_n)
    cp, cr, cf = _prf(cor_hit, cor_pred, gold_n)
    return Scores(
        sentences=total,
        acc=(tp + tn) / total if total else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
        false_alarm_rate=fp / (fp + tn) if fp + tn else 0.0,
        char_det_p=dp, char_det_r=dr, char_det_f1=df,
        char_cor_p=cp, char_cor_r=cr, char_cor_f1=cf,
        tp=tp, fp=fp, fn=fn, tn=tn,
    )
