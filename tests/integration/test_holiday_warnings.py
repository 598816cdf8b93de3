"""A year without holiday data: doctor, /api/health and the dashboard warn from the December before, on the
service's clock (virtual here, so "today" is whatever the test ticks to), until `dates:` gives that year."""
from __future__ import annotations

import re

import pytest
import yaml
from fastapi.testclient import TestClient

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.cli.doctor import check_policy
from sales_assistant.config.settings import DEFAULT_POLICY
from sales_assistant.core.timeutil import parse_iso
from sales_assistant.policies.access import UserRole
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.users import Accounts
from sales_assistant.web.app import create_app

pytestmark = pytest.mark.integration
API = {"Authorization": "Bearer api-secret-0123456789"}
NOVEMBER, DECEMBER = parse_iso("2026-11-05T10:00", "Asia/Shanghai"), parse_iso("2026-12-05T10:00", "Asia/Shanghai")


def policy_file(tmp_path, dates: dict | None = None):
    doc = yaml.safe_load(DEFAULT_POLICY.read_text())
    doc["pre_sales"] = {**doc["pre_sales"], "clock": "business"}
    if dates:
        doc["calendars"]["default"]["dates"] = dates
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


@pytest.fixture
def service(redis_dir, namespace, tmp_path):
    def start(dates: dict | None = None) -> TestClient:
        data, url = redis_dir
        config = load_config(data_dir=data, redis_url=url, namespace=namespace, api_token="api-secret-0123456789",
                             policy_file=policy_file(tmp_path, dates))
        inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
        Accounts(inbox.r, inbox.keys).create("boss", "boss-password", UserRole.MANAGER)
        client = TestClient(create_app(build_services(config, inbox, advance=lambda now: 0)))
        client.__enter__()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
        assert client.post("/login", data={"username": "boss", "password": "boss-password", "csrf_token": csrf},
                           follow_redirects=False).status_code == 303
        clients.append(client)
        return client
    clients: list[TestClient] = []
    yield start
    for client in clients:
        client.__exit__(None, None, None)


def test_health_and_banner_warn_of_2027_from_december(service):
    client = service()
    assert client.post("/api/clock/tick", json={"now": NOVEMBER}, headers=API).status_code == 200
    assert client.get("/api/health").json()["holiday_gaps"] == {}
    assert 'id="holiday-gaps"' not in client.get("/").text

    assert client.post("/api/clock/tick", json={"now": DECEMBER}, headers=API).status_code == 200
    assert client.get("/api/health").json()["holiday_gaps"] == {"default": [2027]}
    page = client.get("/").text
    assert 'id="holiday-gaps"' in page and "2027 年的法定节假日与调休尚未可知" in page
    assert "China&#39;s public holidays for 2027 are not known yet" in client.get("/?lang=en").text


def test_dates_for_the_year_silence_the_warning(service):
    client = service({"2027-01-01": [], "2027-02-06": []})
    assert client.post("/api/clock/tick", json={"now": DECEMBER}, headers=API).status_code == 200
    assert client.get("/api/health").json()["holiday_gaps"] == {}
    assert 'id="holiday-gaps"' not in client.get("/").text


def test_doctor_warns_with_an_injected_today(tmp_path):
    settings = load_config(data_dir=tmp_path / "data", policy_file=policy_file(tmp_path)).settings
    assert check_policy(settings, now_ms=NOVEMBER).status == "ok"
    check = check_policy(settings, now_ms=DECEMBER)
    assert check.status == "warn" and "2027" in check.en and "calendars.<team>.dates" in check.en
    # calendars no clock counts in need no warning: the shipped file's stages count wall minutes
    wall = load_config(data_dir=tmp_path / "data").settings
    assert check_policy(wall, now_ms=DECEMBER).status == "ok"
