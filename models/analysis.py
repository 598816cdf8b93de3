"""One place that runs every NLP check on a batch of utterances: closing label for what customers
write, typos and phrasing for what staff write. The `check` command and the NLP actor both use it."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sales_assistant.core.roster import Roster
from sales_assistant.models.closing import ClosingDetector, load_closing_detector
from sales_assistant.models.phrasing import (
    Finding,
    PhrasingChecker,
    apply_suggestions,
    load_phrasing_checker,
    same_wording,
)
from sales_assistant.models.typo import RECOMMENDED as RECOMMENDED_TYPO
from sales_assistant.models.typo import Typo, TypoCorrector, apply_typos, load_typo_corrector


@dataclass
class Verdict:
    text: str
    closing: bool
    closing_score: float
    corrected: str
    typos: list[Typo] = field(default_factory=list)
    phrasing: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.typos or self.phrasing)

    @property
    def rewrite(self) -> str | None:
        """The message with every typo fix and phrasing rewrite applied (of overlapping ones the earliest,
        then longest); None when that changes nothing but whitespace: no consumer offers a no-op rewrite."""
        typo_fixes = [Finding("typo", "", t.suggestion, t.start, t.end) for t in self.typos]
        text = apply_suggestions(self.text, typo_fixes + self.phrasing)
        return None if same_wording(self.text, text, ignore_punctuation=False) else text

    def to_dict(self) -> dict:
        """`corrected` is the rewrite (None: there is no better wording); each phrasing finding's
        `suggestion` is None where it has none, and its `message` then says so."""
        return {"text": self.text, "closing": self.closing, "closing_score": round(self.closing_score, 4),
                "corrected": self.rewrite,
                "typos": [{"start": t.start, "end": t.end, "wrong": t.wrong, "suggestion": t.suggestion}
                          for t in self.typos],
                "phrasing": [{"kind": f.kind, "message": f.message, "suggestion": f.suggestion}
                             for f in self.phrasing]}


class Analyzer:
    """Loads each model once; `analyze` is batched end to end."""

    def __init__(self, closing: ClosingDetector, typo: TypoCorrector | None, phrasing: PhrasingChecker | None,
                 lang: str = "zh") -> None:
        self.closing, self.typo, self.phrasing, self.lang = closing, typo, phrasing, lang

    def analyze(self, texts: Sequence[str], staff: Sequence[bool]) -> list[Verdict]:
        """`staff[i]`: texts[i] was written by staff (typos and phrasing are checked only for them)."""
        scores = self.closing.scores(texts)
        verdicts = [Verdict(t, s >= self.closing.threshold, float(s), t) for t, s in zip(texts, scores, strict=True)]
        idx = [i for i, is_staff in enumerate(staff) if is_staff and texts[i].strip()]
        staff_texts = [texts[i] for i in idx]
        if self.typo is not None and staff_texts:
            for i, (corrected, typos) in zip(idx, self.typo.correct(staff_texts), strict=True):
                # a "typo" whose fix is the same character is no typo (never offered as a rewrite)
                typos = [t for t in typos if t.suggestion != t.wrong]
                verdicts[i].typos, verdicts[i].corrected = typos, apply_typos(texts[i], typos) if typos else texts[i]
                del corrected  # recomputed from the spans, so `corrected` always matches `typos`
        if self.phrasing is not None and staff_texts:
            for i, findings in zip(idx, self.phrasing.check(staff_texts, lang=self.lang), strict=True):
                verdicts[i].phrasing = findings
        return verdicts


def roster_words(roster: Roster) -> tuple[list[str], list[str]]:
    """(words no check may touch: staff names, team names, room topics; the staff names alone, whom a
    message @mentioning only them addresses instead of the customer)."""
    names = [s.name for s in roster.staff.values()]
    teams = sorted({s.team for s in roster.staff.values() if s.team and s.team != "default"})
    return names + teams + [r.topic for r in roster.rooms.values() if r.topic], names


def load_analyzer(closing_model: str = "learned", typo_model: str | None = RECOMMENDED_TYPO, phrasing: bool = True,
                  lm_path: str | Path | None = None, protected_words: Iterable[str] = (), lang: str = "zh",
                  threads: int = 1, known_words: Iterable[str] | None = None,
                  colleagues: Iterable[str] = ()) -> Analyzer:
    """`lm_path`: the character LM for typos and fluency (None: the corpus LM, built on first use).
    `known_words`: never corrected, never blamed for low fluency (None: the product vocabulary,
    config/vocabulary.txt); `colleagues`: staff names (see `roster_words`)."""
    from sales_assistant.config.vocabulary import load_vocabulary
    from sales_assistant.models.lm import load_lm

    words = tuple(protected_words)
    known = tuple(load_vocabulary() if known_words is None else known_words)
    # One copy of the (100 MB) language model, shared by the typo and fluency checks.
    lm = load_lm(Path(lm_path) if lm_path else None) if (typo_model or phrasing) else None
    typo = (load_typo_corrector(typo_model, protected_words=words + known, lm_path=lm_path, lm=lm)
            if typo_model else None)
    checker = (load_phrasing_checker(lm, protected_words=words, known_words=known, colleagues=colleagues)
               if phrasing else None)
    return Analyzer(load_closing_detector(closing_model, threads=threads), typo, checker, lang)


