"""End to end in Debian's Chromium: a rep sets 专注 (focus) on the dashboard's roster page, sees it shown
with the teammate who covers, a customer then waits in the rep's room and the private alert goes to the
backup; back at work, the next one goes to the rep again."""
from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tests.e2e.test_dashboard import DESKTOP, ROOT, Dashboard, login, message, now_ms, service_files, shot
from tests.support.service import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROSTER = {
    "staff": [{"id": "m1", "name": "王经理", "role": "manager"},
              {"id": "s1", "name": "张三", "role": "sales", "backup": "s2"},
              {"id": "s2", "name": "李四", "role": "sales", "backup": "s1"}],
    "rooms": [{"id": "R1", "topic": "华东家具采购群", "owner": "s1"}, {"id": "R2", "topic": "苏州展厅群", "owner": "s1"}],
}
POLICY = {stage: {"steps": [{"after_minutes": 1, "level": "green", "targets": ["private"]}]}
          for stage in ("pre_sales", "after_sales")}
BACKDATE_MS = 50_000  # the customer's words are stamped this long before they are posted: the alert comes soon


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from sales_assistant.store.redis import stop_embedded

    data, ingest, env = service_files(tmp_path_factory.mktemp("presence"), ROSTER, POLICY)
    svc = Service(data, env)
    d = Dashboard(svc, data, ingest, {"rep1": secrets.token_urlsafe(12)})
    try:
        svc.start(clock="wall", timeout_s=300)
        done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", "add", "rep1", "--role",
                               "sales", "--staff", "s1", "--name", "张三", "--password-stdin", "--data-dir", str(data)],
                              input=d.passwords["rep1"] + "\n", env=svc.env, capture_output=True, text=True,
                              timeout=120, cwd=ROOT, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        yield d
    finally:
        svc.stop()
        stop_embedded(data)


def test_focus_is_set_and_shown_and_the_private_alert_goes_to_the_backup(chromium, service):
    from playwright.sync_api import expect

    d = service
    page = chromium.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    login(page, d, "rep1")
    page.goto(f"{d.url}/roster")
    row = page.locator('#presence tr[data-staff="s1"]')
    expect(row.locator("td.state")).to_have_text("在岗")
    assert page.locator('#presence tr[data-staff="s2"] form').count() == 0, "a rep sets only their own state"

    row.locator("select[name=state]").select_option("focus")
    with page.expect_navigation(timeout=15_000):  # a page without the live list reloads itself after an order
        row.locator("button.act").first.click()
        expect(page.locator("#toast")).to_have_text("已提交")

    def shown() -> bool:  # the order is applied by the shard that keeps the rep's state: then the page says so
        page.goto(f"{d.url}/roster")
        return page.locator('#presence tr[data-staff="s1"] td.state').inner_text() == "专注"

    d.wait(shown, 20, "the focus state on the roster page")
    expect(row.locator("td.covered")).to_have_text("李四")
    shot(page, "presence.png")

    started = now_ms() - BACKDATE_MS
    d.push(message("R1", "c1", "请问这款沙发有现货吗？", started, "华东家具采购群", "刘先生"))

    def alert_of(room_id: str):
        return next((a for a in d.alert_lines() if a["room_id"] == room_id), None)

    alert = d.wait(lambda: alert_of("R1"), 40, "R1's green alert")
    assert (alert["presence"], alert["private_to"], alert["targets"]) == ("focus", "s2", ["private"])

    with page.expect_navigation(timeout=15_000):
        row.get_by_role("button", name="恢复在岗").click()
    d.wait(lambda: (page.goto(f"{d.url}/roster"),
                    page.locator('#presence tr[data-staff="s1"] td.state').inner_text() == "在岗")[1],
           20, "back at work on the roster page")
    d.push(message("R2", "c2", "展厅周末开门吗？", now_ms() - BACKDATE_MS, "苏州展厅群", "陈女士"))
    back = d.wait(lambda: alert_of("R2"), 40, "R2's green alert")
    assert "private_to" not in back and back["owner_id"] == "s1"
    page.context.close()
