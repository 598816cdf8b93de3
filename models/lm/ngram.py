"""Character n-gram counts -> interpolated modified Kneser-Ney -> ARPA, in plain Python.

kenlm's Python package loads ARPA files but cannot estimate them (no ``lmplz``), so we estimate
here, the way lmplz does (Chen & Goodman 1998; Heafield et al. 2013):

* the highest order uses raw counts; lower orders use continuation counts (how many distinct
  characters precede the n-gram), except n-grams that start with <s>, which keep raw counts;
* three discounts per order, D1, D2, D3+, from the counts-of-counts of those adjusted counts;
* each order is interpolated with the one below, unigrams with the uniform distribution;
* in ARPA form the interpolation weight of a context is its backoff weight.

An n-gram is a Python string, one character per token, with BOS/EOS standing for <s>/</s>.
Optional pruning drops highest-order n-grams seen fewer than ``prune_min_count`` times; their
probability mass goes to the context's backoff weight, so the model stays (nearly) normalised.
"""
from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from sales_assistant.models.lm.text import BOS, EOS

Progress = Callable[[int], None]


def count_ngrams(sentences: Iterable[list[str]], order: int, progress: Progress | None = None) -> list[Counter]:
    """Raw counts per order (index 0 holds unigrams) of ``<s> tokens </s>`` for each sentence."""
    if not 1 <= order <= 9:
        raise ValueError(f"order must be 1..9, got {order}")
    counts = [Counter() for _ in range(order)]
    for tokens in sentences:
        s = BOS + "".join(tokens) + EOS
        n = len(s)
        for k in range(1, order + 1):
            c = counts[k - 1]
            # the lone <s> is never predicted, so it is not counted as a unigram
            c.update(s[i:i + k] for i in range(1 if k == 1 else 0, n - k + 1))
        if progress:
            progress(len(tokens))
    return counts


def _discounts(adjusted: dict[str, int]) -> tuple[float, float, float]:
    n = Counter(min(v, 4) for v in adjusted.values())
    n1, n2, n3, n4 = (n.get(i, 0) for i in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return 0.5, 1.0, 1.5  # too little data for the estimate: the usual defaults
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    # keep each discount in (0, its count] so no probability turns negative
    return tuple(min(max(di, 0.01), float(i + 1)) for i, di in enumerate(d))  # type: ignore[return-value]


class KneserNey:
    """An estimated model: ``prob[k][ngram]`` and ``backoff[k][context]`` (natural probabilities)."""

    def __init__(self, counts: list[Counter], prune_min_count: int = 1):
        self.order = len(counts)
        order = self.order
        # adjusted counts
        adjusted: list[dict[str, int]] = [dict() for _ in range(order)]
        adjusted[order - 1] = dict(counts[order - 1])
        for k in range(order - 1, 0, -1):  # k = length of the lower n-gram
            cont: Counter = Counter()
            for g in counts[k]:  # (k+1)-grams
                cont[g[1:]] += 1
            adj = adjusted[k - 1]
            for g, raw in counts[k - 1].items():
                adj[g] = raw if g[0] == BOS else cont.get(g, raw)
        self.discounts = [_discounts(a) for a in adjusted]
        vocab = len(adjusted[0]) + 1  # + <unk>
        self.prob: list[dict[str, float]] = [dict() for _ in range(order)]
        self.backoff: list[dict[str, float]] = [dict() for _ in range(order)]
        for k in range(1, order + 1):
            adj = adjusted[k - 1]
            d1, d2, d3 = self.discounts[k - 1]
            total: dict[str, float] = defaultdict(float)
            mass: dict[str, float] = defaultdict(float)  # discounted mass -> gamma numerator
            for g, a in adj.items():
                h = g[:-1]
                total[h] += a
                mass[h] += d1 if a == 1 else d2 if a == 2 else d3
            prune = k == order and k > 1 and prune_min_count > 1
            prob = self.prob[k - 1]
            for g, a in adj.items():
                h = g[:-1]
                disc = d1 if a == 1 else d2 if a == 2 else d3
                if prune and a < prune_min_count:
                    mass[h] += a - disc  # its share now reaches it through the backoff
                    continue
                lower = (1.0 / vocab) if k == 1 else self.prob[k - 2][g[1:]]
                prob[g] = (a - disc) / total[h] + mass[h] / total[h] * lower
            gamma = {h: mass[h] / total[h] for h in total}
            if k == 1:
                self.unk_prob = gamma.get("", 1.0) / vocab
            else:
                self.backoff[k - 2] = gamma
        self.vocab_size = vocab

    def write_arpa(self, out: TextIO, progress: Progress | None = None) -> dict[int, int]:
        """Write the model as ARPA text; returns the number of n-grams per order."""
        sizes = {k: len(self.prob[k - 1]) for k in range(1, self.order + 1)}
        sizes[1] += 2  # <unk> and <s>
        out.write("\\data\\\n")
        for k in range(1, self.order + 1):
            out.write(f"ngram {k}={sizes[k]}\n")
        for k in range(1, self.order + 1):
            out.write(f"\n\\{k}-grams:\n")
            bo = self.backoff[k - 1] if k < self.order else {}
            if k == 1:
                out.write(f"{math.log10(self.unk_prob):.6f}\t<unk>\t0\n")
                out.write(f"-99\t<s>\t{_log10(bo.get(BOS, 1.0)):.6f}\n")
            lines = []
            for g, p in self.prob[k - 1].items():
                words = " ".join(_arpa_token(t) for t in g)
                if k < self.order:
                    lines.append(f"{math.log10(p):.6f}\t{words}\t{_log10(bo.get(g, 1.0)):.6f}\n")
                else:
                    lines.append(f"{math.log10(p):.6f}\t{words}\n")
                if len(lines) >= 100_000:
                    out.writelines(lines)
                    if progress:
                        progress(len(lines))
                    lines.clear()
            out.writelines(lines)
            if progress:
                progress(len(lines))
        out.write("\n\\end\\\n")
        return sizes


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else -99.0


def _arpa_token(t: str) -> str:
    if t == BOS:
        return "<s>"
    if t == EOS:
        return "</s>"
    return t


def write_arpa_file(model: KneserNey, path: Path, progress: Progress | None = None) -> dict[int, int]:
    # A name of its own per process: two first starts building at once must not write into one file.
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.part")
    with open(tmp, "w", encoding="utf-8") as out:
        sizes = model.write_arpa(out, progress)
    tmp.replace(path)
    return sizes
