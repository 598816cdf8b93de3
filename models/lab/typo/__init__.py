"""The typo correctors' lab: fitting, training and measuring what models/typo/ serves.

* ``tune.py`` fits the ngram correctors' weights (the ngram_csc*.json files serving loads) on typos that
  ``synth.py`` samples into clean text the LM never saw (its held-out sentences, or ``calibration.py``'s
  Debian documentation);
* ``train_mlm.py`` fine-tunes the contextual judge of the ``+mlm`` correctors;
* ``evaluate.py`` measures correctors side by side on the sets of ``datasets.py`` (SIGHAN-2015,
  ``corpus500.py``, our own dev pairs, any TSV), with the scores of ``metrics.py``;
* ``kenlm_baseline.py`` is pycorrector's own Kenlm-CSC, the benchmark's baseline: measured, never served.

``EVALUATED`` names every corrector the benchmark compares, ``load_corrector`` loads any of them.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sales_assistant.models.typo import CORRECTORS, TypoCorrector, load_typo_corrector

BASELINE = "kenlm-csc"
EVALUATED = (*CORRECTORS, BASELINE)


def load_corrector(name: str, protected_words: Iterable[str] = (), lm_path: str | Path | None = None) -> TypoCorrector:
    """A product corrector (``models.typo.load_typo_corrector``) or the baseline, by name."""
    if name not in EVALUATED:
        raise ValueError(f"typo corrector {name!r} is unknown; known: {', '.join(EVALUATED)}")
    if name == BASELINE:
        from sales_assistant.models.lab.typo.kenlm_baseline import KenlmCscBaseline

        return KenlmCscBaseline(lm_path=lm_path, protected_words=protected_words)
    return load_typo_corrector(name, protected_words=protected_words, lm_path=lm_path)
