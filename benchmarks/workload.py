"""Synthetic sales-group traffic: many rooms, customers asking, staff answering after a while.

Deterministic for a seed, so a benchmark or a fault test can compare two runs of the same day.
"""
from __future__ import annotations

import heapq
import random

from sales_assistant.core.messages import CancelClock, Message

QUESTIONS = ["在吗", "价格是多少？", "合同什么时候能发？", "群发卡住了", "发票开了吗？", "接口报错了，麻烦看下",
             "账号登录不上", "退款怎么操作？", "[图片]", "还有人吗？"]
REPLIES = ["稍等，我看下", "已经处理好了", "合同今天发您", "重启下账号就可以", "发票明天寄出", "我这边跟进"]
CLOSINGS = ["好的", "收到", "谢谢", "👌", "[OK]", "辛苦了"]
MINUTE = 60_000


def roster(rooms: int, reps: int = 20) -> dict:
    staff = [{"id": f"s{i}", "name": f"销售{i}", "role": "sales" if i % 3 else "after_sales"} for i in range(reps)]
    staff += [{"id": "e0", "name": "员工", "role": "employee"}, {"id": "b0", "name": "机器人", "role": "bot"}]
    room_rows = [{"id": f"R{r}", "topic": f"服务群-{r}", "owner": f"s{r % reps}",
                  "stage": "pre_sales" if r % 4 else "after_sales"} for r in range(rooms)]
    return {"staff": staff, "rooms": room_rows}


def conversation(rng: random.Random, room: int, start: int, n: int, reps: int, span_ms: int,
                 unanswered: float) -> list[Message | CancelClock]:
    """About `n` messages in one room within `span_ms`: questions, follow-ups, replies, closings."""
    out: list[Message | CancelClock] = []
    t, k, owner = start, 0, f"s{room % reps}"
    step = max(1, span_ms // max(n, 1))
    while k < n:
        customer = f"c{room}-{rng.randrange(3)}"
        out.append(Message(f"{room}-{k}", f"R{room}", customer, rng.choice(QUESTIONS), t))
        k += 1
        if k < n and rng.random() < 0.3:  # a follow-up while waiting
            t += rng.randrange(1, step + 1)
            out.append(Message(f"{room}-{k}", f"R{room}", customer, "？", t))
            k += 1
        if k >= n and rng.random() < unanswered:
            break  # this one waits
        t += rng.randrange(1, step + 1)
        replier = owner if rng.random() < 0.8 else "e0"
        if k < n:
            out.append(Message(f"{room}-{k}", f"R{room}", replier, rng.choice(REPLIES), t))
            k += 1
        if k < n and rng.random() < 0.5:
            t += rng.randrange(1, step + 1)
            out.append(Message(f"{room}-{k}", f"R{room}", customer, rng.choice(CLOSINGS), t))
            k += 1
        t += rng.randrange(1, step + 1)
    return out


def day(rooms: int, messages: int, start_ms: int, span_ms: int = 8 * 60 * MINUTE, seed: int = 7, reps: int = 20,
        unanswered: float = 0.2) -> list[Message | CancelClock]:
    """`messages` messages over `rooms` rooms, merged into event-time order."""
    rng = random.Random(seed)
    per_room = [messages // rooms + (1 if r < messages % rooms else 0) for r in range(rooms)]
    streams = [conversation(rng, r, start_ms + rng.randrange(0, max(1, span_ms // 10)), n, reps, span_ms, unanswered)
               for r, n in enumerate(per_room) if n]
    return list(heapq.merge(*streams, key=lambda m: m.ts))
