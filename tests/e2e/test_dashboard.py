"""End to end: the real `sales-assistant run --clock wall` (its own Ray, embedded Redis, data dir and
port) driven through Debian's Chromium: log in, watch a clock tick, cancel it, hand a room over,
export tables, a sales rep's view, a phone's view. Screenshots of every main page land in
docs/screenshots/.

The tests share one service and run in file order: the clock that test 1 starts is the one
test 2 cancels; test 4 moves R1 to after-sales, so the rep's view (test 3) is checked before.
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.service import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

MANAGER_NAME = "王经理"
ROSTER = {
    "staff": [
        {"id": "m1", "name": MANAGER_NAME, "role": "manager"},
        {"id": "s1", "name": "张三", "role": "sales"},
        {"id": "s2", "name": "李四", "role": "sales"},
        {"id": "a1", "name": "赵六", "role": "after_sales"},
    ],
    "rooms": [
        {"id": "R1", "topic": "华东家具采购群", "owner": "s1", "stage": "pre_sales"},
        {"id": "R2", "topic": "深圳门店装修群", "owner": "s2", "stage": "pre_sales"},
        {"id": "R3", "topic": "新客户咨询群", "stage": "pre_sales"},
    ],
}
# A short ladder, so "no alert after the cancel" is decided within the test: the first alert of a
# clock fires one minute after the customer spoke.
POLICY = {stage: {"steps": [{"after_minutes": 1, "level": "green", "targets": ["private"]},
                            {"after_minutes": 3, "level": "orange", "targets": ["private", "public"]}]}
          for stage in ("pre_sales", "after_sales")}
FIRST_ALERT_MS = 60_000
# The customer's message in R1 (and the control room R3) is stamped this long before it is posted,
# as a chat platform that forwards late would: the cancel lands well before the one-minute alert,
# and the control's alert comes without waiting a whole minute.
BACKDATE_MS = 20_000


@dataclass
class Dashboard:
    svc: Service
    data_dir: Path
    ingest_token: str
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.svc.url

    def push(self, *messages: dict) -> None:
        r = httpx.post(f"{self.url}/api/messages", json=list(messages),
                       headers={"Authorization": f"Bearer {self.ingest_token}"}, timeout=10)
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == len(messages), r.text

    def api(self, method: str, path: str, user: str = "mgr", **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers={"Authorization": f"Bearer {self.tokens[user]}"},
                             timeout=10, **kw)

    def room(self, room_id: str) -> dict:
        r = self.api("GET", f"/api/rooms/{room_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def alerts(self) -> list[dict]:
        r = self.api("GET", "/api/alerts")
        assert r.status_code == 200, r.text
        return r.json()["alerts"]

    def alert_lines(self) -> list[dict]:
        path = self.data_dir / "alerts.jsonl"
        return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []

    def wait(self, check, timeout_s: float, what: str):
        return self.svc.wait_until(check, timeout_s=timeout_s, what=what)


def message(room_id: str, sender: str, text: str, ts: int, topic: str, name: str | None = None) -> dict:
    m = {"id": f"e2e-{uuid.uuid4().hex}", "roomId": room_id, "fromId": sender, "text": text, "timestamp": ts,
         "type": 7, "roomTopic": topic}
    if name:
        m["fromName"] = name
    return m


def now_ms() -> int:
    return int(time.time() * 1000)


def service_files(base: Path, roster: dict, policy: dict) -> tuple[Path, str, dict]:
    """A service's roster and policy files under `base`, and the environment that runs it on them (keyword
    closing, no staff checks, the JSONL sink): its data dir, its ingest token, the environment."""
    (base / "roster.json").write_text(json.dumps(roster, ensure_ascii=False), encoding="utf-8")
    (base / "policy.json").write_text(json.dumps(policy), encoding="utf-8")
    ingest = secrets.token_urlsafe(32)
    env = {"SA_INGEST_TOKEN": ingest, "SA_API_TOKEN": secrets.token_urlsafe(32), "SA_CLOSING_MODEL": "keywords",
           "SA_NLP__CHECK_STAFF": "false", "SA_SINKS": '["jsonl"]', "SA_ROSTER_FILE": str(base / "roster.json"),
           "SA_POLICY_FILE": str(base / "policy.json")}
    return base / "data", ingest, env


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Dashboard:
    from sales_assistant.store.redis import stop_embedded

    data, ingest, env = service_files(tmp_path_factory.mktemp("e2e"), ROSTER, POLICY)
    svc = Service(data, env)
    passwords = {"mgr": secrets.token_urlsafe(12), "rep1": secrets.token_urlsafe(12)}
    d = Dashboard(svc, data, ingest, passwords)
    try:
        svc.start(clock="wall", timeout_s=150)

        def cli(*args: str, stdin: str | None = None) -> str:
            done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", *args, "--data-dir", str(data)],
                                  input=stdin, env=svc.env, capture_output=True, text=True, timeout=120, cwd=ROOT,
                                  check=False)
            assert done.returncode == 0, f"users {' '.join(args)}: {done.stdout}{done.stderr}"
            return done.stdout

        # The accounts, made with the CLI against the running service's embedded Redis (same data dir).
        cli("add", "mgr", "--role", "manager", "--name", MANAGER_NAME, "--password-stdin", stdin=passwords["mgr"] + "\n")
        cli("add", "rep1", "--role", "sales", "--staff", "s1", "--name", "张三", "--password-stdin",
            stdin=passwords["rep1"] + "\n")
        for user in ("mgr", "rep1"):
            d.tokens[user] = cli("token", user).strip().splitlines()[-1]
        # R2 has an answered wait today (李四 replied after 30 s), so the performance tables have a figure.
        t = now_ms()
        d.push(message("R2", "c2", "你好，门店装修的报价什么时候能发我？", t - 50_000, "深圳门店装修群", "陈女士"),
               message("R2", "s2", "您好，报价单今天下午发您，请稍等。", t - 20_000, "深圳门店装修群"))
        d.wait(lambda: d.room("R2")["last"] is not None, 20, "R2's messages applied")
        yield d
    finally:
        svc.stop()
        stop_embedded(data)


def start_clocks(d: Dashboard) -> int:
    """A customer speaks in R1 and, at the same moment, in the unassigned R3 (the control room)."""
    if "started" not in d.state:
        started = now_ms() - BACKDATE_MS
        d.push(message("R1", "c1", "请问这款沙发有现货吗？今天能发货吗？", started, "华东家具采购群", "刘先生"),
               message("R3", "c3", "你好，想咨询一下团购价格", started, "新客户咨询群", "周女士"))
        d.state["started"] = started
    return d.state["started"]


def login(page, d: Dashboard, user: str) -> None:
    page.goto(f"{d.url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", d.passwords[user])
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{d.url}/")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def wait_live(page) -> None:
    """The today page has had its first server push (the live dot turns green)."""
    from playwright.sync_api import expect

    expect(page.locator("#live-state")).to_have_class(re.compile(r"\bon\b"), timeout=10_000)


@pytest.fixture(scope="module")
def manager(chromium, dashboard):
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def rep(chromium, dashboard):
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    login(page, dashboard, "rep1")
    yield page
    context.close()


def as_manager(page, d: Dashboard, path: str) -> None:
    page.goto(f"{d.url}{path}")
    if page.url.startswith(f"{d.url}/login"):
        login(page, d, "mgr")
        page.goto(f"{d.url}{path}")


# --- 1 ------------------------------------------------------------------------------------------

def test_login_then_a_customer_message_starts_a_clock_that_ticks_live(manager, dashboard):
    from playwright.sync_api import expect

    page, d = manager, dashboard
    page.goto(f"{d.url}/")
    assert page.url.startswith(f"{d.url}/login"), "a page without a session sends you to the login form"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.fill("input[name=username]", "mgr")
    page.fill("input[name=password]", "not-the-password")
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/login?error=1")
    expect(page.locator("form.login .error")).to_have_text("用户名或密码错误")

    page.fill("input[name=username]", "mgr")
    page.fill("input[name=password]", d.passwords["mgr"])
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{d.url}/")
    expect(page.locator("main h1")).to_contain_text("今日群聊")
    expect(page.locator("header .who")).to_contain_text(MANAGER_NAME)
    expect(page.locator('tr[data-room="R2"]')).to_be_visible()  # today's answered room
    wait_live(page)
    assert page.locator('tr[data-room="R1"]').count() == 0
    page.evaluate("window.__sameDocument = true")

    started = start_clocks(d)
    row = page.locator('tr[data-room="R1"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_have_class(re.compile(r"\bwaiting\b"))
    assert page.evaluate("window.__sameDocument === true"), "the row came from the live push, not a reload"
    expect(row.locator("td.text")).to_contain_text("请问这款沙发有现货吗")
    wait = row.locator("td.wait")

    def shown() -> tuple[str, int, int, int]:
        """The wait the row shows, in seconds, between the true wait (since the customer's message)
        just before and just after reading it."""
        before = (now_ms() - started) // 1000
        text = wait.inner_text().strip()
        after = (now_ms() - started) // 1000
        m = re.match(r"^(\d+):(\d\d)", text)
        assert m, text
        return text, before, int(m[1]) * 60 + int(m[2]), after

    # The row's clock counts the customer's wait on the service's clock, and goes on counting between
    # pushes. It may lag by the page's one-second tick (and a busy browser's delay), never run ahead.
    first, before, s1, after = shown()
    assert s1 >= BACKDATE_MS // 1000 and before - 2 <= s1 <= after, (first, before, after)
    expect(wait).not_to_have_text(first, timeout=5_000)
    second, before, s2, after = shown()
    assert s2 > s1 and before - 2 <= s2 <= after, (first, second, before, after)
    shot(page, "today.png")


# --- 2 ------------------------------------------------------------------------------------------

def test_cancel_stops_the_clock_at_once_and_its_alerts(manager, dashboard):
    from playwright.sync_api import expect

    page, d = manager, dashboard
    started = start_clocks(d)
    d.wait(lambda: d.room("R1")["waiting"] and d.room("R3")["waiting"], 10, "R1 and R3 waiting")

    as_manager(page, d, "/rooms/R1")  # the room page while its clock runs
    expect(page.locator("main h1")).to_contain_text("华东家具采购群")
    expect(page.locator(".facts .wait")).to_be_visible()
    shot(page, "room.png")

    as_manager(page, d, "/")
    wait_live(page)
    row = page.locator('tr[data-room="R1"]')
    expect(row).to_have_class(re.compile(r"\bwaiting\b"))
    row.evaluate("el => { el.dataset.beforeCancel = '1'; }")  # gone once the row is rendered anew
    button = row.locator("button", has_text="消除计时")
    clicked = time.monotonic()
    clicked_ms = now_ms()
    assert clicked_ms < started + FIRST_ALERT_MS - 5_000, (
        "too slow: the cancel must land well before R1's first alert to show that the alert is dropped")
    button.click()
    expect(row).not_to_have_class(re.compile(r"\bwaiting\b"), timeout=1_000)
    expect(row.locator("td.wait")).to_have_text("—", timeout=100)
    expect(row.locator("button", has_text="消除计时")).to_have_count(0, timeout=100)
    shown_s = time.monotonic() - clicked
    while (after := d.room("R1"))["waiting"] and time.monotonic() - clicked < 1.0:
        time.sleep(0.05)
    api_s = time.monotonic() - clicked
    print(f"cancel: row updated after {shown_s:.2f} s, API said waiting false after {api_s:.2f} s")
    assert shown_s <= 1.0, f"the row showed the cancel after {shown_s:.2f} s"
    assert after["waiting"] is False and after["clock_id"] is None, f"still waiting {api_s:.2f} s after the click"
    # What the service renders next (the refresh after the click, the live push) agrees: once the row
    # has been rendered anew (the mark set before the click is gone), it still shows no clock.
    expect(page.locator('tr[data-room="R1"][data-before-cancel]')).to_have_count(0, timeout=5_000)
    expect(row).not_to_have_class(re.compile(r"\bwaiting\b"))
    expect(row.locator("td.wait")).to_have_text("—")

    # R3's clock started at the same moment and nobody touched it: once its one-minute alert is out
    # (in the feed and in the JSONL sink), R1's threshold has passed too, and R1 must have none.
    def control_alert():
        return [a for a in d.alerts() if a["room_id"] == "R3"]

    fired = d.wait(control_alert, (started + FIRST_ALERT_MS - now_ms()) / 1000 + 20, "the control room's alert")
    assert fired[0]["level"] == "green"
    d.wait(lambda: any(a["room_id"] == "R3" for a in d.alert_lines()), 15, "the control alert in alerts.jsonl")
    assert not [a for a in d.alerts() if a["room_id"] == "R1"], "R1 alerted after its clock was cancelled"
    assert not [a for a in d.alert_lines() if a["room_id"] == "R1"], "the JSONL sink got an alert for R1"
    assert d.room("R1")["alerts"] == []

    as_manager(page, d, "/audit")
    entry = page.locator("table.audit tbody tr").filter(has_text="消除计时").filter(has_text="R1")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(MANAGER_NAME)


# --- 3 ------------------------------------------------------------------------------------------

def test_a_sales_rep_sees_own_and_unassigned_rooms_only(manager, rep, dashboard):
    from playwright.sync_api import expect

    d = dashboard
    as_manager(manager, d, "/rooms")
    for room_id in ("R1", "R2", "R3"):
        expect(manager.locator(f'tr[data-room="{room_id}"]')).to_have_count(1)
    shot(manager, "rooms.png")
    as_manager(manager, d, "/unassigned")
    expect(manager.locator('tr[data-room="R3"]')).to_have_count(1)
    expect(manager.locator('tr[data-room="R1"], tr[data-room="R2"]')).to_have_count(0)
    shot(manager, "unassigned.png")

    rep.goto(f"{d.url}/rooms")
    expect(rep.locator("header .who")).to_contain_text("张三")
    expect(rep.locator('tr[data-room="R1"]')).to_have_count(1)
    expect(rep.locator('tr[data-room="R3"]')).to_have_count(1)
    expect(rep.locator('tr[data-room="R2"]')).to_have_count(0)
    expect(rep.locator("main")).not_to_contain_text("深圳门店装修群")
    expect(rep.locator('nav a[href="/audit"]')).to_have_count(0)

    rep.goto(f"{d.url}/rooms/R2")
    expect(rep.locator("main .error")).to_have_text("这不是您负责的群聊")
    expect(rep.locator("main")).not_to_contain_text("深圳门店装修群")
    expect(rep.locator("main")).not_to_contain_text("报价单")
    assert d.api("GET", "/api/rooms/R2", user="rep1").status_code == 403


# --- 4 ------------------------------------------------------------------------------------------

def test_a_stage_change_is_proposed_approved_and_applied(manager, rep, dashboard):
    from playwright.sync_api import expect

    d = dashboard
    stale = rep.context.new_page()  # a second tab, opened before the proposal: its form is stale
    stale.goto(f"{d.url}/rooms/R1")
    rep.goto(f"{d.url}/rooms/R1")
    form = rep.locator("form#propose")
    form.locator("select[name=to_owner]").select_option("a1")
    form.locator("input[name=note]").fill("客户已下单，转售后跟进")
    form.locator("button", has_text="申请转售后").click()
    expect(rep.locator("main")).to_contain_text("待核准", timeout=5_000)  # the page reloads after the toast
    expect(rep.locator("form#propose")).to_have_count(0)

    # Impossible changes are refused, with the reason shown to the person.
    stale.locator("form#propose button", has_text="申请转售后").click()
    expect(stale.locator("#toast")).to_have_text("该群已有待核准的变更")
    expect(stale.locator("#toast")).to_have_class(re.compile(r"\bbad\b"))
    stale.close()
    refused = d.api("POST", "/api/rooms/R2/stage-proposals", user="rep1",
                    json={"to_stage": "after_sales", "to_owner": "a1"})
    assert refused.status_code == 403 and refused.json()["error"] == "只能操作自己负责的群聊", refused.text
    assert not [a for a in d.api("GET", "/api/approvals").json()["approvals"] if a["room_id"] == "R2"]

    as_manager(manager, d, "/approvals")
    row = manager.locator("tr[data-approval]").filter(has_text="华东家具采购群")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("待核准")
    expect(row).to_contain_text("赵六")
    expect(row).to_contain_text("张三")
    shot(manager, "approvals.png")
    row.locator("button", has_text="核准").click()
    expect(row).to_contain_text("已核准", timeout=5_000)
    expect(row).to_contain_text(MANAGER_NAME)
    expect(row.locator("button")).to_have_count(0)

    room = d.wait(lambda: (r := d.room("R1"))["stage"] == "after_sales" and r, 5, "R1 handed over to after-sales")
    assert room["owner_id"] == "a1" and room["owner_name"] == "赵六", room
    assert room["pending_approval"] is None

    back = d.api("POST", "/api/rooms/R1/stage-proposals", json={"to_stage": "pre_sales", "to_owner": "s1"})
    assert back.status_code == 409 and back.json()["error"] == "售后群不能退回售前", back.text
    rep.goto(f"{d.url}/rooms/R1")  # no longer the rep's room
    expect(rep.locator("main .error")).to_have_text("这不是您负责的群聊")


# --- 5 ------------------------------------------------------------------------------------------

def test_performance_tables_export_as_csv_and_xlsx(manager, dashboard, tmp_path):
    import openpyxl
    from playwright.sync_api import expect

    d = dashboard
    as_manager(manager, d, "/performance")
    expect(manager.locator("main h1")).to_have_text("绩效")
    expect(manager.locator("#sales-table")).to_contain_text("李四")
    shot(manager, "performance.png")

    with manager.expect_download() as info:
        manager.locator('a.export[href^="/api/export/sales.csv"]').click()
    csv_file = info.value
    assert csv_file.suggested_filename.startswith("sales_") and csv_file.suggested_filename.endswith(".csv")
    raw = Path(csv_file.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV carries a BOM, so Excel reads the Chinese"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert {"员工ID", "姓名", "角色", "回复次数", "平均回复(分钟)"} <= set(header), header
    by_name = {row[header.index("姓名")]: row for row in rows[1:]}
    assert {"张三", "李四", "赵六"} <= set(by_name), rows
    assert by_name["李四"][header.index("回复次数")] == "1"

    with manager.expect_download() as info:
        manager.locator('a.export[href^="/api/export/sales.xlsx"]').click()
    xlsx_file = info.value
    assert xlsx_file.suggested_filename.endswith(".xlsx")
    path = tmp_path / xlsx_file.suggested_filename
    xlsx_file.save_as(path)
    sheet = openpyxl.load_workbook(path, read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in table[0]] == header
    assert {r[header.index("姓名")] for r in table[1:]} == set(by_name)


# --- 6 ------------------------------------------------------------------------------------------

def test_today_fits_a_phone_without_sideways_scrolling(chromium, dashboard):
    from playwright.sync_api import expect

    d = dashboard
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   locale="zh-CN")
    try:
        page = context.new_page()
        login(page, d, "mgr")
        expect(page.locator('tr[data-room="R3"]')).to_be_visible()
        wait_live(page)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, f"the today page scrolls sideways on a phone: {width}"
        shot(page, "today-phone.png")
    finally:
        context.close()


# --- 7 ------------------------------------------------------------------------------------------

EMOJI_TEXT = "收到，谢谢🎉👍"
EMOJI = "🎉👍"
COLOURED = 30  # coloured pixels that two emoji at 14 px draw many times over, and an empty box never


def colour_pixels(chromium, png: bytes) -> int:
    """Pixels of a PNG that are clearly coloured (not grey): an emoji font draws them, the empty box
    (tofu) of a missing glyph never does. Counted by a canvas on a blank page: no image library needed."""
    import base64

    context = chromium.new_context()
    try:
        page = context.new_page()
        return page.evaluate("""async (src) => {
            const img = new Image(); img.src = src; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
            }
            return n;
        }""", "data:image/png;base64," + base64.b64encode(png).decode())
    finally:
        context.close()


def test_an_emoji_in_a_message_is_drawn_not_an_empty_box(chromium, manager, dashboard):
    from playwright.sync_api import expect

    d = dashboard
    d.push(message("R2", "c2", EMOJI_TEXT, now_ms(), "深圳门店装修群", "陈女士"))
    d.wait(lambda: any(m["text"] == EMOJI_TEXT for m in d.room("R2")["messages"]), 20, "the emoji message applied")
    as_manager(manager, d, "/rooms/R2")
    line = manager.locator("li div", has_text=EMOJI_TEXT)
    expect(line).to_be_visible()
    # the box around the emoji alone, from a DOM range over those characters
    box = line.evaluate("""(el, emoji) => {
        const node = el.firstChild, at = node.data.indexOf(emoji), r = document.createRange();
        r.setStart(node, at); r.setEnd(node, at + emoji.length);
        const b = r.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height};
    }""", EMOJI)
    assert box["width"] > 0 and box["height"] > 0, box
    drawn = colour_pixels(chromium, manager.screenshot(clip=box))
    assert drawn >= COLOURED, (f"the emoji {EMOJI} rendered without colour ({drawn} coloured pixels): no emoji "
                               "font? apt-get install fonts-noto-color-emoji (make browser)")
    # the control: characters no font has render as empty boxes, and the same measure finds no colour there
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_content('<span id="tofu" style="font-size:14px">\ue000\ue001</span>')
        assert colour_pixels(chromium, page.locator("#tofu").screenshot()) < COLOURED
    finally:
        context.close()
    shot(manager, "room-emoji.png")


# --- 8 ------------------------------------------------------------------------------------------

def test_longest_waits_name_their_room_by_topic(manager, dashboard):
    from playwright.sync_api import expect

    d = dashboard
    as_manager(manager, d, "/performance")
    waits = manager.locator("#longest-waits")
    link = waits.locator('a[href="/rooms/R2"]').first
    expect(link).to_have_text("深圳门店装修群")  # R2's topic, as every other table names it; never the id
