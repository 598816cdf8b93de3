"""The demo day: where the served demo puts it in time, and the staff-message labels that `bench nlp
--task staff` measures false alarms against."""
from __future__ import annotations

import pytest

from sales_assistant.benchmarks.nlp import demo_staff_messages, read_staff_labels, staff_check
from sales_assistant.cli.demo import replayed_day_line
from sales_assistant.core.timeutil import iso, onto_local_day, parse_iso

TZ = "Asia/Shanghai"
FIRST = parse_iso("2026-11-20T09:00:05+08:00", TZ)  # the demo day's first message
LAST = parse_iso("2026-11-20T21:30:00+08:00", TZ)


def placed(now: str) -> tuple[str, str]:
    """Where the day's first and last message land when the demo starts at `now`."""
    shift = onto_local_day(FIRST, parse_iso(now, TZ), TZ)
    return iso(FIRST + shift, TZ), iso(LAST + shift, TZ)


def test_a_morning_start_replays_the_morning_so_far_on_today() -> None:
    first, last = placed("2026-12-07T10:15:00+08:00")
    assert first == "2026-12-07T09:00:05+08:00" and last == "2026-12-07T21:30:00+08:00"  # the rest comes live


def test_an_afternoon_start_keeps_every_moment_at_its_local_time() -> None:
    assert placed("2026-12-07T15:40:00+08:00")[0] == "2026-12-07T09:00:05+08:00"
    assert placed("2026-12-07T09:00:05+08:00")[0] == "2026-12-07T09:00:05+08:00"  # the first moment is now


def test_a_late_night_start_shows_today_and_never_staff_working_at_three() -> None:
    first, last = placed("2026-12-07T23:30:00+08:00")
    assert first == "2026-12-07T09:00:05+08:00" and last == "2026-12-07T21:30:00+08:00"  # all of it past
    first, last = placed("2026-12-08T03:00:00+08:00")  # before the day's first moment: yesterday's day
    assert first == "2026-12-07T09:00:05+08:00" and last == "2026-12-07T21:30:00+08:00"


def test_other_time_zones_get_their_own_local_day() -> None:
    first = parse_iso("2026-11-20T09:00:05+01:00", "Europe/Berlin")
    shift = onto_local_day(first, parse_iso("2026-12-07T02:00:00+01:00", "Europe/Berlin"), "Europe/Berlin")
    assert iso(first + shift, "Europe/Berlin") == "2026-12-06T09:00:05+01:00"


def test_the_start_up_line_says_which_day_was_replayed() -> None:
    zh = replayed_day_line("2026-11-20T09:00:05+08:00", "2026-12-07T09:00:05+08:00", "2026-12-07T10:14:40+08:00",
                           1200, "zh")
    assert zh == "演示日 2026-11-20 的消息按本地日期 2026-12-07 的同一时刻回放：09:00–10:14 已回放，其余 1200 条消息将按时实时到达。"
    en = replayed_day_line("2026-11-20T09:00:05+08:00", "2026-12-07T09:00:05+08:00", "2026-12-07T21:30:00+08:00",
                           0, "en")
    assert en.startswith("The demo day 2026-11-20 is replayed on 2026-12-07") and en.endswith("the whole day is replayed.")


def test_every_demo_staff_message_is_labelled() -> None:
    messages, _ = demo_staff_messages()
    labels = read_staff_labels()
    assert [m.id for m in messages] == list(labels)  # regenerating the demo day means labelling it again
    wanted = {m.text for m in messages if labels[m.id] == 1}
    assert all(any(typo in t for typo in ("以经", "稍候", "登陆", "布署")) for t in wanted) and len(wanted) >= 10
    assert labels[next(m.id for m in messages if m.text == "在【设置-角色权限】里可以按模块勾选")] == 0


@pytest.mark.slow
def test_staff_checks_flag_at_most_two_percent_of_demo_staff_messages_wrongly() -> None:
    result = staff_check()
    assert result["n"] == len(read_staff_labels())
    assert result["wrongly_flagged"] / result["n"] <= 0.02, result["wrong"]
