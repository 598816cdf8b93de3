"""The login backoff rule: free failures, then a wait that doubles per failure, up to the ceiling."""
from __future__ import annotations

from sales_assistant.policies.login import ACCOUNT, ADDRESS, Backoff


def test_the_wait_doubles_after_the_free_failures_up_to_the_ceiling():
    rule = Backoff(free=3, base_s=2, max_s=60, memory_s=600)
    assert [rule.wait_s(n) for n in range(1, 10)] == [0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert rule.wait_s(10_000) == 60  # no overflow however long the guessing goes on


def test_an_address_is_allowed_more_failures_than_an_account():
    assert ACCOUNT.wait_s(ACCOUNT.free - 1) == 0 and ACCOUNT.wait_s(ACCOUNT.free) > 0
    assert ADDRESS.free > ACCOUNT.free and ADDRESS.wait_s(ACCOUNT.free) == 0
