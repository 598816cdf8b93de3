"""One normalisation and one tokeniser for chat lines, shared by the rules, training and inference.

Training and serving must cut text the same way, so both import this module and nothing else does it.
`normalize` is what the rules read. `tokenize` splits a line into characters, except for the few
things whose spelling carries no meaning for the task (a link is `<url>`, an @mention is `<at>`, a run
of digits is `<num>`, a WeChat emoticon code such as `[抱拳]` stays one token); the rules and the data
checks use it. The model reads word pieces of the pretrained backbone's vocabulary (`PieceEncoder`).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

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


class PieceEncoder:
    """Text -> [CLS] word-piece ids [SEP] in the pretrained backbone's vocabulary (bert-base-chinese's:
    one token per Chinese character, word pieces for Latin words and digits).

    The line is first normalised as everywhere else (`normalize`), and every symbol is set apart by
    spaces so that an emoji never glues onto a neighbouring word. Symbols the backbone does not know
    (most emoji) can take over its unused slots: see `extend_vocab`. A long message keeps its head and
    its tail, where the closing sits."""

    def __init__(self, vocab: Sequence[str], max_length: int):
        from tokenizers import Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import WordPiece

        self.vocab = list(vocab)
        ids = {t: i for i, t in enumerate(self.vocab)}
        self.cls, self.sep, self.pad, self.unk = ids[CLS], ids[SEP], ids[PAD], ids[UNK]
        self.max_length = max_length
        tokenizer = Tokenizer(WordPiece(ids, unk_token=UNK, max_input_chars_per_word=100))
        tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                          strip_accents=None, lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        self._tokenizer = tokenizer

    def pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids without [CLS] / [SEP] and uncut."""
        encoded = self._tokenizer.encode_batch([_SYMBOL.sub(r" \1 ", normalize(t)) for t in texts],
                                               add_special_tokens=False)
        return [e.ids for e in encoded]

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        room = self.max_length - 2
        out = []
        for ids in self.pieces(texts):
            if len(ids) > room:
                head = room // 2
                ids = ids[:head] + ids[len(ids) - (room - head):]
            out.append([self.cls, *ids, self.sep])
        return out


_SYMBOL = re.compile(r"([^\w\s])")
_UNUSED = re.compile(r"\[unused\d+\]")


def extend_vocab(vocab: Sequence[str], texts: Iterable[str], min_freq: int = 2) -> list[str]:
    """The backbone's vocabulary with its `[unusedN]` slots given to the characters of `texts` (training
    lines only) that it reads as [UNK], at least `min_freq` times, most frequent first: 👌 🙏 😡 get
    an embedding of their own, learnt in fine-tuning, instead of sharing [UNK]."""
    encoder = PieceEncoder(vocab, 8)
    counts = Counter(c for text in texts for c in normalize(text) if not c.isspace())
    unknown = sorted((c for c, n in counts.items() if n >= min_freq and encoder.pieces([c]) == [[encoder.unk]]),
                     key=lambda c: (-counts[c], c))
    out = list(vocab)
    slots = [i for i, t in enumerate(out) if _UNUSED.fullmatch(t)]
    for i, c in zip(slots, unknown):
        out[i] = c
    return out
