"""A small, hand-checkable day: what the integration tests feed the real pipeline."""
from __future__ import annotations

from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import CancelClock, Message

T = 1_795_136_400_000  # 2026-11-20 09:00 Asia/Shanghai
M = 60_000

ROSTER = {
    "staff": [
        {"id": "s1", "name": "董森", "role": "sales"},
        {"id": "s2", "name": "荣生", "role": "after_sales"},
        {"id": "e1", "name": "李佳芮", "role": "employee"},
        {"id": "b1", "name": "句子情报员", "role": "bot"},
    ],
    "rooms": [
        {"id": "R1", "topic": "网易严选", "owner": "s1", "stage": "pre_sales"},
        {"id": "R2", "topic": "流利说", "owner": "s2", "stage": "after_sales"},
    ],
}


def roster():
    return RosterFile.model_validate(ROSTER).to_roster()


def items() -> list[Message | CancelClock]:
    return [
        Message("m1", "R1", "c1", "为啥群发卡住了", T, sender_name="小圆圆"),
        Message("m2", "R1", "c1", "在吗", T + 1 * M),
        Message("m3", "R1", "b1", "已收到您的消息", T + 2 * M),  # bot: the clock keeps running
        Message("m4", "R1", "e1", "重启下账号就可以", T + 12 * M),  # employee answers for the owner: 12 min
        Message("m5", "R1", "c1", "好的", T + 13 * M),  # closing: no clock
        Message("m6", "R2", "c2", "发票开了吗？", T + 14 * M),
        Message("m7", "R2", "s2", "已经开好了", T + 15 * M + 30_000),  # 1.5 min
        Message("m8", "R1", "c1", "好的，那价格是多少？", T + 20 * M),  # mixed: needs an answer
        CancelClock("R1", "manager", T + 26 * M, "客户已确认"),  # cancelled after 6 min: green fired
        Message("m9", "R3", "c9", "有人吗", T + 30 * M),  # unknown room: unassigned, public alerts
        Message("m10", "R2", "c2", "好滴", T + 31 * M),
    ]


UNTIL = T + 60 * M  # R3 has waited 30 minutes by then
EXPECTED_ALERTS = [
    ("R1", "green", 5, ["private"]), ("R1", "yellow", 10, ["private"]),
    ("R1", "green", 5, ["private"]),
    ("R3", "green", 5, ["public"]), ("R3", "yellow", 10, ["public"]),
    ("R3", "orange", 20, ["public"]), ("R3", "red", 30, ["public"]),
]
