"""The ingest's batch size follows the closing actor's pace (policies/closing_pace.py)."""
from __future__ import annotations

from sales_assistant.policies.closing_pace import FIRST, SMALLEST, first_batch_size, next_batch_size


def test_a_slow_call_halves_the_batch_down_to_a_floor():
    assert next_batch_size(1000, 1.2, 2.0, 1000) == 500  # more than half the timeout
    assert next_batch_size(1000, 2.0, 2.0, 1000) == 500  # no answer: the timeout itself
    assert next_batch_size(80, 1.9, 2.0, 1000) == SMALLEST
    assert next_batch_size(10, 1.9, 2.0, 20) == 10  # a batch_size setting below the floor stays the bound


def test_a_quick_call_grows_the_batch_back_to_the_setting_and_a_middling_one_keeps_it():
    assert next_batch_size(400, 0.3, 2.0, 1000) == 500
    assert next_batch_size(3, 0.1, 2.0, 1000) == 4  # grows from any size
    assert next_batch_size(900, 0.1, 2.0, 1000) == 1000
    assert next_batch_size(700, 0.8, 2.0, 1000) == 700


def test_from_a_full_batch_that_nearly_timed_out_to_one_that_fits():
    size, took_per_entry = 1000, 0.002  # 2 s a full batch: the actor's share of a core on a loaded machine
    for _ in range(10):
        size = next_batch_size(size, size * took_per_entry, 2.0, 1000)
    assert 250 <= size <= 500 and size * took_per_entry <= 1.0


def test_the_first_batch_is_small_until_the_actors_pace_is_known():
    assert first_batch_size(1000) == FIRST < 1000
    assert first_batch_size(20) == 20
    size = first_batch_size(1000)
    for _ in range(8):  # quick calls: back to the setting within a few batches
        size = next_batch_size(size, 0.1, 2.0, 1000)
    assert size == 1000
