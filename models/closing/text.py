"""One normalisation and one tokeniser for chat lines, shared by the rules, training and inference.

Training and serving must cut text the same way, so both import this module and nothing else does it.
Tokens are characters, except for the few things whose spelling carries no meaning for the task:
a link is `<url>`, an @mention is `<at>`, a run of digits is `<num>`, and a WeChat emoticon code such
as `[抱拳]` stays one token.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

PAD, UNK, CLS, SEP = "[PAD]", "[UNK]", "[CLS]", "[SEP]"
SPECIALS = (PAD, UNK, CLS, SEP)

# Emoji presentation selectors and skin tones change how an emoji looks, not what it says.
_DECORATION = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_SPACES = re.compile(r"\s+")
_PIECES = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s\u4e00-\u9fff]+)"
    r"|(?P<at>@[^\s@]{1,20})"
    r"|(?P<code>\[[^\[\]\s]{1,6}\])"
    r"|(?P<num>\d+)"
    r"|(?P<char>\S)"
)


def normalize(text: str) -> str:
    """NFKC folds full-width forms (`？` `，` `ＯＫ`) and WeChat's U+2005 mention space into plain ones."""
    text = unicodedata.normalize("NFKC", text)
    text = _DECORATION.sub("", text).lower()
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    out: list[str] = []
    for m in _PIECES.finditer(normalize(text)):
        kind = m.lastgroup
        out.append(m.group() if kind in ("code", "char") else f"<{kind}>")
    return out


def bigrams(tokens: Sequence[str]) -> list[str]:
    """Each token with the one before it ("^" at the start): 不错 is a word, 不 alone is not."""
    return [a + b for a, b in zip(["^", *tokens[:-1]], tokens, strict=True)]


class CharVocab:
    """Token <-> id, built from training text only; anything unseen there reads as [UNK]."""

    def __init__(self, tokens: Sequence[str]):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("a vocabulary lists each token once")

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 2) -> CharVocab:
        return cls.from_tokens((tokenize(text) for text in texts), min_freq)

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Sequence[str]], min_freq: int, limit: int | None = None) -> CharVocab:
        counts = Counter(t for tokens in token_lists for t in tokens)
        kept = sorted((t for t, n in counts.items() if n >= min_freq and t not in SPECIALS),
                      key=lambda t: (-counts[t], t))
        return cls([*SPECIALS, *kept[:limit]])

    @classmethod
    def load(cls, path: Path) -> CharVocab:
        return cls(path.read_text(encoding="utf-8").split("\n")[:-1])

    def save(self, path: Path) -> None:
        path.write_text("".join(f"{t}\n" for t in self.tokens), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.tokens)


class Encoder:
    """Text -> ([CLS] token ids [SEP], the matching bigram ids). Without a bigram vocabulary the second
    list is all zeros. The bigram ids ride in BERT's token-type slot: an embedding added per position."""

    def __init__(self, chars: CharVocab, pairs: CharVocab | None, max_length: int):
        self.chars, self.pairs, self.max_length = chars, pairs, max_length

    def encode(self, text: str) -> tuple[list[int], list[int]]:
        tokens = tokenize(text)
        room = self.max_length - 2
        if len(tokens) > room:  # a long message keeps its head and its tail, where the closing sits
            head = room // 2
            tokens = tokens[:head] + tokens[len(tokens) - (room - head):]
        ids = [2, *(self.chars.ids.get(t, 1) for t in tokens), 3]
        if self.pairs is None:
            return ids, [0] * len(ids)
        return ids, [2, *(self.pairs.ids.get(b, 1) for b in bigrams(tokens)), 3]
