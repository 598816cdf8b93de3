"""Spans of a message that no corrector may touch.

Names (the roster) and product or company names (the domain word list) come in as
``protected_words``; URLs, e-mail addresses, @mentions, numbers and emoji are found by pattern.
A typo that overlaps a protected span is dropped, whichever corrector proposed it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_URL = r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？、；：“”‘’（）《》【】]+"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# WeChat ends a mention with U+2005 (four-per-em space); accept any space or punctuation too
_MENTION = r"[@＠][^\s\u2005@＠，。！？、；：,.!?;:]{1,32}"
_NUMBER = r"[0-9０-９]+(?:[.,:：．][0-9０-９]+)*%?|[零〇一二两三四五六七八九十百千万亿]{2,}"
_EMOJI = (
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U0001F3FB-\U0001F3FF]+"
    r"|\[[\u4e00-\u9fff]{1,4}\]"  # WeChat's text emoji: [微笑] [抱拳]
)
_PATTERN = re.compile("|".join(f"(?:{p})" for p in (_URL, _EMAIL, _MENTION, _NUMBER, _EMOJI)))
_MENTION_PATTERN = re.compile(_MENTION)


def mentions(text: str) -> list[str]:
    """The names @mentioned in ``text``, as written."""
    return [m.group()[1:] for m in _MENTION_PATTERN.finditer(text)]


class Protector:
    """Finds protected spans; built once per corrector from the configured words."""

    def __init__(self, protected_words: Iterable[str] = ()):
        words = sorted({w.strip() for w in protected_words if w and w.strip()}, key=len, reverse=True)
        self.words = tuple(words)
        self._words = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = [m.span() for m in _PATTERN.finditer(text)]
        if self._words is not None:
            found += [m.span() for m in self._words.finditer(text)]
        return _merge(found)

    def mask(self, text: str) -> list[bool]:
        """``mask[i]`` is true when character i is protected."""
        out = [False] * len(text)
        for a, b in self.spans(text):
            for i in range(a, b):
                out[i] = True
        return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(a < end and start < b for a, b in spans)
