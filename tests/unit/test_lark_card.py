"""The Lark alert card: colour per level, both languages, and customer text that cannot inject markup."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sales_assistant.connectors.lark import (
    SNOOZE_MINUTES,
    LarkSettings,
    action_note,
    build_alert_card,
    build_catch_up_card,
    build_digest_card,
    idempotency_key,
)

AT = int(datetime(2026, 11, 23, 6, 5, tzinfo=UTC).timestamp() * 1000)  # 14:05 in Shanghai
TZ = "Asia/Shanghai"  # the service's `timezone` in these tests


def make_alert(**overrides: Any) -> dict[str, Any]:
    alert = {
        "alert_id": "room-1/clock-1/2",
        "room_id": "room-1",
        "clock_id": "clock-1",
        "step": 2,
        "level": "orange",
        "waited_minutes": 20,
        "targets": ["private", "public"],
        "owner_id": "s-li",
        "owner_name": "李雷",
        "team": "east",
        "stage": "pre_sales",
        "topic": "华东客户群 A",
        "at": AT,
        "started_at": AT - 20 * 60_000,
        "customer_name": "王女士",
        "last_text": "请问这款什么时候发货？",
    }
    alert.update(overrides)
    return alert


def texts(card: dict) -> list[str]:
    """Every text shown on the card, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("tag") in ("plain_text", "lark_md"):
                found.append(node["content"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def tags(card: Any) -> set[str]:
    if isinstance(card, dict):
        return {card.get("tag", "")} | {t for v in card.values() for t in tags(v)}
    if isinstance(card, list):
        return {t for v in card for t in tags(v)}
    return set()


@pytest.mark.parametrize("level", ["green", "yellow", "orange", "red", "purple", "grey"])
def test_header_carries_the_level_colour(level: str) -> None:
    card = build_alert_card(make_alert(level=level), tz=TZ)
    assert card["header"]["template"] == level
    assert card["config"] == {"wide_screen_mode": True, "update_multi": True}  # shared: an update shows to all
    assert card["header"]["title"]["tag"] == "plain_text"


def test_unknown_level_is_shown_loud() -> None:
    assert build_alert_card(make_alert(level="magenta"), tz=TZ)["header"]["template"] == "red"


def test_chinese_by_default() -> None:
    card = build_alert_card(make_alert(), tz=TZ)
    shown = "\n".join(texts(card))
    assert card["header"]["title"]["content"] == "橙色提醒 · 客户已等待 20 分钟"
    for expected in ("群聊：华东客户群 A", "负责人：李雷", "等待时长：20 分钟", "阶段：售前",
                     "超时时刻（Asia/Shanghai）：2026-11-23 14:05:00", "客户：王女士",
                     "请问这款什么时候发货？", "room-1/clock-1/2"):
        assert expected in shown


def test_english_on_request() -> None:
    card = build_alert_card(make_alert(stage="after_sales", level="red", waited_minutes=30), lang="en", tz=TZ)
    shown = "\n".join(texts(card))
    assert card["header"]["title"]["content"] == "Red alert · customer waiting 30 min"
    for expected in ("Room：华东客户群 A", "Owner：李雷", "Waited：30 min", "Stage：After-sales",
                     "Overdue since (Asia/Shanghai)：2026-11-23 14:05:00", "Customer：王女士"):
        assert expected in shown
    assert "售后" not in shown


def test_after_sales_stage_in_chinese() -> None:
    assert "阶段：售后" in texts(build_alert_card(make_alert(stage="after_sales"), tz=TZ))


@pytest.mark.parametrize(("lang", "word"), [("zh", "无负责人"), ("en", "unassigned")])
def test_unassigned_room(lang: str, word: str) -> None:
    shown = texts(build_alert_card(make_alert(owner_id=None, owner_name=None), lang=lang, tz=TZ))
    assert any(text.endswith(word) for text in shown)


def test_missing_topic_and_names_fall_back_to_ids() -> None:
    shown = "\n".join(texts(build_alert_card(make_alert(topic="", owner_name=None, customer_name=None), tz=TZ)))
    assert "群聊：room-1" in shown
    assert "负责人：s-li" in shown
    assert "客户：未知客户" in shown


def test_long_text_is_truncated_with_an_ellipsis() -> None:
    card = build_alert_card(make_alert(last_text="发" * 1000), tz=TZ)
    body = next(text for text in texts(card) if "发" in text)
    shown = body.split("\n", 1)[1]
    assert len(shown) == 200 and shown.endswith("…")


def test_customer_text_is_plain_text_never_markdown() -> None:
    hostile = "<at id=all></at> **urgent** [click](https://evil.example) <font color='red'>x</font>"
    card = build_alert_card(make_alert(last_text=hostile, customer_name="**Boss**", topic="[群](http://x)"), tz=TZ)
    assert "lark_md" not in tags(card)
    shown = texts(card)
    assert any(hostile in text for text in shown)  # shown literally, not rendered
    assert any("**Boss**" in text for text in shown)


def test_card_is_json_serialisable_and_empty_text_is_marked() -> None:
    card = build_alert_card(make_alert(last_text="   "), tz=TZ)
    assert json.loads(json.dumps(card, ensure_ascii=False)) == card
    assert any("（无文字内容）" in text for text in texts(card))


def test_idempotency_key_is_stable_short_and_per_chat() -> None:
    key = idempotency_key("room/clock/1", "oc_a")
    assert key == idempotency_key("room/clock/1", "oc_a")
    assert key != idempotency_key("room/clock/1", "oc_b")
    assert key != idempotency_key("room/clock/2", "oc_a")
    assert len(key) <= 50


def test_settings_never_show_the_secret() -> None:
    settings = LarkSettings(app_id="cli_x", app_secret="very-secret-value")
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in str(settings)
    assert "very-secret-value" not in settings.model_dump_json()


def test_card_module_does_not_import_the_sdk() -> None:
    """lark_oapi takes seconds to import; building cards (and loading settings) must not pay for it."""
    code = "import sys, sales_assistant.connectors.lark as m; m.build_alert_card({'at': 0}, tz='UTC'); print('lark_oapi' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def buttons(card: dict) -> list[dict]:
    return [b for e in card["elements"] if e["tag"] == "action" for b in e["actions"]]


def test_buttons_name_the_clock_they_were_shown_for() -> None:
    card = build_alert_card(make_alert(), tz=TZ)
    shown = buttons(card)
    ref = {"room_id": "room-1", "clock_id": "clock-1", "alert_id": "room-1/clock-1/2"}
    assert [b["text"]["content"] for b in shown] == ["已处理", "我来跟进", "稍后提醒 10 分钟", "稍后提醒 30 分钟",
                                                     "稍后提醒 60 分钟"]
    assert [b["value"] for b in shown] == [
        {"action": "cancel", **ref}, {"action": "take_over", **ref},
        *({"action": "snooze", **ref, "minutes": m} for m in SNOOZE_MINUTES)]
    assert shown[0]["type"] == "primary" and all(b["tag"] == "button" for b in shown)
    english = [b["text"]["content"] for b in buttons(build_alert_card(make_alert(), lang="en", tz=TZ))]
    assert english == ["Handled", "I'll take it", "Remind me in 10 min", "Remind me in 30 min", "Remind me in 60 min"]


def test_priority_reason_is_shown_when_the_notifier_gives_one() -> None:
    assert not any(text.startswith("优先原因") for text in texts(build_alert_card(make_alert(), tz=TZ)))
    card = build_alert_card(make_alert(priority_why="客户已等待 20 分钟；售前群优先；询问价格：报价"), tz=TZ)
    assert "优先原因：客户已等待 20 分钟；售前群优先；询问价格：报价" in texts(card)
    english = build_alert_card(make_alert(priority_why="waiting 20 min; pre-sales first"), lang="en", tz=TZ)
    assert "Why it ranks here：waiting 20 min; pre-sales first" in texts(english)


def test_updated_card_keeps_the_content_adds_who_acted_and_drops_the_buttons() -> None:
    alert = make_alert(priority_why="客户已等待 20 分钟")
    note = action_note("cancel", "张三", AT, "zh", tz=TZ)
    assert note == "张三 已处理 · 11-23 14:05"
    before, after = build_alert_card(alert, tz=TZ), build_alert_card(alert, note=note, buttons=False, tz=TZ)
    expected = [e for e in before["elements"] if e["tag"] != "action"]
    expected.insert(-1, {"tag": "note", "elements": [{"tag": "plain_text", "content": note}]})  # above the alert id
    assert after["elements"] == expected and after["header"] == before["header"]
    snoozed = build_alert_card(alert, note=action_note("snooze", "张三", AT, "zh", minutes=30, tz=TZ), tz=TZ)
    assert "张三 稍后提醒 30 分钟 · 11-23 14:05" in texts(snoozed) and len(buttons(snoozed)) == 5


@pytest.mark.parametrize(("action", "lang", "minutes", "expected"), [
    ("take_over", "zh", None, "李雷 我来跟进 · 11-23 14:05"),
    ("snooze", "zh", 10, "李雷 稍后提醒 10 分钟 · 11-23 14:05"),
    ("cancel", "en", None, "李雷 marked it handled · 11-23 14:05"),
    ("take_over", "en", None, "李雷 took it over · 11-23 14:05"),
    ("snooze", "en", 60, "李雷 snoozed it for 60 min · 11-23 14:05"),
])
def test_action_note(action: str, lang: str, minutes: int | None, expected: str) -> None:
    assert action_note(action, "李雷", AT, lang, minutes=minutes, tz=TZ) == expected
    assert action_note(action, "李雷", AT, lang, tz="UTC", minutes=minutes).endswith("11-23 06:05")


def test_settings_never_show_the_callback_secrets() -> None:
    settings = LarkSettings(verification_token="vt-secret-value", encrypt_key="ek-secret-value")
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "vt-secret-value" not in shown and "ek-secret-value" not in shown


def test_digest_card_lists_each_room_under_the_highest_colour() -> None:
    alerts = [make_alert(level="green", waited_minutes=5, at=AT - 15 * 60_000),
              make_alert(alert_id="room-2/clock-7/1", room_id="room-2", topic="华南客户群", level="yellow",
                         waited_minutes=10, customer_name=None, last_text="<at id=all></at>")]
    card = build_digest_card(alerts, interval_minutes=30, tz=TZ)
    assert card["header"]["template"] == "yellow" and card["header"]["title"]["content"] == "待回复汇总 · 2 个群"
    assert texts(card) == ["待回复汇总 · 2 个群",
                           "绿色提醒 · 华东客户群 A · 13:50 时已等待 5 分钟\n王女士：请问这款什么时候发货？",
                           "黄色提醒 · 华南客户群 · 14:05 时已等待 10 分钟\n未知客户：<at id=all></at>",
                           "较低级别的提醒每 30 分钟汇总一次"]
    assert "lark_md" not in tags(card) and "action" not in tags(card)  # no buttons: one card, many rooms
    english = texts(build_digest_card(alerts, lang="en", interval_minutes=60, tz=TZ))
    assert english[0] == "Waiting for your reply · 2 rooms"
    assert english[1].startswith("Green · 华东客户群 A · waiting 5 min at 13:50")
    assert english[-1] == "Lower-level alerts come together every 60 min"


@pytest.mark.parametrize("lang, mark", [("zh", "（此后已回复或已处理）"), ("en", " (answered or handled since)")])
def test_a_card_whose_wait_ended_before_it_went_out_says_so_in_grey_without_buttons(lang, mark):
    card = build_alert_card(make_alert(level="red", answered=True), lang=lang, tz=TZ)
    assert card["header"]["title"]["content"].endswith(mark) and card["header"]["template"] == "grey"
    assert not buttons(card)
    assert not build_alert_card(make_alert(level="red"), lang=lang, tz=TZ)["header"]["title"]["content"].endswith(mark)


def test_every_time_on_a_card_is_in_the_configured_zone() -> None:
    """Times follow settings.timezone, not a zone written into the card code: 06:05 UTC is 07:05 in Berlin."""
    berlin = "Europe/Berlin"
    folded = make_alert(folded=1, earlier=[make_alert(level="yellow", waited_minutes=10, at=AT - 10 * 60_000)])
    alert_card = "\n".join(texts(build_alert_card(folded, tz=berlin)))
    assert "超时时刻（Europe/Berlin）：2026-11-23 07:05:00" in alert_card
    assert "黄色提醒 · 已等待 10 分钟 · 06:55" in alert_card  # the folded alert's line
    assert "14:05" not in alert_card and "13:55" not in alert_card
    english = "\n".join(texts(build_alert_card(folded, lang="en", tz=berlin)))
    assert "Overdue since (Europe/Berlin)：2026-11-23 07:05:00" in english
    digest = texts(build_digest_card([make_alert(level="green", waited_minutes=5)], tz=berlin))
    assert digest[1].startswith("绿色提醒 · 华东客户群 A · 07:05 时已等待 5 分钟")
    assert action_note("cancel", "张三", AT, "zh", berlin) == "张三 已处理 · 11-23 07:05"
    room = {"room_id": "room-1", "topic": "华东客户群 A", "owner_name": "李雷", "level": "red",
            "waited_minutes": 40, "first_at": AT - 30 * 60_000, "last_at": AT, "alerts": 3}
    catch_up = "\n".join(texts(build_catch_up_card([room], 3, tz=berlin)))
    assert "06:35–07:05" in catch_up
