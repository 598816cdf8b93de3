"""Fluency: how probable each sentence is under the character LM, per character.

The score of a sentence is log10 P(<s> sentence </s>) / (characters + 1), the negative log10 of
its perplexity. Normal sales text scores around -1.9 under the corpus LM; a sentence is flagged
when it scores below a threshold calibrated on our own good sales messages (``fluency.json``, written
by models/lab/phrasing/calibrate.py). It can say that something reads oddly, never how to fix it: no suggestion.

Before scoring, protected spans other than numbers (URLs, @mentions, emoji, names and product
words) are taken out, since the LM has never seen them and would blame the sentence; numbers
stay (the LM folds digits to 0). A menu path (【设置-角色权限】, 设置 > 角色权限) reads as the plain
noun it stands for. Known words (the product vocabulary, ``config/vocabulary.txt``) stay in the
sentence as context, but neither their characters nor the character right after them count in the
score: a news and reviews corpus has rarely seen 模块 or 勾选, and that is no fault of the rep's
(where the sentence scores higher with them, that score stands).
A ``～`` ends a sentence, as it does in chat.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sales_assistant.models.lm import CharLM, lm_tokens, split_sentences

CALIBRATION_FILE = Path(__file__).with_name("fluency.json")
DEFAULT_MIN_CHARS = 6
_NUMBER = re.compile(r"[0-9０-９.,:：．%]+|[零〇一二两三四五六七八九十百千万亿]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# 【设置-角色权限】 or 设置 > 角色权限: a product's menu path or button label, which no corpus sentence reads like.
_UI_LABEL = re.compile(
    r"【[^【】]{1,30}】"
    r"|[\u4e00-\u9fffA-Za-z0-9]{1,12}(?:\s*(?:>|＞|→|->|»|›)\s*[\u4e00-\u9fffA-Za-z0-9]{1,12})+"
)
UI_LABEL_STANDS_FOR = "页面"


@dataclass(frozen=True)
class SentenceScore:
    start: int  # span in the original message
    end: int
    score: float  # log10 probability per character (including </s>)
    chars: int  # Han characters scored (those of known words not counted)


@lru_cache(maxsize=1)
def calibration() -> dict:
    """What ``python -m sales_assistant.models.lab.phrasing.calibrate --write`` measured and chose."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def default_threshold() -> float:
    """The threshold calibrated for the corpus LM (``models.lm.load_lm()``, order 4)."""
    return float(calibration()["threshold"])


def sentence_scores(
    lm: CharLM, text: str, protected: list[tuple[int, int]], min_chars: int = DEFAULT_MIN_CHARS,
    known: Sequence[tuple[int, int]] = (),
) -> list[SentenceScore]:
    """Scores of the sentences of ``text`` with at least ``min_chars`` Han characters outside the
    ``known`` spans (known words: they are context, never scored)."""
    kept: list[str] = []
    origin: list[int] = []  # origin[j]: index in text of kept[j]
    spans = {a: b for a, b in protected}
    labels = {m.start(): m.end() for m in _UI_LABEL.finditer(text) if m.start() not in spans}
    i = 0
    while i < len(text):
        if i in labels:  # read a menu path as the plain noun it stands for
            kept.extend(UI_LABEL_STANDS_FOR)
            origin.extend([i] * len(UI_LABEL_STANDS_FOR))
            i = labels[i]
            continue
        if i in spans and not _NUMBER.fullmatch(text[i: spans[i]]):
            i = spans[i]
            continue
        kept.append("。" if text[i] in "～~" else text[i])
        origin.append(i)
        i += 1
    clean = "".join(kept)
    in_known = {i for a, b in known for i in range(a, b)}
    out = []
    for a, b in split_sentences(clean):
        sentence = clean[a:b]
        is_known = [origin[j] in in_known and origin[j] not in labels for j in range(a, b)]
        chars = sum(1 for ch, k in zip(sentence, is_known, strict=True) if not k and _HAN.match(ch))
        if chars < min_chars:
            continue
        tokens = lm_tokens(sentence)
        score = lm.score(tokens, bos=True, eos=True) / (len(tokens) + 1)
        if any(is_known):  # the last entry is </s>: it counts unless a known word ends the sentence
            counted = [p for k, p in enumerate(lm.token_scores(tokens, bos=True, eos=True))
                       if not (k < len(tokens) and is_known[k]) and not (k > 0 and is_known[k - 1])]
            # a known word may take blame away, never add it: some are easier for the LM than their context
            score = max(score, sum(counted) / len(counted)) if counted else score
        out.append(SentenceScore(origin[a], origin[b - 1] + 1, score, chars))
    return out
