"""In Debian's Chromium against the real `sales-assistant run`: a same-site page cannot frame the logged-in
dashboard (clickjacking), the dashboard runs under its strict content security policy, and a room id
that walks up the path (`/../`) cannot turn a rep's 我来跟进 into a take-over of another room.

Such a room id is refused at the door now; the room here is written straight into the inbox, as an
older version's door let it in, so the dashboard still has to show and act on it safely.
"""
from __future__ import annotations

import http.server
import json
import re
import secrets
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.service import Service, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VICTIM = "R:1073"
EVIL = f"R:evil2/../../rooms/{VICTIM}"
ROSTER = {"staff": [{"id": "s1", "name": "张三", "role": "sales"}, {"id": "m1", "name": "王经理", "role": "manager"}],
          "rooms": [{"id": VICTIM, "topic": "大客户群"}]}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The service, a rep's password and API token, and the two rooms: the victim and the one whose id walks."""
    from sales_assistant.core.messages import Message
    from sales_assistant.store.inbox import Inbox
    from sales_assistant.store.keys import Keys
    from sales_assistant.store.redis import connect, embedded_url, stop_embedded

    base = tmp_path_factory.mktemp("sec")
    data = base / "data"
    (base / "roster.json").write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
    ingest, api = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    env = {"SA_INGEST_TOKEN": ingest, "SA_API_TOKEN": api, "SA_CLOSING_MODEL": "keywords",
           "SA_NLP__CHECK_STAFF": "false", "SA_SINKS": '["null"]', "SA_ROSTER_FILE": str(base / "roster.json")}
    svc = Service(data, env)
    password = secrets.token_urlsafe(12)
    try:
        svc.start(clock="wall", timeout_s=150)
        done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", "add", "rep1", "--role",
                               "sales", "--staff", "s1", "--name", "张三", "--password-stdin", "--data-dir", str(data)],
                              input=password + "\n", env=svc.env, capture_output=True, text=True, timeout=120,
                              cwd=ROOT, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        t = now_ms() - 5_000
        refused = httpx.post(f"{svc.url}/api/messages", headers={"Authorization": f"Bearer {ingest}"}, timeout=10,
                             json={"id": "door", "roomId": EVIL, "fromId": "c9", "text": "hi", "timestamp": t, "type": 7})
        assert refused.status_code == 422, refused.text
        inbox = Inbox(connect(embedded_url(data)), Keys("sa"))
        inbox.push([Message(f"m-{uuid.uuid4().hex}", EVIL, "c9", "有人吗？", t, room_topic="友好的小群"),
                    Message(f"m-{uuid.uuid4().hex}", VICTIM, "c1", "合同什么时候签？", t, room_topic="大客户群")])
        api_headers = {"Authorization": f"Bearer {api}"}

        def room(room_id: str) -> dict:
            r = httpx.get(f"{svc.url}/api/rooms/{quote(room_id, safe='')}", headers=api_headers, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()
        svc.wait_until(lambda: room(EVIL)["waiting"] and room(VICTIM)["waiting"], 30, "both rooms waiting")
        yield svc, password, room
    finally:
        svc.stop()
        stop_embedded(data)


def login(page, url: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "rep1")
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.fixture
def rep(chromium, site):
    svc, password, _ = site
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.violations.append(m.text))
    login(page, svc.url, password)
    yield page
    context.close()


@pytest.fixture
def framing_page(site):
    """A page on another port of the same host (the same site, so the session cookie goes along) that frames
    the dashboard under a button of its own."""
    svc = site[0]
    html = (f'<!doctype html><title>win a prize</title><button id="bait">领奖</button>'
            f'<iframe id="victim" src="{svc.url}/" width="1200" height="800"></iframe>').encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_same_site_page_cannot_frame_the_logged_in_dashboard(rep, site, framing_page):
    svc = site[0]
    rep.goto(f"{svc.url}/")  # logged in: the dashboard itself shows the rep's rooms
    assert rep.locator("header .who").count() == 1
    rep.goto(framing_page)
    rep.wait_for_load_state("load")  # the parent's load waits for its frame: loaded, or refused
    [frame] = [f for f in rep.frames if f is not rep.main_frame]
    shown = 0 if not frame.url.startswith(svc.url) else frame.locator("header .who, button[data-post]").count()
    assert shown == 0, f"the dashboard rendered inside {framing_page} ({frame.url})"


def test_the_dashboard_runs_under_its_content_security_policy(rep, site):
    from playwright.sync_api import expect

    svc = site[0]
    rep.goto(f"{svc.url}/")
    expect(rep.locator("#live-state")).to_have_class(re.compile(r"\bon\b"), timeout=10_000)  # app.js runs
    for path in ("/rooms", "/unassigned", "/performance", "/alerts", f"/rooms/{VICTIM}"):
        rep.goto(f"{svc.url}{path}")
        assert rep.locator("header .who").count() == 1, path
    assert rep.evaluate("getComputedStyle(document.querySelector('header.top')).position") == "sticky"  # app.css
    assert rep.violations == [], rep.violations


def test_take_over_on_a_room_whose_id_walks_up_the_path_acts_on_that_room_only(rep, site):
    from playwright.sync_api import expect

    svc, _, room = site
    rep.goto(f"{svc.url}/unassigned")
    row = rep.locator(f'tr[data-room="{EVIL}"]')
    expect(row).to_contain_text("友好的小群")
    expect(rep.locator(f'tr[data-room="{VICTIM}"]')).to_have_count(1)
    with rep.expect_navigation(timeout=15_000):  # a page without the live list reloads itself after an order
        row.locator("button", has_text="我来跟进").click()
        expect(rep.locator("#toast")).to_have_text("已提交", timeout=5_000)
    svc.wait_until(lambda: room(EVIL)["owner_id"] == "s1", 10, "the rep owns the room they pressed on")
    svc.wait_until(lambda: httpx.get(f"{svc.url}/api/health").json()["caught_up"], 10, "every order applied")
    assert room(VICTIM)["owner_id"] is None, "the take-over landed on another room"
    rep.goto(f"{svc.url}/rooms/{quote(EVIL, safe='')}")
    assert rep.locator("main h1").inner_text().startswith("友好的小群")
