"""policies/backlog.py: a sink's waiting cards past the bound fold per room, then into team summaries;
every alert stays accounted for and the cards keep the stream's order."""
from __future__ import annotations

import orjson
import pytest

from sales_assistant.config.settings import ConfigError, load_settings
from sales_assistant.connectors.lark import build_alert_card, build_catch_up_card
from sales_assistant.policies.backlog import Card, fold_backlog

TZ = "Asia/Shanghai"

LEVELS = ["green", "yellow", "orange", "red", "purple", "grey"]


def alert(n: int, room: str, level: str = "green", team: str | None = "east", targets=("private",)) -> Card:
    return Card.of(f"{1000 + n}-0", {"alert_id": f"a{n}", "room_id": room, "clock_id": f"c-{room}", "level": level,
                                      "waited_minutes": 5 * (LEVELS.index(level) + 1), "at": 1_795_136_400_000 + n,
                                      "topic": f"群{room}", "owner_id": "s1", "team": team, "targets": list(targets)})


def delivered(cards: list[Card]) -> int:
    return sum(c.stands_for() for c in cards)


def test_under_the_bound_nothing_folds():
    waiting = [alert(i, f"R{i}") for i in range(5)]
    folding = fold_backlog(waiting, 5)
    assert folding.cards == waiting and not folding.changed


def test_a_rooms_earlier_alerts_fold_into_its_newest_and_reach_every_chat_they_named():
    waiting = [alert(1, "R1", "green"), alert(2, "R2"), alert(3, "R1", "yellow"),
               alert(4, "R1", "orange", targets=("private", "public")), alert(5, "R3")]
    folding = fold_backlog(waiting, 3)
    assert [c.entry_id for c in folding.cards] == ["1002-0", "1004-0", "1005-0"]  # stream order kept
    r1 = folding.cards[1]
    assert r1.alert["alert_id"] == "a4" and r1.folded == 2 and r1.targets == ("private", "public")
    assert [e["alert_id"] for e in r1.earlier] == ["a1", "a3"]
    assert set(folding.absorbed) == {"1001-0", "1003-0"} and delivered(folding.cards) == 5
    assert sorted(folding.moves) == [("a1", "1003-0"), ("a3", "1004-0")]


def test_more_rooms_than_the_bound_fold_the_oldest_into_one_summary_per_team():
    waiting = [alert(i, f"R{i}", team="east" if i % 2 else "west") for i in range(20)]
    folding = fold_backlog(waiting, 10)
    assert len(folding.cards) == 10 and delivered(folding.cards) == 20
    summaries = [c for c in folding.cards if c.is_summary]
    assert {s.team for s in summaries} == {"east", "west"}
    assert folding.cards[:2] == sorted(summaries, key=lambda c: c.entry_id)  # the oldest go out first
    assert [c.alert["alert_id"] for c in folding.cards[2:]] == [f"a{i}" for i in range(12, 20)]
    accounted = {a for a, _ in folding.moves} | {c.alert["alert_id"] for c in folding.cards if c.alert}
    assert accounted == {f"a{i}" for i in range(20)}


def test_folding_again_merges_into_the_cards_that_already_carry_alerts():
    first = fold_backlog([alert(i, f"R{i % 4}") for i in range(12)], 3)
    assert len(first.cards) == 3 and delivered(first.cards) == 12
    again = fold_backlog(first.cards + [alert(20 + i, f"N{i}") for i in range(6)], 3)
    assert len(again.cards) == 3 and delivered(again.cards) == 18
    summary = again.cards[0]
    assert summary.is_summary and sum(line.alerts for line in summary.rooms) == summary.folded


def test_the_bound_must_be_positive():
    with pytest.raises(ValueError):
        fold_backlog([], 0)


def test_cards_say_what_they_carry_in_chinese_first():
    folding = fold_backlog([alert(i, "R1", LEVELS[i]) for i in range(4)] + [alert(9, "R2")], 1)
    (summary,) = folding.cards
    card = build_catch_up_card([line.__dict__ for line in summary.rooms], summary.folded, tz=TZ)
    text = str(card)
    assert "提醒积压 · 5 条提醒汇总（2 个群）" in text and "群R1" in text and "最高红色" in text
    assert "Alerts queued for Lark · 5 alerts" in str(build_catch_up_card([line.__dict__ for line in summary.rooms], 5, "en", tz=TZ))
    room = fold_backlog([alert(i, "R1", LEVELS[i]) for i in range(4)], 1).cards[0]
    body = str(build_alert_card({**room.alert, "folded": room.folded, "earlier": list(room.earlier)}, tz=TZ))
    assert "另有 3 条较早的提醒" in body and "黄色提醒 · 已等待 10 分钟" in body


def test_max_waiting_is_named_when_wrong():
    with pytest.raises(ConfigError, match="lark.max_waiting"):
        load_settings(lark={"max_waiting": 3})


def test_a_summary_line_keeps_the_wait_of_its_rooms_newest_alert_and_marks_it_when_answered():
    waiting = [alert(1, "R1"), Card.of("1002-0", {**alert(2, "R1").alert, "clock_id": "c-R1-new"}), alert(3, "R2")]
    (summary,) = fold_backlog(waiting, 1).cards
    assert {line.room_id: line.clock_id for line in summary.rooms} == {"R1": "c-R1-new", "R2": "c-R2"}
    rows = [line.__dict__ | {"answered": line.room_id == "R1"} for line in summary.rooms]
    zh, en = str(build_catch_up_card(rows, 3, tz=TZ)), str(build_catch_up_card(rows, 3, "en", tz=TZ))
    assert zh.count("（此后已回复或已处理）") == 1 and "其中 1 个群此后已回复或已处理" in zh
    assert "1 of these rooms were answered or handled since" in en


def test_a_summary_stored_before_lines_had_a_wait_still_loads():
    from sales_assistant.store.folds import card_from_json, card_to_json

    (summary,) = fold_backlog([alert(i, f"R{i}") for i in range(3)], 1).cards
    stored = orjson.loads(card_to_json(summary))
    for line in stored["rooms"]:
        del line["clock_id"]
    again = card_from_json(summary.entry_id, orjson.dumps(stored))
    assert [line.clock_id for line in again.rooms] == [None] * 3 and again.folded == summary.folded
