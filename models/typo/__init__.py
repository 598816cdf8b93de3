"""Typo (错别字) correction for what staff write, behind one batched interface.

``TypoCorrector.correct(texts)`` returns, per text, the corrected text and the typos found, each
with its character span in the *original* text. Correctors register by name in
``load_typo_corrector``; every one of them leaves ``protected_words`` (roster names, product and
company names), numbers, URLs, @mentions and emoji alone.

* ``ngram``: our corrector, models/typo/ngram_csc.py: character LM + word trigram LM +
  word lexicon + confusion sets, weights fitted on our own synthetic dev data. See MODEL_CARD.md.
* ``ngram-docs``: the same corrector with weights fitted on text of another domain (more recall,
  more false alarms); ``ngram-mixed``: fitted on both kinds of text.
* ``ngram+mlm`` (``RECOMMENDED``, the default) / ``ngram-docs+mlm`` / ``ngram-mixed+mlm``: the same with a
  contextual judge (models/typo/mlm.py: the pretrained ELECTRA-small encoder fine-tuned to name the meant
  character) as two more features.

The weights are fitted, the judge trained and every corrector measured in the lab (models/lab/typo/),
where pycorrector's own Kenlm-CSC also runs, as the baseline of the benchmark only.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Typo:
    """``text[start:end] == wrong`` in the original text; ``suggestion`` replaces it."""

    start: int
    end: int
    wrong: str
    suggestion: str


class TypoCorrector(Protocol):
    name: str

    def correct(self, texts: Sequence[str]) -> list[tuple[str, list[Typo]]]:
        """Per text: (corrected text, typos in order of position). Batched on purpose."""
        ...


def apply_typos(text: str, typos: Iterable[Typo]) -> str:
    """``text`` with each typo replaced by its suggestion (spans refer to ``text``)."""
    out = text
    for t in sorted(typos, key=lambda t: t.start, reverse=True):
        out = out[: t.start] + t.suggestion + out[t.end:]
    return out


# The ngram correctors' names: ngram[-CALIBRATION][+mlm], CALIBRATION as in ngram_csc.PARAMS_PATHS.
_CALIBRATIONS = {"ngram": "lm-dev", "ngram-docs": "docs", "ngram-mixed": "mixed"}
CORRECTORS = (*_CALIBRATIONS, *(f"{name}+mlm" for name in _CALIBRATIONS))
# The best sentence F1 within the limits (<= 3% of correct sentences changed, >= 100 a second on
# one core): MODEL_CARD.md, "Measured figures". The pipeline and `check` use it unless config says otherwise.
RECOMMENDED = "ngram+mlm"
# Where the +mlm correctors' judge (mlm.py) loads from; here, so that checks need not import torch.
JUDGE_ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "mlm"
JUDGE_TRAINED_BY = "sales_assistant.models.lab.typo.train_mlm"  # the module that writes JUDGE_ARTIFACTS


def load_typo_corrector(
    name: str = RECOMMENDED,
    protected_words: Iterable[str] = (),
    lm_path: str | Path | None = None,
    lm: object | None = None,
) -> TypoCorrector:
    """A corrector by name. ``lm_path`` defaults to the corpus LM, built on first use; ``lm``, an
    already loaded ``models.lm.CharLM``, lets several checks share one copy."""
    if name.removesuffix("+mlm") in _CALIBRATIONS:
        from sales_assistant.models.typo.ngram_csc import NgramCorrector

        judge = None
        if name.endswith("+mlm"):
            from sales_assistant.models.typo.mlm import CharJudge

            judge = CharJudge(threads=1)  # as the closing model: one intra-op thread per process
        return NgramCorrector(lm_path=lm_path, protected_words=protected_words, lm=lm,
                              calibration=_CALIBRATIONS[name.removesuffix("+mlm")], judge=judge)
    raise ValueError(f"typo corrector {name!r} is unknown; known: {', '.join(CORRECTORS)}")
