"""Tables as CSV (UTF-8 with BOM, so Excel reads the Chinese right) or XLSX (openpyxl)."""
from __future__ import annotations

import csv
import io

from fastapi import HTTPException
from openpyxl import Workbook

from sales_assistant.core.timeutil import iso

REPORT_TABLES = ("sales", "rooms", "episodes", "alerts", "by_hour", "over_threshold_by_day", "leaderboard",
                 "quality_examples", "longest_waits")
ROOM_LIST_TABLES = ("today", "rooms-all")

# Column headers people read, per language; a column without one keeps its field name.
HEADERS = {
    "zh": {"room_id": "群ID", "topic": "群名", "owner_id": "负责人ID", "owner_name": "负责人", "stage": "阶段",
           "staff_id": "员工ID", "name": "姓名", "role": "角色", "episodes": "回复次数", "over_threshold": "超时次数",
           "avg_reply_minutes": "平均回复(分钟)", "total_messages": "消息总数", "cancelled_episodes": "取消计时",
           "open_episodes": "未回复", "checked_messages": "已检查消息", "flagged_messages": "有问题消息",
           "flagged_per_100": "每百条问题数", "waiting": "等待中", "waited_minutes": "已等待(分钟)",
           "level": "警报级别",
           "last_speaker": "最后说话者", "last_text": "最后一句话", "priority": "优先级", "why": "排序原因",
           "customer_name": "客户", "customer_message": "客户消息", "customer_at": "客户发言时间",
           "reply_message": "回复", "reply_at": "回复时间", "reply_minutes": "回复用时(分钟)", "ended_by": "结束方式",
           "at": "时间", "hour": "小时", "replies": "回复数", "team_messages": "团队消息",
           "customer_messages": "客户消息数",
           "day": "日期", "rank": "名次", "text": "原文", "corrected": "建议改为", "phrasing": "措辞问题",
           "sender_name": "发送人", "ts": "时间", "open": "仍在等待", "started_at": "开始等待"},
    "en": {},
}


def check_table(table: str) -> None:
    """404 unless `table` is one this module exports; asked before any data is read."""
    if table not in REPORT_TABLES + ROOM_LIST_TABLES:
        raise HTTPException(404, f"table: one of {', '.join(REPORT_TABLES + ROOM_LIST_TABLES)}")


def _flatten(table: str, rows: list[dict], tz: str) -> list[dict]:
    if table in ROOM_LIST_TABLES:
        return [{"room_id": r["room_id"], "topic": r["topic"], "owner_name": r["owner_name"] or "", "stage": r["stage"],
                 "waiting": r["waiting"],
                 "started_at": iso(r["started_at"], tz) if r["started_at"] else "",
                 "level": r["level"] or "", "last_speaker": (r["last"] or {}).get("sender_name", ""),
                 "last_text": (r["last"] or {}).get("text", ""), "priority": r["priority"]["score"],
                 "why": r["priority"]["why"]} for r in rows]
    if table == "quality_examples":
        return [{"ts": iso(f["ts"], tz), "sender_name": f["sender_name"], "topic": f["topic"], "text": f["text"],
                 "corrected": f["corrected"], "phrasing": "; ".join(p["message"] for p in f["phrasing"])} for f in rows]
    if table == "longest_waits":
        return [{**r, "started_at": iso(r["started_at"], tz)} for r in rows]
    return [{k: ", ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]


def render(table: str, rows: list[dict], fmt: str, lang: str, tz: str) -> tuple[bytes, str]:
    flat = _flatten(table, rows, tz)
    columns = list(flat[0]) if flat else ["room_id"]
    names = HEADERS.get(lang, {})
    header = [names.get(c, c) for c in columns]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in flat:
            writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8"
    book = Workbook()
    sheet = book.active
    sheet.title = table[:31]
    sheet.append(header)
    for row in flat:
        sheet.append([_cell(row.get(c)) for c in columns])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: object) -> object:
    # A customer's text starting with "=" must not become a formula in the manager's spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
