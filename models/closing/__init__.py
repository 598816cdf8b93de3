"""Closing-reply detection: does a customer's message close the exchange ("好的", 👌) or ask for more?

The pipeline asks one question through one interface, `ClosingDetector.scores`, and treats a
score of at least `threshold` as closing. Models register by name in `load_closing_detector`:

- "keywords": an exact list of acknowledgements; never wrong about a question, blind to the rest;
- "learned": rules where rules are right, a small local BERT for the rest (see MODEL_CARD.md);
- "learned-model": that BERT alone, for comparison.

`RECOMMENDED` is the one the evaluation favours; the pipeline picks by config (`closing_model`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol


class ClosingDetector(Protocol):
    name: str
    threshold: float
    # Lines scored so far ("lines") and how many of them reached a model ("model"); the rest were settled
    # by rules or a list. The pipeline reports the share that reaches the model from these two counts.
    stats: Counter[str]

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Probability, per text, that the message needs no answer. Batched on purpose."""
        ...


KNOWN_DETECTORS = ("keywords", "learned", "learned-model")
RECOMMENDED = "learned"


def is_closing(detector: ClosingDetector, texts: Sequence[str]) -> list[bool]:
    return [s >= detector.threshold for s in detector.scores(texts)]


def load_closing_detector(name: str = "keywords", *, threads: int = 1) -> ClosingDetector:
    """`threads` caps the BLAS threads of numpy's matrix products for the learned ones (process-wide)."""
    if name == "keywords":
        from sales_assistant.models.closing.keywords import KeywordClosing

        return KeywordClosing()
    if name in ("learned", "learned-model"):
        from sales_assistant.models.closing.learned import LearnedClosing

        return LearnedClosing(threads=threads, use_rules=name == "learned")
    raise ValueError(f"closing model {name!r} is unknown; known: {', '.join(KNOWN_DETECTORS)}")
