"""Data a test measures on that does not live in the repository (the corpus LM, corpus500).

`make test` fetches it first (`make data`, into $SA_MODEL_DIR). When it is missing the test fails, never
skips: a run that skipped would pass without checking the figure it is there to check.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from sales_assistant.models.lm import CorpusUnavailable
from sales_assistant.models.pypi_fetch import FetchFailed

T = TypeVar("T")


def required(load: Callable[[], T]) -> T:
    """`load()`, or a failure that says how to fetch what it could not read."""
    try:
        return load()
    except (CorpusUnavailable, FetchFailed) as exc:
        pytest.fail(f"the data this test measures on is missing; run `make data` once, with network: {exc}")


def corpus_lm():
    """The path of the corpus LM the shipped thresholds were fitted to (built once, then cached)."""
    from sales_assistant.models.lm import build_lm

    return required(lambda: build_lm(show_progress=False))
