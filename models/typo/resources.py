"""pycorrector's data files (confusion sets, word frequencies), read without importing pycorrector.

``import pycorrector`` pulls in torch and transformers (about 9 s here); its ``data/`` folder is
all we need, so we find the folder through the import system and read the files ourselves.
"""
from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def pycorrector_data_dir() -> Path:
    spec = importlib.util.find_spec("pycorrector")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pycorrector is not installed: pip install pycorrector==1.1.4")
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (path / "same_pinyin.txt").is_file():
        raise RuntimeError(f"{path} lacks same_pinyin.txt; pycorrector==1.1.4 ships it")
    return path


@dataclass
class Confusion:
    """Which characters a writer may have meant when typing ``c``, and how they are alike."""

    same_tone: dict[str, frozenset[str]] = field(default_factory=dict)  # same pinyin, same tone
    other_tone: dict[str, frozenset[str]] = field(default_factory=dict)  # same pinyin, other tone
    shape: dict[str, frozenset[str]] = field(default_factory=dict)  # look alike
    near_sound: dict[str, frozenset[str]] = field(default_factory=dict)  # alike under fuzzy pinyin

    def candidates(self, c: str) -> dict[str, int]:
        """candidate -> kind (0 same tone, 1 other tone, 2 shape, 3 near sound); closer kinds win."""
        out: dict[str, int] = {}
        for kind, table in ((3, self.near_sound), (2, self.shape), (1, self.other_tone), (0, self.same_tone)):
            for x in table.get(c, ()):
                out[x] = kind
        out.pop(c, None)
        return out


@lru_cache(maxsize=1)
def load_confusion() -> Confusion:
    """Symmetric confusion sets from same_pinyin.txt and same_stroke.txt."""
    data = pycorrector_data_dir()
    same: dict[str, set[str]] = {}
    other: dict[str, set[str]] = {}
    shape: dict[str, set[str]] = {}
    for line in (data / "same_pinyin.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        key = parts[0].strip()
        if len(key) != 1:
            continue
        for table, col in ((same, 1), (other, 2)):
            if len(parts) > col:
                for x in parts[col].strip():
                    if x != key and HAN.match(x):
                        table.setdefault(key, set()).add(x)
                        table.setdefault(x, set()).add(key)  # homophony is mutual
    for line in (data / "same_stroke.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        group = [x for x in line.split("\t") if len(x) == 1 and HAN.match(x)]
        for x in group:
            shape.setdefault(x, set()).update(y for y in group if y != x)
    # a pair in both tables is a homophone first
    for c, xs in other.items():
        xs -= same.get(c, set())
    near = _near_sounds(common_chars())
    freeze = lambda t: {k: frozenset(v) for k, v in t.items() if v}  # noqa: E731
    return Confusion(freeze(same), freeze(other), freeze(shape), freeze(near))


# The fuzzy-pinyin options every Chinese input method offers, because speakers of many dialects
# do not tell these sounds apart: a writer typing "zi" for 知 picks a character read "zi".
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("h", "f"), ("r", "l"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def fuzzy_pinyin(syllable: str) -> str:
    """A toneless syllable with the fuzzy pairs folded together (zhang -> zan)."""
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a):]
            break
    for a, b in _FUZZY_FINALS:
        if syllable.endswith(a):
            return syllable[: -len(a)] + b
    return syllable


def _near_sounds(chars: frozenset[str]) -> dict[str, set[str]]:
    """Common characters that share their reading once tones are dropped and fuzzy pairs folded."""
    from pypinyin import Style, pinyin  # installed with pycorrector

    by_sound: dict[str, set[str]] = {}
    for ch in sorted(chars):
        # the common reading only: rare ones (柴 zì, 拓 zhí) are not what a writer types
        reading = pinyin(ch, style=Style.NORMAL)[0][0]
        by_sound.setdefault(fuzzy_pinyin(reading), set()).add(ch)
    near: dict[str, set[str]] = {}
    for group in by_sound.values():
        for ch in group:
            near.setdefault(ch, set()).update(group - {ch})
    return near


@dataclass
class Lexicon:
    """Word unigram model from word_freq.txt (584 k words): log10 P(word)."""

    logp: dict[str, float]
    unknown_char: float  # a Han character that is no word on its own
    max_len: int = 4

    def best_path(self, text: str) -> tuple[float, int]:
        """Best segmentation score of ``text`` and how many of its characters sit in words of 2+."""
        n = len(text)
        best = [0.0] + [-1e9] * n
        multi = [0] * (n + 1)
        logp = self.logp
        for end in range(1, n + 1):
            # one character, always possible
            ch = text[end - 1]
            s = best[end - 1] + logp.get(ch, self.unknown_char)
            m = multi[end - 1]
            for k in range(2, min(self.max_len, end) + 1):
                w = logp.get(text[end - k:end])
                if w is not None:
                    cand = best[end - k] + w
                    if cand > s:
                        s, m = cand, multi[end - k] + k
            best[end] = s
            multi[end] = m
        return best[n], multi[n]


@lru_cache(maxsize=1)
def load_lexicon(min_freq: int = 1) -> Lexicon:
    path = pycorrector_data_dir() / "word_freq.txt"
    freqs: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not HAN.match(parts[0]) or len(parts[0]) > 4:
                continue
            try:
                freq = int(parts[1])
            except ValueError:
                continue
            if freq >= min_freq:
                freqs[parts[0]] = freqs.get(parts[0], 0) + freq
    total = float(sum(freqs.values()))
    logp = {w: math.log10(f / total) for w, f in freqs.items()}
    return Lexicon(logp=logp, unknown_char=math.log10(0.5 / total))


@lru_cache(maxsize=1)
def common_chars() -> frozenset[str]:
    text = (pycorrector_data_dir() / "common_char_set.txt").read_text(encoding="utf-8")
    return frozenset(ch for ch in text if HAN.match(ch))
