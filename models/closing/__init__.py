"""Closing-reply detection: does a customer's message close the exchange ("好的", 👌) or ask for more?

The pipeline asks one question through one interface, `ClosingDetector.scores`, and treats a
score of at least `threshold` as closing. Models register by name in `load_closing_detector`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ClosingDetector(Protocol):
    name: str
    threshold: float

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Probability, per text, that the message needs no answer. Batched on purpose."""
        ...


def is_closing(detector: ClosingDetector, texts: Sequence[str]) -> list[bool]:
    return [s >= detector.threshold for s in detector.scores(texts)]


def load_closing_detector(name: str = "keywords") -> ClosingDetector:
    if name == "keywords":
        from models.closing.keywords import KeywordClosing

        return KeywordClosing()
    raise ValueError(f"closing model {name!r} is unknown; known: keywords")
