"""`sales-assistant check --url`: the running service answers (POST /api/check) with its own models, as a
check in this process would, behind the API's token."""
from __future__ import annotations

import os
import subprocess
import sys

import httpx
import orjson
import pytest

from tests.support.service import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOKEN = "api-token-0123456789"
LINES = ["好的", "收到", "报价单发我一下", "在吗？", "👌"]


def check(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "check", *args], input=stdin,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("check") / "svc"
    svc = Service(data, {"SA_API_TOKEN": TOKEN, "SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false",
                         "SA_NAMESPACE": "check"}).start(timeout_s=240)
    yield svc
    svc.stop()


def test_the_service_answers_check_with_its_models_as_a_local_check_does(service):
    stdin = "".join(line + "\n" for line in LINES)
    remote = check("--role", "customer", "--jsonl", "--url", service.url, stdin=stdin, env={"SA_API_TOKEN": TOKEN})
    local = check("--role", "customer", "--jsonl", "--closing-model", "keywords", stdin=stdin)
    assert remote.returncode == 0 and local.returncode == 0, remote.stderr + local.stderr
    verdicts = [orjson.loads(line) for line in remote.stdout.splitlines()]
    assert [(v["text"], v["closing"]) for v in verdicts] == [("好的", True), ("收到", True),
                                                             ("报价单发我一下", False), ("在吗？", False), ("👌", True)]
    assert remote.stdout == local.stdout

    one = check("收到", "--role", "customer", "--url", service.url, "--lang", "en", env={"SA_API_TOKEN": TOKEN})
    assert one.returncode == 0 and "closing reply, needs no answer (1.00)" in one.stdout


def test_check_over_http_needs_a_token_and_valid_input(service):
    api = f"{service.url}/api/check"
    assert httpx.post(api, json={"texts": ["好的"]}).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(api, json={"texts": []}, headers=auth).status_code == 422
    bad = httpx.post(api, json={"texts": ["好的"], "role": "boss"}, headers=auth)
    assert bad.status_code == 422 and "role" in bad.text
    assert httpx.post(api, json={"texts": ["x" * 5001]}, headers=auth).status_code == 422
    staff = httpx.post(api, json={"texts": ["好的，我下午看下"], "role": "staff"}, headers=auth).json()["verdicts"]
    assert staff[0]["typos"] == [] and staff[0]["corrected"] is None  # staff checks are off on this service

    no_token = check("好的", "--url", service.url, env={"SA_API_TOKEN": ""})
    assert no_token.returncode == 2 and "SA_API_TOKEN" in no_token.stderr
    wrong = check("好的", "--url", service.url, env={"SA_API_TOKEN": "not-the-token"})
    assert wrong.returncode == 2 and "401" in wrong.stderr
