"""A word trigram LM trained on far more text than ours: libime's, from Debian's packages.

Debian's ``libime-data-language-model`` (LGPL-2.1+, see CORPUS.md) ships ``zh_CN.lm``, the
language model of the fcitx5 pinyin input method: a KenLM binary (format 5) of 164,887 words,
1.98 M bigrams and 0.63 M trigrams, built by the fcitx project from large general text. A pinyin
input method picks among homophones with it, which is the very choice a typo corrector has to
judge. It has no punctuation and no sentence markers: it scores runs of Han words.

``find_word_lm()`` uses the installed package, or the file already fetched into the LM dir, or
fetches the package with ``apt-get download`` (no root needed) and unpacks it there. The model is
memory-mapped, so loading takes milliseconds. Words are found by a unigram segmentation over the
model's own vocabulary, read from the binary (KenLM writes it after the model data).
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

from sales_assistant.models.debian_fetch import unpacked
from sales_assistant.models.lm.corpus import CorpusUnavailable
from sales_assistant.models.lm.paths import lm_dir
from sales_assistant.models.pypi_fetch import FetchFailed

PACKAGE = "libime-data-language-model"
FILE_NAME = "zh_CN.lm"
SYSTEM_PATHS = (
    Path("/usr/lib/x86_64-linux-gnu/libime") / FILE_NAME,
    Path("/usr/lib/aarch64-linux-gnu/libime") / FILE_NAME,
    Path("/usr/lib/libime") / FILE_NAME,
)
MAX_WORD = 6  # longer words are rare in the vocabulary (250 of 164,887) and cost lattice time
UNKNOWN_CHAR_PENALTY = 2.0  # log10 below the rarest word, for a character the vocabulary lacks


def find_word_lm(directory: Path | None = None, download: bool = True) -> Path:
    """The path of ``zh_CN.lm``, fetching the Debian package into the LM dir if needed."""
    for path in SYSTEM_PATHS:
        if path.is_file():
            return path
    directory = directory or lm_dir()
    cached = directory / FILE_NAME
    if cached.is_file():
        return cached
    if not download:
        raise CorpusUnavailable(f"no {FILE_NAME}: install it with `apt-get install {PACKAGE}`")
    return _fetch(directory)


def _fetch(directory: Path) -> Path:
    try:
        with unpacked([PACKAGE], directory) as root:
            found = list(root.rglob(FILE_NAME))
            if not found:
                raise FetchFailed(f"{PACKAGE} holds no {FILE_NAME}")
            target = directory / FILE_NAME
            shutil.move(str(found[0]), target)
    except FetchFailed as exc:
        raise CorpusUnavailable(f"{exc}; install it with `apt-get update && apt-get install {PACKAGE}` (as root), "
                                f"or copy its {FILE_NAME} into {directory}") from exc
    return target


def read_vocabulary(path: Path) -> list[str]:
    """The words of a KenLM binary, in id order (``<unk>`` first), from the strings at its end."""
    data = path.read_bytes()
    start = data.rfind(b"<unk>\x00")
    if start < 0:
        raise ValueError(f"{path}: no vocabulary in this KenLM binary")
    return [w.decode("utf-8") for w in data[start:].split(b"\x00")[1:] if w]


class WordLM:
    """log10 scores of Han text under the word trigram model, after a unigram segmentation."""

    def __init__(self, path: str | Path | None = None):
        import kenlm  # the compiled extension, only when a word LM is wanted

        self.path = Path(path) if path else find_word_lm()
        self._model = kenlm.Model(str(self.path))
        self._score = self._model.score
        score = self._score
        self.logp = {w: score(w, bos=False, eos=False) for w in read_vocabulary(self.path)}
        self.unknown_char = min(self.logp.values()) - UNKNOWN_CHAR_PENALTY

    def segment(self, text: str) -> list[str]:
        """The most probable split of a Han run into vocabulary words (unknown characters alone)."""
        n = len(text)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        logp = self.logp
        for end in range(1, n + 1):
            s = best[end - 1] + logp.get(text[end - 1], self.unknown_char)
            b = end - 1
            for start in range(max(0, end - MAX_WORD), end - 1):
                w = logp.get(text[start:end])
                if w is not None and best[start] + w > s:
                    s, b = best[start] + w, start
            best[end] = s
            back[end] = b
        words = []
        end = n
        while end > 0:
            words.append(text[back[end]:end])
            end = back[end]
        words.reverse()
        return words

    def score(self, text: str) -> float:
        """log10 P(text) as one run of words (no sentence markers: the model has none)."""
        return self._score(" ".join(self.segment(text)), bos=False, eos=False)
