"""The Lark sink's pacing: Lark's documented send limits (per app a second and a minute, per chat a second)
are kept by spacing sends, and a far-off turn is handed back to the notifier instead of blocking it."""
from __future__ import annotations

import pytest

from sales_assistant.actors.notifier import Backoff
from sales_assistant.connectors.lark import DeliveryError, SendPacer, rate_limit_reset


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_a_chat_gets_at_most_its_sends_a_second_and_other_chats_do_not_wait() -> None:
    t = FakeTime()
    pacer = SendPacer(per_second=50, per_minute=1000, per_chat_second=5, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        pacer.wait_turn("oc_a")
    pacer.wait_turn("oc_b")
    assert t.slept == []
    pacer.wait_turn("oc_a")  # the sixth into one chat within a second waits for the first to leave the window
    assert t.slept == [1.0]


def test_the_app_limit_a_second_spaces_sends_across_chats() -> None:
    t = FakeTime()
    pacer = SendPacer(per_second=3, per_minute=1000, per_chat_second=5, clock=t.clock, sleep=t.sleep)
    for chat in ("a", "b", "c", "d"):
        t.now += 0.1
        pacer.wait_turn(chat)
    assert t.slept == [0.7]  # the fourth waits until the first send is a second old


def test_a_turn_further_off_than_a_second_is_handed_back_with_when() -> None:
    t = FakeTime()
    pacer = SendPacer(per_second=50, per_minute=2, per_chat_second=5, clock=t.clock, sleep=t.sleep)
    pacer.wait_turn("a")
    t.now += 10
    pacer.wait_turn("b")
    with pytest.raises(DeliveryError) as caught:
        pacer.wait_turn("c")
    assert caught.value.retry_after_s == pytest.approx(50.0) and not caught.value.lark_answered
    assert t.slept == []


def test_lark_s_reset_header_is_read_whatever_its_case_and_defaults_to_a_second() -> None:
    class Raw:
        def __init__(self, headers: dict) -> None:
            self.headers = headers

    assert rate_limit_reset(Raw({"X-Ogw-Ratelimit-Reset": "52"})) == 52.0
    assert rate_limit_reset(Raw({})) == 1.0 and rate_limit_reset(None) == 1.0


def test_the_notifier_waits_at_least_as_long_as_the_sink_asks() -> None:
    retry = Backoff()
    retry.failed(1_000)
    assert retry.at == 1_500  # its own backoff: half a second first
    retry.failed(1_000, at_least_s=52)
    assert retry.at == 53_000
    retry.succeeded()
    assert retry.at == 0
