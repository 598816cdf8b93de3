"""What a hostile customer, script or web page sends, against the real `sales-assistant run` (its own Ray,
embedded Redis, virtual clock, console and JSONL sinks): control and bidi characters reaching the
exports and the operator's terminal, formula cells, room ids that are not one path segment, far-future
dates, the security headers, and an integration acting on behalf of someone."""
from __future__ import annotations

import csv
import io
import json
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from sales_assistant.web.export import REPORT_TABLES, ROOM_LIST_TABLES
from tests.support.service import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
T, M = 1_795_136_400_000, 60_000  # 2026-11-20 09:00 Asia/Shanghai
DAY = "start=2026-11-20&end=2026-11-20"
ROSTER = {
    "staff": [{"id": "m1", "name": "王经理", "role": "manager"}, {"id": "s1", "name": "张三", "role": "sales"}],
    "rooms": [{"id": "R:ctl", "owner": "s1"}, {"id": "R:formula", "owner": "s1"}, {"id": "R:cancel", "owner": "s1"}],
}
POLICY = {stage: {"steps": [{"after_minutes": 1, "level": "green", "targets": ["private"]}]}
          for stage in ("pre_sales", "after_sales")}
CTL_TOPIC = "ctl\u202etopic\u0000"
CTL_TEXTS = ["铃\u0007声", "红\u001b[31m色", "空\u0000字"]
FORMULAS = ["\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(1,1)", '=1+2";=1+2', "a;=1+1"]


class Svc:
    def __init__(self, service: Service, ingest: str, api: str) -> None:
        self.service, self.ingest, self.api = service, ingest, api
        self.tokens: dict[str, str] = {}

    def get(self, path: str, user: str = "api") -> httpx.Response:
        return httpx.get(self.service.url + path, headers=self.auth(user), timeout=30)

    def post(self, path: str, body: object, user: str = "api") -> httpx.Response:
        return httpx.post(self.service.url + path, json=body, headers=self.auth(user), timeout=30)

    def auth(self, user: str) -> dict[str, str]:
        token = {"api": self.api, "ingest": self.ingest}.get(user) or self.tokens[user]
        return {"Authorization": f"Bearer {token}"}

    def push(self, *messages: dict) -> httpx.Response:
        return self.post("/api/messages", list(messages), user="ingest")

    def applied(self, room_id: str, text: str) -> None:
        """Wait until `text` is the last message the service shows for the room."""
        def seen():
            r = self.get(f"/api/rooms/{room_id}")
            return r.status_code == 200 and (r.json()["last"] or {}).get("text") == text
        self.service.wait_until(seen, 30, f"{text!r} applied in {room_id}")

    def tick(self, now: int) -> None:
        assert self.post("/api/clock/tick", {"now": now}).status_code == 200


def message(room_id: str, sender: str, text: str, ts: int, topic: str | None = None, name: str | None = None) -> dict:
    m = {"id": f"h-{uuid.uuid4().hex}", "roomId": room_id, "fromId": sender, "text": text, "timestamp": ts, "type": 7}
    if topic is not None:
        m["roomTopic"] = topic
    if name is not None:
        m["fromName"] = name
    return m


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from sales_assistant.store.redis import stop_embedded

    base = tmp_path_factory.mktemp("hostile")
    data = base / "data"
    (base / "roster.json").write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
    (base / "policy.json").write_text(json.dumps(POLICY), encoding="utf-8")
    ingest, api = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    env = {"SA_INGEST_TOKEN": ingest, "SA_API_TOKEN": api, "SA_CLOSING_MODEL": "keywords",
           "SA_NLP__CHECK_STAFF": "false", "SA_SINKS": '["console", "jsonl"]',
           "SA_ROSTER_FILE": str(base / "roster.json"), "SA_POLICY_FILE": str(base / "policy.json")}
    service = Service(data, env)
    s = Svc(service, ingest, api)
    try:
        service.start(clock="virtual", timeout_s=150)
        for user, role, staff in (("rep1", "sales", "s1"),):
            def users(*args: str, stdin: str | None = None) -> str:
                done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", *args,
                                       "--data-dir", str(data)], input=stdin, env=service.env, capture_output=True,
                                      text=True, timeout=120, cwd=ROOT, check=False)
                assert done.returncode == 0, done.stdout + done.stderr
                return done.stdout
            users("add", user, "--role", role, "--staff", staff, "--name", "张三", "--password-stdin",
                  stdin=secrets.token_urlsafe(12) + "\n")
            s.tokens[user] = users("token", user).strip().splitlines()[-1]
        s.tick(T)
        yield s
    finally:
        service.stop()
        stop_embedded(data)


@pytest.fixture(scope="module")
def ctl_room(svc):
    """R:ctl, whose topic and texts carry BEL, ESC, NUL and a bidi override: an answered wait, then an open
    one whose one-minute alert has fired (to the console sink too)."""
    r = svc.push(message("R:ctl", "c1", CTL_TEXTS[0], T, CTL_TOPIC, "客\u202e户\u001b[2J"),
                 message("R:ctl", "s1", CTL_TEXTS[1], T + M // 2, CTL_TOPIC),
                 message("R:ctl", "c1", CTL_TEXTS[2], T + M, CTL_TOPIC, "客\u202e户\u001b[2J"))
    assert r.status_code == 202, r.text
    svc.applied("R:ctl", CTL_TEXTS[2])
    svc.tick(T + 3 * M)
    svc.service.wait_until(lambda: any(a["room_id"] == "R:ctl" for a in svc.get("/api/alerts").json()["alerts"]),
                           30, "the alert for R:ctl")
    return "R:ctl"


# --- issue 18, item 2 ------------------------------------------------------------------------------

def test_control_and_bidi_characters_never_break_an_xlsx_export(svc, ctl_room):
    for user in ("api", "rep1"):
        for table in REPORT_TABLES + ROOM_LIST_TABLES:
            r = svc.get(f"/api/export/{table}.xlsx?{DAY}", user)
            assert r.status_code == 200, (user, table, r.status_code, r.text[:300])
            book = load_workbook(io.BytesIO(r.content))
            cells = [c for row in book.active.iter_rows() for c in row]
            assert all(c.data_type != "f" for c in cells), (user, table)
            if table in ("rooms", "rooms-all", "today", "alerts"):
                assert "ctl\u202etopic\\x00" in {c.value for c in cells}, (user, table)
    rows = load_workbook(io.BytesIO(svc.get(f"/api/export/episodes.xlsx?{DAY}").content)).active.iter_rows(values_only=True)
    assert {"铃\\x07声", "红\\x1b[31m色", "空\\x00字"} <= {v for row in rows for v in row}
    csv_text = svc.get(f"/api/export/episodes.csv?{DAY}").content.decode("utf-8-sig")
    assert CTL_TEXTS[0] in csv_text and CTL_TOPIC in csv_text  # a CSV holds them: kept as sent


# --- item 6 ----------------------------------------------------------------------------------------

def test_the_console_sink_never_prints_a_raw_escape_or_nul(svc, ctl_room):
    def printed():  # Ray prefixes (and colours) each line an actor prints; rich wraps the line at 80 columns
        log = svc.service.log.read_text(encoding="utf-8", errors="replace")
        return "● 绿色警报" in log and "空\\x00字" in log and log
    log = svc.service.wait_until(printed, 30, "the console alert line for R:ctl")
    assert "ctl\\u202etopic\\x00" in log
    raw = svc.service.log.read_bytes()
    for sent in ("\x1b[31m", "\x1b[2J", "\x00", "\x07", "\u202e"):
        assert sent.encode() not in raw, sent


# --- item 9 ----------------------------------------------------------------------------------------

def test_formula_cells_are_inert_in_csv_and_xlsx(svc):
    """Each formula is a room's topic, its customer's name and its last text (the room lists show all three)."""
    at = T + 10 * M
    r = svc.push(*(message(f"R:f{i}", "c9", text, at, text, text) for i, text in enumerate(FORMULAS)))
    assert r.status_code == 202, r.text
    svc.applied(f"R:f{len(FORMULAS) - 1}", FORMULAS[-1])
    raw = svc.get("/api/export/rooms-all.csv").content.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(raw)) for c in row]
    assert all(line.startswith('"') for line in raw.split("\r\n") if line), "every field is quoted"
    for text in FORMULAS:
        dangerous = text[:1] in ("=", "+", "-", "@", "\t", "\r")
        assert ("'" + text if dangerous else text) in cells, text
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    sheet = load_workbook(io.BytesIO(svc.get("/api/export/rooms-all.xlsx").content)).active
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    for text in FORMULAS:
        read_back = text.replace("\r", "\n")  # XML reads a CR as a line end
        [cell, *_] = [c for row in sheet.iter_rows() for c in row if c.value in (text, read_back)]
        assert cell.data_type == "s", text
        assert cell.quotePrefix == (text[:1] != "a"), text  # Excel's "'": stays text when edited


# --- item 7 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("room_id", ["R:evil2/../../rooms/R:ctl", "..", ".", "R\\1", "R\u00001", "R\u001b[31m",
                                     "R\u202e1", "R\n1"])
def test_a_room_id_that_is_not_one_path_segment_is_refused_at_the_door(svc, room_id):
    r = svc.push(message("R:ok", "c1", "在吗", T), message(room_id, "c1", "在吗", T))
    assert r.status_code == 422, r.text
    named = [f["field"] for f in r.json()["fields"]]  # (and the single-message reading of the body, which fails)
    assert "body.list[WechatyMessage].1.roomId" in named and not [f for f in named if ".0." in f], named
    assert room_id not in {row["room_id"] for row in svc.get("/api/rooms").json()["rooms"]}
    assert "R:ok" not in {row["room_id"] for row in svc.get("/api/rooms").json()["rooms"]}  # the whole batch


def test_room_links_and_buttons_encode_the_id_as_one_segment(svc):
    r = svc.push(message("R:a?b#c%d e", "c1", "在吗", T + 20 * M, "问号群"))
    assert r.status_code == 202, r.text
    svc.applied("R:a%3Fb%23c%25d%20e", "在吗")
    page = svc.get("/rooms", "rep1").text
    assert 'href="/rooms/R%3Aa%3Fb%23c%25d%20e"' in page
    assert 'data-post="/api/rooms/R%3Aa%3Fb%23c%25d%20e/take-over"' in page
    assert svc.get("/rooms/R%3Aa%3Fb%23c%25d%20e", "rep1").status_code == 200


# --- item 10 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "named"), [
    ("start=9999-12-30&end=9999-12-31", "start"), ("end=9999-12-31", "end"), ("start=9999-12-30", "start"),
    ("start=1999-12-31&end=2000-01-01", "start"), ("start=2026-11-21&end=2026-11-20", "end"),
    ("start=2024-01-01&end=2026-11-20", "end"),
])
def test_far_or_inverted_dates_are_a_422_naming_the_parameter(svc, query, named):
    for path in ("/api/metrics", "/api/export/sales.csv", "/api/export/episodes.xlsx"):
        r = svc.get(f"{path}?{query}")
        assert r.status_code == 422, (path, r.status_code, r.text[:300])
        assert r.json()["error_en"].startswith(f"{named}:"), r.json()
    page = svc.get(f"/performance?{query}&lang=en", "rep1")
    assert page.status_code == 422 and f"{named}:" in page.text


def test_the_last_and_first_days_a_report_covers_still_answer(svc):
    for query in ("start=2099-12-25&end=2099-12-31", "start=2000-01-01&end=2000-01-02"):
        assert svc.get(f"/api/metrics?{query}").status_code == 200
        assert svc.get(f"/api/export/sales.xlsx?{query}").status_code == 200
        assert svc.get(f"/performance?{query}", "rep1").status_code == 200


# --- item 5 ----------------------------------------------------------------------------------------

def test_security_headers_on_pages_api_exports_and_errors(svc):
    answers = {
        "login page": httpx.get(svc.service.url + "/login", timeout=30),
        "page": svc.get("/rooms", "rep1"),
        "api": svc.get("/api/me", "rep1"),
        "export": svc.get("/api/export/rooms-all.xlsx", "rep1"),
        "401": httpx.get(svc.service.url + "/api/rooms", timeout=30),
        "422": svc.push({"id": "x"}),
        "redirect": httpx.get(svc.service.url + "/", timeout=30),
        "static": httpx.get(svc.service.url + "/static/app.js", timeout=30),
    }
    for what, r in answers.items():
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (what, csp)
        assert "unsafe-inline" not in csp, what
        assert r.headers.get("x-frame-options") == "DENY", what
        assert r.headers.get("x-content-type-options") == "nosniff", what
        assert r.headers.get("referrer-policy") == "no-referrer", what
        if what != "static":
            assert r.headers.get("cache-control") == "no-store", what
    page = answers["page"].text
    assert "<script>" not in page and "style=" not in page and " onclick=" not in page


# --- item 11 ---------------------------------------------------------------------------------------

def test_the_audit_names_the_caller_and_whom_an_integration_acts_for(svc):
    r = svc.push(message("R:cancel", "c1", "发货了吗", T + 30 * M, "取消群"))
    assert r.status_code == 202
    svc.applied("R:cancel", "发货了吗")
    refused = svc.post("/api/rooms/R:cancel/cancel", {"on_behalf_of": "boss"}, "rep1")
    assert refused.status_code == 422 and refused.json()["error_en"].startswith("on_behalf_of:"), refused.text
    r = svc.post("/api/rooms/R:cancel/cancel", {"by": "rep1", "reason": "客户已回复"})
    assert r.status_code == 202, r.text
    entry = r.json()["audit"]
    assert (entry["user"], entry["name"], entry["via"], entry["on_behalf_of"]) == ("api", "API", "api", "rep1")
    [logged] = [e for e in svc.get("/api/audit?room_id=R:cancel").json()["audit"] if e["action"] == "cancel_clock"]
    assert logged["user"] == "api" and logged["on_behalf_of"] == "rep1"
    page = svc.get("/audit?lang=en").text
    row = next(line for line in page.splitlines() if "R:cancel" in line or "on behalf of" in line)
    assert "API" in page and "on behalf of rep1" in page, row
