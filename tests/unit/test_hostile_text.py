"""Text a format cannot hold, made safe where it is written: XLSX and formula cells (web/export.py), a
terminal (connectors/console.printable), and the days a report may cover (application/report.check_days)."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from sales_assistant.application.report import check_days
from sales_assistant.connectors.console import printable
from sales_assistant.policies.access import Refused
from sales_assistant.web.export import render

EVERY_CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f\x85\u202e\u2066\ufffe\uffff"


def room_row(topic: str) -> dict:
    return {"room_id": "R", "topic": topic, "owner_name": None, "stage": "pre_sales", "waiting": False,
            "started_at": None, "level": None, "last": {"sender_name": topic, "text": topic},
            "priority": {"score": 0, "why": ""}}


def test_an_xlsx_holds_every_control_character_as_an_escape():
    body, _ = render("rooms-all", [room_row("a" + EVERY_CONTROL)], "xlsx", "zh", "Asia/Shanghai")
    [topic] = [c for c in next(load_workbook(io.BytesIO(body)).active.iter_rows(min_row=2, max_row=2))[1:2]]
    assert topic.value.startswith("a\\x00\\x01") and "\\x1b" in topic.value and "\\ufffe\\uffff" in topic.value
    assert "\t" in topic.value and "\u202e" in topic.value  # what XML holds is kept as sent


def test_the_owasp_example_cell_is_quoted_prefixed_and_its_quotes_doubled():
    body, _ = render("rooms-all", [room_row('=1+2";=1+2')], "csv", "en", "Asia/Shanghai")
    text = body.decode("utf-8-sig")
    assert '"\'=1+2"";=1+2"' in text
    assert "'=1+2\";=1+2" in next(r for r in csv.reader(io.StringIO(text)) if r[0] == "R")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\x00"])
def test_a_cell_that_starts_like_a_formula_is_text_in_both_formats(start):
    value = start + "HYPERLINK(\"http://x\")"
    text = render("rooms-all", [room_row(value)], "csv", "en", "Asia/Shanghai")[0].decode("utf-8-sig")
    assert "'" + value in next(r for r in csv.reader(io.StringIO(text)) if r[0] == "R")
    body, _ = render("rooms-all", [room_row(value)], "xlsx", "en", "Asia/Shanghai")
    cell = load_workbook(io.BytesIO(body)).active.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.quotePrefix


def test_a_terminal_sees_escapes_never_the_characters():
    shown = printable("红\x1b[31m色\x00\x07\u202e\u2066\x9b\n")
    assert shown == "红\\x1b[31m色\\x00\\x07\\u202e\\u2066\\x9b\\n"
    assert printable("好的 👌 émoji") == "好的 👌 émoji"


@pytest.mark.parametrize(("asked", "named"), [({"start": date(9999, 12, 30)}, "start"),
                                              ({"end": date(1999, 12, 31)}, "end")])
def test_days_outside_what_a_report_covers_are_refused_by_name(asked, named):
    with pytest.raises(Refused) as refused:
        check_days(**asked)
    assert refused.value.status == 422 and refused.value.facts["field"] == named
    check_days(start=date(2000, 1, 1), end=date(2099, 12, 31))
