"""Tables as CSV (UTF-8 with BOM, so Excel reads the Chinese right) or XLSX (openpyxl).

Customers write what they like, and a manager opens the export in a spreadsheet, so every text cell is
made inert here, at the boundary (OWASP, CSV injection): a cell that starts with = + - @ TAB CR (or NUL)
is never a formula. CSV quotes every field, so a separator inside a customer's text (a ";" for a
semicolon-locale Excel) cannot start a new cell that begins with one of them, and such a leading
character gets a "'" in front. XLSX cells are typed: a text cell is a string, never a formula, and one
with such a leading character also carries Excel's quote-prefix style, so editing it keeps it text.
XML 1.0, inside XLSX, cannot hold most C0 control characters nor U+FFFE/U+FFFF: those are written as
visible escapes (\\x00, \\x1b) instead of failing the whole export.
"""
from __future__ import annotations

import csv
import io
import re

from fastapi import HTTPException
from openpyxl import Workbook
from openpyxl.cell.cell import Cell

from sales_assistant.core.timeutil import iso
from sales_assistant.web.i18n import COLUMNS_ZH

REPORT_TABLES = ("sales", "rooms", "episodes", "alerts", "by_hour", "over_threshold_by_day", "leaderboard",
                 "quality_examples", "longest_waits")
ROOM_LIST_TABLES = ("today", "rooms-all")

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
                 "corrected": f["corrected"] if f["corrected"] != f["text"] else None,  # None: no better wording
                 "phrasing": "; ".join(p["message"] for p in f["phrasing"])} for f in rows]
    if table == "longest_waits":
        return [{**r, "started_at": iso(r["started_at"], tz)} for r in rows]
    return [{k: ", ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]


def render(table: str, rows: list[dict], fmt: str, lang: str, tz: str) -> tuple[bytes, str]:
    flat = _flatten(table, rows, tz)
    columns = list(flat[0]) if flat else ["room_id"]
    names = COLUMNS_ZH if lang == "zh" else {}  # an English export keeps the field names
    header = [names.get(c, c) for c in columns]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for row in flat:
            writer.writerow(["" if row.get(c) is None else csv_cell(row.get(c)) for c in columns])
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8"
    book = Workbook()
    sheet = book.active
    sheet.title = table[:31]
    sheet.append(header)
    for row in flat:
        sheet.append([xlsx_cell(sheet, row.get(c)) for c in columns])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP; NUL per ASVS 1.2.10).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")
# What XML 1.0 cannot hold (openpyxl refuses the C0 ones; Excel refuses the file for U+FFFE/U+FFFF).
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_cell(sheet, value: object) -> object:
    """Numbers as they are; text as a string cell, never a formula, with its unholdable characters escaped."""
    if not isinstance(value, str):
        return value
    cell = Cell(sheet, value=NOT_XML.sub(_escape, value))
    cell.data_type = "s"  # openpyxl makes a text that starts with "=" a formula cell
    cell.quotePrefix = value.startswith(FORMULA_START)
    return cell


def _escape(match: re.Match) -> str:
    return match[0].encode("unicode_escape").decode("ascii")
