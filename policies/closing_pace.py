"""How many inbox entries the ingest takes per batch, so that one batch's closing labels fit in the time the
ingest waits for them (actors/ingest.py: NLP_TIMEOUT_S).

The ingest asks the closing actor once per batch and, past its timeout, labels the batch from the built-in
list (`nlp_fallback`). On a busy machine the actor gets a small share of a core, and a full batch then takes
most of the timeout (measured: 0.15-0.4 CPU-s per 1,000-entry batch, 1.1-2.0 s of wall time at load 17):
so the batch shrinks while calls take more than half the timeout, and grows back while they take less than
a quarter. The first batch is small too (`FIRST`), as nothing is known of the actor's pace yet: a full
first batch on a loaded machine was measured at 2.02 s, at the edge of the wait. Throughput is the actor's either
way; only the size of each wait changes. Pure.
"""
from __future__ import annotations

SMALLEST = 50  # entries: below this the per-batch costs (a call to each shard, a commit) dominate
FIRST = 200  # entries in the ingest's first batch (at most batch_size): grown from there while calls are quick


def first_batch_size(largest: int) -> int:
    return min(FIRST, largest)


def next_batch_size(current: int, call_s: float, timeout_s: float, largest: int) -> int:
    """The next batch's size after a closing call on a batch of `current` entries took `call_s` (the
    timeout itself when it did not answer); never above `largest` (the `batch_size` setting)."""
    if call_s > timeout_s / 2:
        return max(min(SMALLEST, largest, current), current // 2)
    if call_s < timeout_s / 4:
        return min(largest, max(current + 1, current * 5 // 4))
    return min(current, largest)
