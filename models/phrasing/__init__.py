"""Bad phrasing in what reps write to customers: a few checks that matter in sales chat.

``PhrasingChecker.check(texts)`` returns, per text, its findings in order of position. Each has
a ``kind`` from a small stable vocabulary (``KINDS``), a short explanation for the rep (Chinese,
or English with ``lang="en"``), and a suggested rewrite of ``text[start:end]`` where one is safe and
changes the wording. A finding without a rewrite says so in its explanation: a rewrite equal to the
original (give or take whitespace, or punctuation where the finding is not about punctuation) is
never offered (``same_wording``).

    checker = load_phrasing_checker()                 # rules only, no language model
    checker = load_phrasing_checker(lm=load_lm())     # + the fluency check (models.lm, ~100 MB)
    [findings] = checker.check(["不知道，你自己看吧"])

The checker assumes the text is a rep writing to a customer (what the NLP actor sends it); pass
``to_customer`` to say which texts are not, and the 你 -> 您 check is skipped for those, as it is for
a message whose @mentions all name ``colleagues``. Names, product words (``protected_words``), URLs,
numbers, @mentions and emoji are never flagged (``models/typo/protect.py``); ``known_words`` (the
product vocabulary) are never blamed for low fluency. See README.md for what each check flags and why.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sales_assistant.models.lm import CharLM
from sales_assistant.models.phrasing import rules
from sales_assistant.models.phrasing.fluency import DEFAULT_MIN_CHARS, default_threshold, sentence_scores
from sales_assistant.models.phrasing.messages import LANGS, render
from sales_assistant.models.typo.protect import Protector, mentions

KINDS = (
    "curt",
    "informal_you",
    "duplicated_word",
    "run_on",
    "unbalanced_brackets",
    "mixed_punctuation",
    "low_fluency",
)
# Kinds whose rewrite changes punctuation only, on purpose; for the others such a rewrite changes nothing.
PUNCTUATION_KINDS = ("unbalanced_brackets", "mixed_punctuation")
DEFAULT_RUN_ON_CHARS = 80
DEFAULT_RUN_ON_CLAUSE_CHARS = 35


@dataclass(frozen=True)
class Finding:
    """``text[start:end]`` is what the finding is about; ``suggestion`` replaces it when given.

    ``start``/``end`` are None only for a finding about the whole message (none of the current
    checks makes one); ``suggestion`` is None where no rewrite is safe (run-on, fluency, a stray
    closing bracket) or none would change the wording, and ``message`` then says there is none.
    """

    kind: str
    message: str
    suggestion: str | None
    start: int | None = None
    end: int | None = None


class PhrasingChecker:
    """Runs the enabled checks over a batch of messages; holds no state between calls."""

    def __init__(
        self,
        lm: CharLM | None = None,
        *,
        checks: Iterable[str] | None = None,
        protected_words: Iterable[str] = (),
        known_words: Iterable[str] = (),
        colleagues: Iterable[str] = (),
        run_on_chars: int = DEFAULT_RUN_ON_CHARS,
        run_on_clause_chars: int = DEFAULT_RUN_ON_CLAUSE_CHARS,
        fluency_threshold: float | None = None,
        fluency_min_chars: int = DEFAULT_MIN_CHARS,
    ):
        wanted = tuple(KINDS if checks is None else checks)
        unknown = [c for c in wanted if c not in KINDS]
        if unknown:
            raise ValueError(f"checks: unknown {', '.join(map(repr, unknown))}; known: {', '.join(KINDS)}")
        for name, value in (("run_on_chars", run_on_chars), ("run_on_clause_chars", run_on_clause_chars),
                            ("fluency_min_chars", fluency_min_chars)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.lm = lm
        # the fluency check needs a language model; without one it is skipped, not an error
        self.checks = tuple(c for c in KINDS if c in wanted and (c != "low_fluency" or lm is not None))
        self.protector = Protector(protected_words)
        # Protector finds a word list's occurrences; known words are found the same way, but not protected
        self.known = Protector(known_words)
        self.colleagues = frozenset(w.strip() for w in colleagues if w and w.strip())
        self.run_on_chars = run_on_chars
        self.run_on_clause_chars = run_on_clause_chars
        self.fluency_min_chars = fluency_min_chars
        if lm is not None and "low_fluency" in self.checks and fluency_threshold is None:
            fluency_threshold = default_threshold()
        self.fluency_threshold = fluency_threshold

    def check(
        self, texts: Sequence[str], lang: str = "zh", *, to_customer: Sequence[bool] | None = None
    ) -> list[list[Finding]]:
        """Per text, its findings ordered by position. Batched on purpose (one call per batch)."""
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
        if to_customer is not None and len(to_customer) != len(texts):
            raise ValueError(f"to_customer has {len(to_customer)} entries for {len(texts)} texts")
        return [
            self._check_one(text, lang, True if to_customer is None else bool(to_customer[k]))
            for k, text in enumerate(texts)
        ]

    def _check_one(self, text: str, lang: str, to_customer: bool) -> list[Finding]:
        msg = rules.Message(text, self.protector.spans(text))
        to_customer = to_customer and not self._to_colleagues(text)
        hits: list[rules.Hit] = []
        for kind in self.checks:
            if kind == "informal_you" and not to_customer:
                continue
            hits += self._run(kind, msg)
        curt_spans = [(h.start, h.end) for h in hits if h.kind == "curt"]
        # a curt clause is rewritten whole: what else was found inside it goes with it
        hits = [h for h in hits if h.kind == "curt" or not any(a <= h.start and h.end <= b for a, b in curt_spans)]
        hits.sort(key=lambda h: (h.start, KINDS.index(h.kind)))
        return [finding_from(h, text, lang) for h in hits]

    def _to_colleagues(self, text: str) -> bool:
        """Every @mention names a colleague: the rep is talking to the team, not to the customer."""
        mentioned = mentions(text)
        return bool(mentioned) and bool(self.colleagues) and all(name in self.colleagues for name in mentioned)

    def _run(self, kind: str, msg: rules.Message) -> list[rules.Hit]:
        if kind == "curt":
            return rules.curt(msg)
        if kind == "informal_you":
            return rules.informal_you(msg)
        if kind == "duplicated_word":
            return rules.duplicated_words(msg)
        if kind == "run_on":
            return rules.run_on(msg, self.run_on_clause_chars, self.run_on_chars)
        if kind == "unbalanced_brackets":
            return rules.unbalanced_brackets(msg)
        if kind == "mixed_punctuation":
            return rules.mixed_punctuation(msg)
        return self._low_fluency(msg)

    def _low_fluency(self, msg: rules.Message) -> list[rules.Hit]:
        threshold = self.fluency_threshold
        known = self.known.spans(msg.text) if self.known.words else []
        return [
            rules.Hit("low_fluency", s.start, s.end, None, "low_fluency", {"score": s.score, "threshold": threshold})
            for s in sentence_scores(self.lm, msg.text, msg.protected, self.fluency_min_chars, known)
            if s.score < threshold
        ]


def finding_from(hit: rules.Hit, text: str, lang: str) -> Finding:
    """The finding a rule's hit becomes: a rewrite that changes no wording is dropped, and an explanation
    without a rewrite says that there is none."""
    suggestion = hit.suggestion
    if suggestion is not None and same_wording(
            text[hit.start:hit.end], suggestion, ignore_punctuation=hit.kind not in PUNCTUATION_KINDS):
        suggestion = None
    message = render(hit.note, lang, **hit.details)
    if suggestion is None:
        message += render("no_rewrite", lang)
    return Finding(hit.kind, message, suggestion, hit.start, hit.end)


def same_wording(original: str, rewrite: str, *, ignore_punctuation: bool) -> bool:
    """Whether ``rewrite`` says what ``original`` says in the same words: equal but for whitespace,
    and also for punctuation when ``ignore_punctuation``. Such a rewrite is never offered."""
    def words(s: str) -> str:
        return "".join(ch for ch in s if not ch.isspace() and not (
            ignore_punctuation and unicodedata.category(ch).startswith("P")))
    return words(original) == words(rewrite)


def load_phrasing_checker(lm: CharLM | str | Path | None = None, **options) -> PhrasingChecker:
    """A checker; ``lm`` is a ``models.lm.CharLM``, a path to an ARPA file, or None (no fluency).

    The default fluency threshold fits the corpus LM (``models.lm.load_lm()``); with another LM
    pass ``fluency_threshold`` too. Other options: see ``PhrasingChecker``.
    """
    if isinstance(lm, (str, Path)):
        lm = CharLM(lm)
    return PhrasingChecker(lm, **options)


def apply_suggestions(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with every suggestion applied; of overlapping ones the earliest (then longest) wins."""
    chosen: list[Finding] = []
    for f in sorted(
        (f for f in findings if f.suggestion is not None and f.start is not None and f.end is not None),
        key=lambda f: (f.start, -f.end),
    ):
        if not chosen or f.start >= chosen[-1].end:
            chosen.append(f)
    for f in reversed(chosen):
        text = text[: f.start] + f.suggestion + text[f.end:]
    return text


__all__ = ["KINDS", "PUNCTUATION_KINDS", "Finding", "PhrasingChecker", "apply_suggestions", "load_phrasing_checker",
           "finding_from", "same_wording"]
