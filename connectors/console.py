"""Human-friendly terminal output: alert lines in their level's colour, metric tables.

What customers and staff wrote is printed through `printable`: a terminal acts on control characters
(ESC starts a colour or cursor sequence, NUL and BEL are not text) and bidi overrides reorder the line
around them, so they are shown as escapes (\\x1b, \\u202e) instead. The plain log format uses it too.
"""
from __future__ import annotations

import re

from rich.table import Table
from rich.text import Text

from sales_assistant.connectors.i18n import FOLLOWUP_WORDS, presence_text
from sales_assistant.core import levels
from sales_assistant.core.timeutil import iso

TARGET_ZH = {"private": "私人群", "public": "公共群"}
# C0, DEL and C1 controls, and the bidi embeddings, overrides, isolates and marks.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every character a terminal would act on written as its escape (ESC -> \\x1b)."""
    return UNPRINTABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def alert_line(alert: dict, lang: str, tz: str) -> Text:
    level = alert["level"]
    known = levels.parse(level)
    style = f"bold {levels.LEVELS[known].terminal}" if known else "bold"
    at = iso(alert["at"], tz)[11:16]
    owner = printable(str(alert.get("owner_name") or alert.get("owner_id") or "")) or None
    room = printable(alert.get("topic") or alert["room_id"])
    text = (alert.get("last_text") or "").replace("\n", " ")
    text = printable(text[:40] + "…" if len(text) > 40 else text)
    line = Text()
    if lang == "zh":
        line.append(f"● {levels.label(level, 'zh')}警报 ", style=style)
        targets = "+".join(TARGET_ZH[t] for t in alert["targets"])
        line.append(f"{at} {room} · 负责人 {owner or '无负责人'} · 已等待 {alert['waited_minutes']} 分钟 → {targets}")
        line.append(f" · 客户: {text}", style="dim")
    else:
        line.append(f"● {levels.label(level, 'en')} alert ", style=style)
        line.append(f"{at} {room} · owner {owner or 'unassigned'} · waited {alert['waited_minutes']} min → "
                    f"{'+'.join(alert['targets'])}")
        line.append(f" · customer: {text}", style="dim")
    if alert.get("presence"):  # the owner was away: who got it instead, or that it waited for them
        state = presence_text(alert["presence"], lang)
        covered = printable(str(alert.get("private_to") or ""))
        if lang == "zh":
            line.append(f" · 负责人{state}" + (f"，由 {covered} 代收" if covered else ""), style="dim")
        else:
            line.append(f" · owner {state.lower()}" + (f", covered by {covered}" if covered else ""), style="dim")
    return line


def followup_line(followup: dict, lang: str, tz: str) -> Text:
    """A follow-up of an idle room on the console: which room, whose, quiet for how long since when."""
    w = FOLLOWUP_WORDS["en" if lang == "en" else "zh"]
    owner = printable(str(followup.get("owner_name") or followup.get("owner_id") or "")) or w["unassigned"]
    line = Text()
    line.append("◆ ", style="bold blue")
    line.append(f"{iso(followup['at'], tz)[11:16]} " + w["line"].format(
        room=printable(followup.get("topic") or followup["room_id"]), owner=owner,
        days=followup.get("idle_days") or 0, last=iso(followup["last_message_at"], tz)[:16].replace("T", " ")))
    return line


def suggestion_line(suggestion: dict, lang: str = "zh") -> Text:
    who = printable(str(suggestion.get("sender_name") or suggestion.get("sender_id")))
    why = [f"{t['wrong']}→{t['suggestion']}" for t in suggestion.get("typos", [])]
    why += [f["kind"] for f in suggestion.get("phrasing", [])]
    line = Text()
    line.append("✎ 措辞建议 " if lang == "zh" else "✎ suggestion ", style="bold blue")
    line.append(f"@{who}: {printable(suggestion.get('text', ''))}")
    if suggestion.get("corrected") and suggestion["corrected"] != suggestion.get("text"):
        line.append(f" → {printable(suggestion['corrected'])}", style="green")
    line.append(f" ({printable(', '.join(why))})", style="dim")
    return line


SALES_COLUMNS = {
    "zh": [("name", "销售"), ("episodes", "回复次数"), ("over_threshold", "超时次数"),
           ("avg_reply_minutes", "平均回复(分钟)"), ("avg_reply_clock", "计法"),
           ("avg_wall_reply_minutes", "自然时间平均(分钟)"), ("total_messages", "总消息数")],
    "en": [("name", "Sales"), ("episodes", "Episodes"), ("over_threshold", "Over threshold"),
           ("avg_reply_minutes", "Avg reply (min)"), ("avg_reply_clock", "Counted in"),
           ("avg_wall_reply_minutes", "Avg wall (min)"), ("total_messages", "Total messages")],
}
# which clock an average counts in (core/metrics.py: avg_reply_clock)
CLOCK_WORDS = {"zh": {"wall": "自然时间", "business": "工作时间", "mixed": "混合"},
               "en": {"wall": "wall clock", "business": "business hours", "mixed": "mixed"}}
ROOM_COLUMNS = {
    "zh": [("owner_name", "负责人"), ("topic", "群聊"), ("episodes", "回复次数"), ("over_threshold", "超时次数"),
           ("avg_reply_minutes", "平均回复(分钟)"), ("avg_reply_clock", "计法"), ("total_messages", "总消息数"),
           ("sales_messages", "销售发言"),
           ("employee_messages", "其他员工发言"), ("customer_messages", "顾客发言")],
    "en": [("owner_name", "Owner"), ("topic", "Room"), ("episodes", "Episodes"), ("over_threshold", "Over"),
           ("avg_reply_minutes", "Avg (min)"), ("avg_reply_clock", "Counted in"), ("total_messages", "Total"),
           ("sales_messages", "Sales"),
           ("employee_messages", "Employees"), ("customer_messages", "Customers")],
}
EPISODE_COLUMNS = {
    "zh": [("owner_name", "负责人"), ("topic", "群聊"), ("customer_name", "顾客"), ("customer_message", "顾客消息"),
           ("reply_message", "回复消息"), ("reply_minutes", "回复时长(分钟)"),
           ("business_reply_minutes", "工作时间回复时长(分钟)"), ("ended_by", "结束方式")],
    "en": [("owner_name", "Owner"), ("topic", "Room"), ("customer_name", "Customer"), ("customer_message", "Customer said"),
           ("reply_message", "Reply"), ("reply_minutes", "Minutes"), ("business_reply_minutes", "Business min"),
           ("ended_by", "Ended by")],
}
TITLES = {"zh": ("销售视角", "群聊视角", "群聊细节"), "en": ("Per sales", "Per room", "Per episode")}


def table(title: str, rows: list[dict], columns: list[tuple[str, str]], limit: int | None = None) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold cyan")
    for _, header in columns:
        t.add_column(header, overflow="fold", max_width=40)
    for row in rows[:limit] if limit else rows:
        t.add_row(*["—" if row.get(k) is None else _cell(row.get(k)) for k, _ in columns])
    return t


def _cell(value: object) -> str:
    text = printable(str(value))
    return text if len(text) <= 60 else text[:60] + "…"


def metric_tables(report: dict, lang: str = "zh", episode_limit: int | None = 20) -> list[Table]:
    sales_t, rooms_t, eps_t = TITLES[lang]
    slow = sorted((e for e in report["episodes"] if e["reply_minutes"] is not None),
                  key=lambda e: -e["reply_minutes"])
    eps = slow + [e for e in report["episodes"] if e["reply_minutes"] is None]
    words = CLOCK_WORDS[lang]

    def clocks_said(rows: list[dict]) -> list[dict]:
        return [{**r, "avg_reply_clock": words.get(r.get("avg_reply_clock"), r.get("avg_reply_clock"))} for r in rows]

    return [
        table(sales_t, clocks_said(report["sales"]), SALES_COLUMNS[lang]),
        table(rooms_t, clocks_said(report["rooms"]), ROOM_COLUMNS[lang]),
        table(eps_t, eps, EPISODE_COLUMNS[lang], limit=episode_limit),
    ]
