"""Text -> LM tokens. One token per character, so token i is character i of the text.

The same function feeds the n-gram counter and the corrector's queries: whatever the LM saw at
build time is what it is asked about at run time. Full-width forms fold to half-width (NFKC),
digits fold to ``0`` and Latin letters to lower case, whitespace becomes a comma (reviews use
spaces as clause breaks). Nothing here changes the length of the text.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

BOS = "\x02"  # <s> inside our n-gram strings
EOS = "\x03"  # </s>
SENTENCE_END = "。！？!?；;…"

_SPLIT = re.compile(r"[^。！？!?；;…\n]*(?:[。！？!?；;…]+[”’」』）)]*|\n|$)")


@lru_cache(maxsize=65536)
def lm_token(ch: str) -> str:
    """The LM token for one character (always exactly one character long)."""
    if ch.isspace():
        return ","
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        return ch
    if folded.isdigit():
        return "0"
    if "A" <= folded <= "Z":
        return folded.lower()
    if folded in (BOS, EOS) or unicodedata.category(folded) in ("Cc", "Cf"):
        return ","
    return folded


def lm_tokens(text: str) -> list[str]:
    """Tokens for ``text``, aligned one to one with its characters."""
    return [lm_token(ch) for ch in text]


def split_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``; the end punctuation stays inside.

    The LM is trained on these units (with <s> and </s> around them) and queried on the same.
    """
    for m in _SPLIT.finditer(text):
        start, end = m.span()
        # strip surrounding whitespace and a lone newline
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end
