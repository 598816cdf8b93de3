"""One normalisation and one tokeniser for chat lines, shared by the rules, training and inference.

Training (models/lab/closing/) and serving must cut text the same way, so both import this module and
nothing else does it. `normalize` is what the rules and the data set's checks read; the model reads word
pieces of the pretrained backbone's vocabulary (`PieceEncoder`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

PAD, UNK, CLS, SEP = "[PAD]", "[UNK]", "[CLS]", "[SEP]"

# Emoji presentation selectors and skin tones change how an emoji looks, not what it says.
_DECORATION = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_SPACES = re.compile(r"\s+")
_SYMBOL = re.compile(r"([^\w\s])")  # set apart by spaces before word pieces


def normalize(text: str) -> str:
    """NFKC folds full-width forms (`？` `，` `ＯＫ`) and WeChat's U+2005 mention space into plain ones."""
    text = unicodedata.normalize("NFKC", text)
    text = _DECORATION.sub("", text).lower()
    return _SPACES.sub(" ", text).strip()


class PieceEncoder:
    """Text -> [CLS] word-piece ids [SEP] in the pretrained backbone's vocabulary (bert-base-chinese's:
    one token per Chinese character, word pieces for Latin words and digits).

    The line is first normalised as everywhere else (`normalize`), and every symbol is set apart by
    spaces so that an emoji never glues onto a neighbouring word. Symbols the backbone does not know
    (most emoji) take over its unused slots in training (models/lab/closing/train.py, `extend_vocab`).
    A long message keeps its head and its tail, where the closing sits."""

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
