"""A late alert on the Lark card: an alert whose threshold was crossed during an outage still goes out,
with its true moment, and the card says how late it comes and whether the wait has ended since."""
from __future__ import annotations

from sales_assistant.connectors.lark import build_alert_card
from sales_assistant.connectors.sinks import late_minutes
from tests.unit.test_lark_card import AT, TZ, make_alert, texts


def test_a_card_delivered_minutes_after_its_threshold_says_how_late_beside_the_true_moment():
    card = build_alert_card(make_alert(late_minutes=41), tz=TZ)
    shown = texts(card)
    assert any(line.startswith("迟到 41 分钟送达") and "14:05" in line for line in shown), shown
    en = texts(build_alert_card(make_alert(late_minutes=41), lang="en", tz=TZ))
    assert any(line.startswith("Delivered 41 min late") and "14:05" in line for line in en), en


def test_a_card_on_time_says_nothing_of_lateness():
    for alert in (make_alert(), make_alert(late_minutes=0)):
        assert not any("迟到" in line for line in texts(build_alert_card(alert, tz=TZ)))


def test_a_late_card_whose_wait_ended_since_says_both():
    card = build_alert_card(make_alert(late_minutes=30, answered=True), tz=TZ)
    assert card["header"]["title"]["content"].endswith("（此后已回复或已处理）")
    assert any(line.startswith("迟到 30 分钟送达") for line in texts(card))


def test_lateness_counts_from_the_threshold_and_is_shown_from_two_minutes_on():
    assert late_minutes(AT, AT + 119_999) == 0  # a second or a minute behind is the normal path
    assert late_minutes(AT, AT + 2 * 60_000) == 2
    assert late_minutes(AT, AT + 40 * 60_000 + 59_000) == 40
    assert late_minutes(AT, AT - 60_000) == 0
