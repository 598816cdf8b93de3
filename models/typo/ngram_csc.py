"""Our Chinese spelling corrector: confusion sets propose, a character LM and a word lexicon judge.

For every unprotected Han character ``c`` of a sentence:

1. *Propose*: the characters a writer may have meant (same pinyin and tone, same pinyin other
   tone, similar shape: pycorrector's tables, made symmetric; near sounds under the fuzzy pinyin
   of input methods), limited to characters the LM knows.
2. *Score with the LM*: the change in log10 P(sentence) if ``c`` is replaced, from the window
   of n-grams it touches (exact for an n-gram model, and ~3 µs a candidate with kenlm).
3. *Score with words*: for candidates the LM does not reject outright, the change in the best
   word segmentation score of a small window under word_freq.txt's 584 k-word unigram model
   (our corpus has 3 M characters; the lexicon knows many words the corpus never saw), and the
   change in log10 P of the Han run around it under the word trigram LM of the fcitx5 input
   method (models/lm/word.py), which was trained on far more text than ours.
   With a contextual judge (the ``+mlm`` correctors, models/typo/mlm.py: a fine-tuned encoder that
   reads the whole sentence), also its logit of the candidate minus that of the original.
4. *Decide*: a logistic model over these features (plus kind of confusion and character
   frequencies) gives each candidate a score; the best candidate of a position is taken when its
   score clears a threshold. Weights and threshold are fitted on our own synthetic dev data
   (errors sampled from the confusion sets into clean sentences the LM never saw:
   models/lab/typo/tune.py) and stored in ngram_csc.json (ngram_csc_docs.json for ``ngram-docs``).
5. *Apply*: greedily, best first; a position near one already changed is scored again in the
   changed text, so two guesses never contradict each other.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sales_assistant.models.lm import CharLM, build_lm, lm_tokens, split_sentences
from sales_assistant.models.lm.word import WordLM
from sales_assistant.models.typo import Typo, apply_typos
from sales_assistant.models.typo.protect import Protector
from sales_assistant.models.typo.resources import common_chars, load_confusion, load_lexicon

if TYPE_CHECKING:  # the judge brings torch; the plain corrector must not pay for importing it
    from sales_assistant.models.typo.mlm import CharJudge

# Fitted weights, one file per calibration (see models/lab/typo/tune.py): "lm-dev" fits on the LM's own held-out
# news and reviews (it keeps false alarms lowest); "docs" on Debian's documentation, text of a domain
# the LM never saw (it trusts the word LM more: higher recall, more false alarms); "mixed" on both,
# the two weighing alike.
PARAMS_PATHS = {
    "lm-dev": Path(__file__).with_name("ngram_csc.json"),
    "docs": Path(__file__).with_name("ngram_csc_docs.json"),
    "mixed": Path(__file__).with_name("ngram_csc_mixed.json"),
}
# With the contextual judge (mlm.py) the corrector has two more features and its own fitted weights.
JUDGED_PARAMS_PATHS = {
    "lm-dev": Path(__file__).with_name("ngram_csc_mlm.json"),
    "docs": Path(__file__).with_name("ngram_csc_docs_mlm.json"),
    "mixed": Path(__file__).with_name("ngram_csc_mixed_mlm.json"),
}
FEATURES = (
    "lm_gain",  # log10 P(sentence | candidate) - log10 P(sentence | original), window exact
    "lm_gain_pos",  # max(lm_gain, 0)
    "word_gain",  # same for the best segmentation under the word unigram model, clipped
    "word_gain_pos",
    "in_word_gain",  # characters covered by words of 2+ characters: candidate minus original
    "same_tone",  # kind of confusion (shape-alike is the base)
    "other_tone",
    "near_sound",
    "char_gain",  # log10 unigram P(candidate) - log10 unigram P(original)
    "orig_logp",  # log10 unigram P(original)
    "wlm_gain",  # same as lm_gain under the word trigram LM (libime's) on the Han run, clipped
    "wlm_gain_pos",
)
JUDGE_FEATURES = (
    "mlm_gain",  # logit(candidate) - logit(original) of the contextual judge (mlm.py), clipped
    "mlm_gain_pos",
)
DEFAULT_PARAMS = {
    # a neutral starting point until the lab's tune.py has fitted real ones
    "weights": [1.0, 0.0, 0.3, 0.0, 0.2, 0.5, 0.2, -0.5, 0.0, 0.0, 0.5, 0.0],
    "bias": -4.0,
    "threshold": 0.0,
    "lm_gate": -1.0,  # candidates whose LM gain is below this are not scored further
    "max_per_position": 6,
    "word_window": 3,
    "wlm_window": 5,
}


def features(
    lm_gain: float, word_gain: float, in_word_gain: float, kind: int, char_gain: float, orig_logp: float,
    wlm_gain: float,
) -> tuple[float, ...]:
    """The feature vector of one candidate, in the order of FEATURES."""
    return (
        lm_gain,
        lm_gain if lm_gain > 0 else 0.0,
        word_gain,
        word_gain if word_gain > 0 else 0.0,
        in_word_gain,
        1.0 if kind == 0 else 0.0,
        1.0 if kind == 1 else 0.0,
        1.0 if kind == 3 else 0.0,
        char_gain,
        orig_logp,
        wlm_gain,
        wlm_gain if wlm_gain > 0 else 0.0,
    )


def is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass
class Candidate:
    pos: int  # index in the text
    char: str
    features: tuple[float, ...]
    score: float = 0.0


class NgramCorrector:
    name = "ngram"

    def __init__(
        self,
        lm_path: str | Path | None = None,
        protected_words: Iterable[str] = (),
        params: dict | None = None,
        lm: CharLM | None = None,
        calibration: str = "lm-dev",
        word_lm: WordLM | None = None,
        judge: CharJudge | None = None,
    ):
        self.lm = lm or CharLM(lm_path or build_lm())
        self.word_lm = word_lm or WordLM()
        self.protector = Protector(protected_words)
        self.confusion = load_confusion()
        self.lexicon = load_lexicon()
        self.judge = judge
        self.feature_names = FEATURES + (JUDGE_FEATURES if judge else ())
        if params is None:
            path = (JUDGED_PARAMS_PATHS if judge else PARAMS_PATHS)[calibration]
            params = json.loads(path.read_text()) if path.is_file() else self.default_params()
        if calibration != "lm-dev":
            self.name = f"ngram-{calibration}"
        if judge:
            self.name += "+mlm"
        self.set_params(params)
        self._uni: dict[str, float] = {}
        self._cands: dict[str, list[tuple[str, int, float]]] = {}
        self._common = common_chars()

    def default_params(self) -> dict:
        """The neutral start, with a zero weight for each feature of the judge."""
        extra = [0.0] * (len(self.feature_names) - len(FEATURES))
        return dict(DEFAULT_PARAMS, weights=DEFAULT_PARAMS["weights"] + extra)

    def set_params(self, params: dict) -> None:
        merged = dict(self.default_params(), **params)
        self.params = merged
        self.weights = tuple(float(w) for w in merged["weights"])
        if len(self.weights) != len(self.feature_names):
            raise ValueError(f"weights: {len(self.weights)} numbers for {len(self.feature_names)} features; refit "
                             "with `python -m sales_assistant.models.lab.typo.tune --write`")
        self.bias = float(merged["bias"])
        self.threshold = float(merged["threshold"])
        self.lm_gate = float(merged["lm_gate"])
        self.max_per_position = int(merged["max_per_position"])
        self.word_window = int(merged["word_window"])
        self.wlm_window = int(merged["wlm_window"])

    # -- public -------------------------------------------------------------------------------
    def correct(self, texts: Sequence[str]) -> list[tuple[str, list[Typo]]]:
        return [self._correct_one(t, s) for t, s in zip(texts, self.judge_states(texts), strict=True)]

    def judge_states(self, texts: Sequence[str]) -> list:
        """The contextual judge's reading of each text, in one batch (None without a judge)."""
        return self.judge.states(texts) if self.judge else [None] * len(texts)

    # -- scoring ------------------------------------------------------------------------------
    def unigram(self, ch: str) -> float:
        u = self._uni.get(ch)
        if u is None:
            u = self.lm.score([ch], bos=False, eos=False)
            self._uni[ch] = u
        return u

    def confusables(self, ch: str) -> list[tuple[str, int, float]]:
        """(candidate, kind, its unigram log10 P) for a character, cached."""
        got = self._cands.get(ch)
        if got is None:
            got = []
            for c, kind in self.confusion.candidates(ch).items():
                if c not in self.lm:  # the LM has never seen it: it could never win anyway
                    continue
                u = self.unigram(c)
                if c in self._common or u > -5.0:
                    got.append((c, kind, u))
            self._cands[ch] = got
        return got

    def candidates(self, text: str, mask: Sequence[bool] | None = None, state=None) -> list[Candidate]:  # noqa: ANN001
        """Every scored candidate of ``text`` (features filled in, ``score`` the logit); ``state`` is the
        judge's reading of ``text`` (judge_states), computed here when not given."""
        if mask is None:
            mask = self.protector.mask(text)
        tokens = lm_tokens(text)
        gated = [(a, b, i, self._gated(text, tokens, a, b, i))
                 for a, b in split_sentences(text) for i in range(a, b) if not mask[i] and is_han(text[i])]
        view = self._judge_view(text, [c for *_, g in gated for _, c, _, _ in g], state)
        out: list[Candidate] = []
        for a, b, i, g in gated:
            out.extend(self._scored(text, a, b, i, g, view))
        return out

    def _judge_view(self, text: str, candidates: Iterable[str], state=None):  # noqa: ANN001, ANN202
        """The judge's logits, at every character of ``text``, of its characters and of ``candidates``
        (None without a judge): only what the features read, one matrix product."""
        if not self.judge:
            return None
        if state is None:
            [state] = self.judge_states([text])
        return self.judge.view(state, set(text).union(candidates))

    def _gated(self, text: str, tokens: list[str], a: int, b: int, i: int) -> list[tuple[float, str, int, float]]:
        """The confusables of ``text[i]`` that the character LM lets through, best first:
        (its gain, candidate, kind, unigram log10 P)."""
        conf = self.confusables(text[i])
        if not conf:
            return []
        n = self.lm.order
        lo, hi = max(a, i - n + 1), min(b, i + n)
        bos, eos = lo == a, hi == b
        left = " ".join(tokens[lo:i])
        right = " ".join(tokens[i + 1:hi])
        score = self.lm._score
        base = score(f"{left} {tokens[i]} {right}", bos=bos, eos=eos)
        scored = []
        for c, kind, u in conf:
            gain = score(f"{left} {c} {right}", bos=bos, eos=eos) - base
            if gain > self.lm_gate:
                scored.append((gain, c, kind, u))
        scored.sort(reverse=True)
        return scored[: self.max_per_position]

    def _scored(self, text: str, a: int, b: int, i: int, scored: list[tuple[float, str, int, float]],
                view) -> list[Candidate]:  # noqa: ANN001
        """The features and score of each gated candidate at ``i``."""
        if not scored:
            return []
        ch = text[i]
        judged = view.gains(i, ch, [c for _, c, _, _ in scored]) if view else None
        s, e = _han_run(text, a, b, i, self.word_window)
        window, k = text[s:e], i - s
        best_path = self.lexicon.best_path
        base_seg, base_multi = best_path(window)
        u0 = self.unigram(ch)
        s, e = _han_run(text, a, b, i, self.wlm_window)
        run, rk = text[s:e], i - s
        word_score = self.word_lm.score
        base_wlm = word_score(run)
        wts, bias = self.weights, self.bias
        out = []
        for n_c, (gain, c, kind, u) in enumerate(scored):
            seg, multi = best_path(window[:k] + c + window[k + 1:])
            wg = max(-8.0, min(8.0, seg - base_seg))
            wlm = max(-8.0, min(8.0, word_score(run[:rk] + c + run[rk + 1:]) - base_wlm))
            f = features(gain, wg, float(multi - base_multi), kind, u - u0, u0, wlm)
            if judged is not None:
                mg = max(-12.0, min(12.0, judged[n_c]))
                f += (mg, mg if mg > 0 else 0.0)
            z = bias + sum(x * y for x, y in zip(f, wts))
            out.append(Candidate(i, c, f, z))
        return out

    # -- deciding -----------------------------------------------------------------------------
    def _correct_one(self, text: str, state=None) -> tuple[str, list[Typo]]:  # noqa: ANN001
        mask = self.protector.mask(text)
        best: dict[int, Candidate] = {}
        for cand in self.candidates(text, mask, state):
            if cand.score > self.threshold and (cand.pos not in best or cand.score > best[cand.pos].score):
                best[cand.pos] = cand
        if not best:
            return text, []
        current = text
        changed: list[int] = []
        typos: list[Typo] = []
        reach = max(self.lm.order, self.word_window + 1, self.wlm_window + 1)
        for cand in sorted(best.values(), key=lambda c: c.score, reverse=True):
            if any(abs(cand.pos - j) < reach for j in changed):
                # the context moved: score this position again in the changed text
                a, b = _sentence_of(current, cand.pos)
                gated = self._gated(current, lm_tokens(current), a, b, cand.pos)
                now = self._judge_view(current, [c for _, c, _, _ in gated])
                again = [c for c in self._scored(current, a, b, cand.pos, gated, now) if c.score > self.threshold]
                if not again:
                    continue
                cand = max(again, key=lambda c: c.score)
            current = current[: cand.pos] + cand.char + current[cand.pos + 1:]
            changed.append(cand.pos)
            typos.append(Typo(cand.pos, cand.pos + 1, text[cand.pos], cand.char))
        typos.sort(key=lambda t: t.start)
        return apply_typos(text, typos), typos


def _han_run(text: str, a: int, b: int, i: int, reach: int) -> tuple[int, int]:
    """The span of the run of Han characters around ``i`` in ``text[a:b]``, at most ``reach`` either side."""
    s = i
    while s > max(a, i - reach) and is_han(text[s - 1]):
        s -= 1
    e = i + 1
    while e < min(b, i + reach + 1) and is_han(text[e]):
        e += 1
    return s, e


def _sentence_of(text: str, i: int) -> tuple[int, int]:
    for a, b in split_sentences(text):
        if a <= i < b:
            return a, b
    return 0, len(text)
