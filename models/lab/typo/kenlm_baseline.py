"""pycorrector's Kenlm-CSC (``pycorrector.Corrector``) on our LM: the benchmark baseline.

It is pycorrector's code unchanged, given ``language_model_path=`` so that it never downloads its
own 2.9 GB model. We only translate its output into ``Typo`` and drop what touches protected spans.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from sales_assistant.models.typo import Typo, apply_typos
from sales_assistant.models.typo.protect import Protector, overlaps


@contextlib.contextmanager
def _quiet_stderr():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class KenlmCscBaseline:
    name = "kenlm-csc"

    def __init__(self, lm_path: str | Path | None = None, protected_words: Iterable[str] = ()):
        import logging

        from loguru import logger
        from pycorrector.corrector import Corrector  # heavy: imports torch and transformers

        from sales_assistant.models.lm import build_lm

        logger.remove()  # pycorrector logs every loaded file at DEBUG
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self.lm_path = Path(lm_path) if lm_path else build_lm()
        self._corrector = Corrector(language_model_path=str(self.lm_path))
        with _quiet_stderr():  # kenlm draws a loading bar on the C++ side
            self._corrector.check_detector_initialized()
            self._corrector.check_corrector_initialized()
        self.protector = Protector(protected_words)

    def correct(self, texts: Sequence[str]) -> list[tuple[str, list[Typo]]]:
        out = []
        for text in texts:
            result = self._corrector.correct(text)
            spans = self.protector.spans(text)
            typos = []
            for wrong, right, begin in result["errors"]:
                typo = Typo(begin, begin + len(wrong), wrong, right)
                if text[typo.start:typo.end] == wrong and not overlaps(typo.start, typo.end, spans):
                    typos.append(typo)
            typos.sort(key=lambda t: t.start)
            out.append((apply_typos(text, typos), typos))
        return out
