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


class CharVocab:
    """Token <-> id, built from the training split only; anything unseen there reads as [UNK]."""

    def __init__(self, tokens: Sequence[str]):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("a vocabulary lists each token once")

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 2) -> CharVocab:
        counts = Counter(t for text in texts for t in tokenize(text))
        kept = sorted((t for t, n in counts.items() if n >= min_freq and t not in SPECIALS),
                      key=lambda t: (-counts[t], t))
        return cls([*SPECIALS, *kept])

    @classmethod
    def load(cls, path: Path) -> CharVocab:
        return cls(path.read_text(encoding="utf-8").split("\n")[:-1])

    def save(self, path: Path) -> None:
        path.write_text("".join(f"{t}\n" for t in self.tokens), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, max_length: int) -> list[int]:
        """[CLS] tokens [SEP]; a long message keeps its head and its tail, where the closing sits."""
        ids = [self.ids.get(t, 1) for t in tokenize(text)]
        room = max_length - 2
        if len(ids) > room:
            head = room // 2
            ids = ids[:head] + ids[len(ids) - (room - head):]
        return [2, *ids, 3]
