"""Our own dev data: typos sampled into clean sentences that the LM never saw.

The clean sentences are text the LM never saw (tune.py: its held-out 3%, or Debian's
documentation). Each gives a clean copy and a copy with 1-3 typos. A typo replaces an intended
character ``c`` by a character ``w`` that ``c`` can be confused with: same pinyin and tone 40%,
same pinyin other tone 35% (pinyin input methods do not see tones, so a wrong pick is nearly as
likely either way), shape 15%, near sound under fuzzy pinyin 10% (zh/z, n/l, ing/in …); within a
kind, commoner characters are likelier (weight P(w)^0.5), as an input method offers common
characters first. No SIGHAN text is used anywhere here.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sales_assistant.models.typo.ngram_csc import is_han
from sales_assistant.models.typo.protect import Protector
from sales_assistant.models.typo.resources import Confusion

KIND_WEIGHTS = (0.40, 0.35, 0.15, 0.10)  # same tone, other tone, shape, near sound (fuzzy pinyin)


@dataclass(frozen=True)
class Pair:
    src: str  # what was typed
    tgt: str  # what was meant


def corrupt(
    text: str,
    rng: random.Random,
    confusion: Confusion,
    unigram: Callable[[str], float],
    n_errors: int,
    protector: Protector | None = None,
) -> str:
    mask = (protector or Protector()).mask(text)
    positions = [i for i, ch in enumerate(text) if is_han(ch) and not mask[i]]
    rng.shuffle(positions)
    chars = list(text)
    done = 0
    for i in positions:
        if done >= n_errors:
            break
        w = _typo_for(chars[i], rng, confusion, unigram)
        if w is None:
            continue
        chars[i] = w
        done += 1
    return "".join(chars)


def _typo_for(c: str, rng: random.Random, confusion: Confusion, unigram: Callable[[str], float]) -> str | None:
    by_kind: list[list[str]] = [[] for _ in KIND_WEIGHTS]
    for w, kind in confusion.candidates(c).items():
        if unigram(w) > -6.0:  # a character people actually type
            by_kind[kind].append(w)
    kinds = [k for k in range(len(KIND_WEIGHTS)) if by_kind[k]]
    if not kinds:
        return None
    kind = rng.choices(kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]
    pool = sorted(by_kind[kind])
    weights = [10 ** (0.5 * unigram(w)) for w in pool]
    return rng.choices(pool, weights=weights)[0]


def make_pairs(
    sentences: Iterable[str],
    confusion: Confusion,
    unigram: Callable[[str], float],
    seed: int = 13,
    min_han: int = 6,
    error_counts: Sequence[int] = (1, 1, 1, 1, 1, 1, 1, 2, 2, 3),
) -> list[Pair]:
    """For each usable sentence: (clean, clean) and (with typos, clean)."""
    rng = random.Random(seed)
    out: list[Pair] = []
    for s in sentences:
        s = s.strip()
        if sum(is_han(ch) for ch in s) < min_han or len(s) > 120:
            continue
        out.append(Pair(s, s))
        bad = corrupt(s, rng, confusion, unigram, rng.choice(error_counts))
        if bad != s:
            out.append(Pair(bad, s))
    return out
