"""A character LM on top of ``kenlm.Model``: log10 scores of token windows, nothing more."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CharLM:
    """Scores sequences of single-character tokens (see ``models.lm.text.lm_tokens``)."""

    def __init__(self, path: str | Path):
        import kenlm  # imported late: only the LM needs the compiled extension

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no language model at {self.path}; build it with `python -m sales_assistant.models.lm`")
        config = kenlm.Config()
        config.show_progress = False  # kenlm draws its own bar on stderr otherwise
        config.arpa_complain = kenlm.ARPALoadComplain.NONE
        self._model = kenlm.Model(str(self.path), config)
        self.order: int = self._model.order
        self._score = self._model.score

    def __contains__(self, token: str) -> bool:
        """Whether the corpus had this token (otherwise the LM treats it as <unk>)."""
        return token in self._model

    def score(self, tokens: Sequence[str], bos: bool = True, eos: bool = True) -> float:
        """log10 P(tokens), with <s>/</s> around them when asked."""
        return self._score(" ".join(tokens), bos=bos, eos=eos)

    def token_scores(self, tokens: Sequence[str], bos: bool = True, eos: bool = True) -> list[float]:
        """log10 P of each token given its context, then of </s> when ``eos``: they sum to ``score``."""
        return [p for p, _, _ in self._model.full_scores(" ".join(tokens), bos=bos, eos=eos)]

    def window_delta(self, tokens: Sequence[str], i: int, replacement: str) -> float:
        """log10 P(sentence with tokens[i] replaced) - log10 P(sentence), computed on a window.

        With an order-n model only the n-grams that end in positions i .. i+n-1 change, and
        their contexts start no earlier than i-n+1; the rest of the sentence cancels out.
        """
        n = self.order
        lo = max(0, i - n + 1)
        hi = min(len(tokens), i + n)
        bos = lo == 0
        eos = hi == len(tokens)
        left = " ".join(tokens[lo:i])
        right = " ".join(tokens[i + 1:hi])
        before = f"{left} {tokens[i]} {right}".strip()
        after = f"{left} {replacement} {right}".strip()
        return self._score(after, bos=bos, eos=eos) - self._score(before, bos=bos, eos=eos)

    def perplexity(self, tokens: Sequence[str]) -> float:
        return self._model.perplexity(" ".join(tokens))
