"""The daily leaderboard card, built from the report dict (store.report.build_report's shape)."""
from __future__ import annotations

from typing import Any

from sales_assistant.connectors.lark import build_leaderboard_card
from tests.unit.test_lark_card import tags, texts


def rep(staff_id: str, name: str, avg: float, episodes: int, over: int = 0) -> dict[str, Any]:
    return {"staff_id": staff_id, "name": name, "role": "sales", "episodes": episodes, "over_threshold": over,
            "avg_reply_minutes": avg, "total_messages": 3 * episodes, "cancelled_episodes": 0, "open_episodes": 0}


def hours(**active: tuple[int, float | None, int]) -> list[dict[str, Any]]:
    """h09=(replies, avg, team messages) ...; every other hour is quiet."""
    rows = []
    for h in range(24):
        replies, avg, team = active.get(f"h{h:02d}", (0, None, 0))
        rows.append({"hour": h, "replies": replies, "avg_reply_minutes": avg, "team_messages": team,
                     "customer_messages": replies})
    return rows


def report(reps: list[dict], **over: Any) -> dict[str, Any]:
    ranked = sorted(reps, key=lambda r: (r["avg_reply_minutes"], r["over_threshold"], -r["episodes"]))
    return {
        "period": {"from": "2026-11-20", "to": "2026-11-20", "timezone": "Asia/Shanghai"},
        "sales": reps,
        "rooms": [{"room_id": "R1", "topic": "华东客户群 A", "owner_id": "s1", "owner_name": "董森"},
                  {"room_id": "R2", "topic": "", "owner_id": None, "owner_name": None}],
        "leaderboard": [{"rank": i + 1, **r} for i, r in enumerate(ranked)],
        "by_hour": hours(h09=(3, 1.5, 12), h14=(1, 40.0, 2), h21=(0, None, 4)),
        "longest_waits": [{"room_id": "R1", "owner_id": "s1", "customer_name": "王女士", "customer_message": "在吗",
                           "started_at": 0, "waited_minutes": 45.4, "open": True},
                          {"room_id": "R2", "owner_id": None, "customer_name": None, "customer_message": "价格？",
                           "started_at": 0, "waited_minutes": 12.0, "open": False}],
        "open_clocks": 1,
        **over,
    }


SIX = [rep("s1", "董森", 1.0, 4), rep("s2", "荣升", 2.5, 2, 1), rep("s3", "李雷", 3.0, 6, 2),
       rep("s4", "韩梅梅", 8.0, 1, 1), rep("s5", "王芳", 12.0, 3, 3), rep("s6", "赵强", 30.0, 2, 2)]


def block(card: dict, title: str) -> list[str]:
    """The lines of the section that starts with `title`."""
    found = next(text for text in texts(card) if text.startswith(title + "\n"))
    return found.split("\n")[1:]


def test_team_figures_in_chinese() -> None:
    card = build_leaderboard_card(report(SIX))
    assert card["header"] == {"template": "blue", "title": {"tag": "plain_text", "content": "今日回复排行 · 2026-11-20"}}
    shown = texts(card)
    # 18 replies; (4*1 + 2*2.5 + 6*3 + 1*8 + 3*12 + 2*30) / 18 = 7.28 minutes on average.
    for expected in ("回复次数：18 次", "平均回复：7.3 分钟", "超时回复：9 次", "团队消息：18 条", "仍在等待：1 个群"):
        assert expected in shown
    assert tags(card) <= {"div", "hr", "plain_text", ""}  # names and topics are shown, never rendered


def test_the_three_fastest_and_the_three_slowest_slowest_first() -> None:
    card = build_leaderboard_card(report(SIX))
    assert block(card, "回复最快") == ["1. 董森 · 平均 1.0 分钟 · 回复 4 次 · 超时 0 次",
                                   "2. 荣升 · 平均 2.5 分钟 · 回复 2 次 · 超时 1 次",
                                   "3. 李雷 · 平均 3.0 分钟 · 回复 6 次 · 超时 2 次"]
    assert [line.split(" · ")[0] for line in block(card, "回复最慢")] == ["6. 赵强", "5. 王芳", "4. 韩梅梅"]


def test_a_small_team_never_shows_a_rep_twice() -> None:
    one = build_leaderboard_card(report(SIX[:1]))
    assert block(one, "回复最快") == ["1. 董森 · 平均 1.0 分钟 · 回复 4 次 · 超时 0 次"]
    assert not any(text.startswith("回复最慢") for text in texts(one))
    three = build_leaderboard_card(report(SIX[:3]))
    assert [line[:5] for line in block(three, "回复最快")] == ["1. 董森"]
    assert [line[:5] for line in block(three, "回复最慢")] == ["3. 李雷"]  # the one in the middle is in neither


def test_hours_with_traffic_and_the_longest_waits() -> None:
    card = build_leaderboard_card(report(SIX))
    assert block(card, "各时段（按客户发言时间）") == ["09 时 · 平均 1.5 分钟 · 回复 3 次 · 团队消息 12 条",
                                          "14 时 · 平均 40.0 分钟 · 回复 1 次 · 团队消息 2 条",
                                          "21 时 · 平均 — · 回复 0 次 · 团队消息 4 条"]
    assert block(card, "等待最久") == ["华东客户群 A · 董森 · 45 分钟（仍在等待）", "R2 · — · 12 分钟"]


def test_a_quiet_day() -> None:
    card = build_leaderboard_card(report([], longest_waits=[], by_hour=hours(), open_clocks=0))
    shown = texts(card)
    assert "今天没有客户等待回复" in shown and "回复次数：0 次" in shown and "平均回复：0.0 分钟" in shown
    assert not any(text.startswith(("回复最快", "回复最慢", "各时段", "等待最久")) for text in shown)


def test_english() -> None:
    card = build_leaderboard_card(report(SIX), lang="en")
    shown = texts(card)
    assert card["header"]["title"]["content"] == "Today's reply leaderboard · 2026-11-20"
    assert "Average reply：7.3 min" in shown and "Still waiting：1" in shown
    assert block(card, "Fastest")[0] == "1. 董森 · avg 1.0 min · 4 replies · 0 late"
    assert block(card, "Longest waits")[0] == "华东客户群 A · 董森 · 45 min (still waiting)"
    assert not any("回复" in text for text in shown)
