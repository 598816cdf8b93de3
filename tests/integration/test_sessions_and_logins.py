"""Who gets in, probed against the real `sales-assistant run` (its own Ray, embedded Redis, data dir)
as an attacker on the same machine would: sessions end at once on logout, a password change or a
disabled account; nothing in Redis's files signs a cookie; `users rotate-secret` ends every session;
logins back off per account and per address; the API description is off unless asked for. And the
served demo gives its manager and its rep two different passwords.

The tests share one service; each uses accounts of its own, so their order does not matter.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from base64 import b64encode
from collections.abc import Iterator
from itertools import count, repeat
from pathlib import Path

import httpx
import itsdangerous
import pytest

from sales_assistant.benchmarks.process_tree import kill_tree
from tests.support.polling import wait_for
from tests.support.service import Service, free_port, wait_answering

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
QUIET = {"SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false", "SA_SINKS": '["null"]'}
ROSTER = {"staff": [{"id": "m1", "name": "王经理", "role": "manager"}, {"id": "s1", "name": "张三", "role": "sales"}],
          "rooms": [{"id": "R1", "topic": "华东家具采购群", "owner": "s1"}]}
COOKIE = "sa_session"


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from sales_assistant.store.redis import stop_embedded

    base = tmp_path_factory.mktemp("security")
    (base / "roster.json").write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
    service = Service(base / "data", {**QUIET, "SA_INGEST_TOKEN": secrets.token_urlsafe(24),
                                      "SA_API_TOKEN": secrets.token_urlsafe(24), "SA_ROSTER_FILE": str(base / "roster.json")})
    try:
        yield service.start(clock="virtual", timeout_s=180)
    finally:
        service.stop()
        stop_embedded(service.data_dir)


def users(svc: Service, *args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", *args],
                          input=stdin, env={**svc.env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120,
                          cwd=ROOT, check=False)
    if ok:
        assert done.returncode == 0, f"users {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def add_user(svc: Service, role: str = "manager", staff: str | None = None) -> tuple[str, str]:
    name, password = f"u{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    users(svc, "add", name, "--role", role, *(("--staff", staff) if staff else ()), "--password-stdin",
          stdin=password + "\n")
    return name, password


def client(svc: Service, address: str | None = None) -> httpx.Client:
    """A browser of its own; `address`: the client address a trusted local proxy reports (X-Forwarded-For)."""
    return httpx.Client(base_url=svc.url, timeout=30, headers={"X-Forwarded-For": address} if address else {})


def login(c: httpx.Client, username: str, password: str) -> httpx.Response:
    """Post the login form; the form's CSRF token is fetched once per browser (it holds until a login),
    so that an attempt follows the one before it at once, inside the shortest wait."""
    if COOKIE not in c.cookies or not hasattr(c, "csrf"):
        c.csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)[1]
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": c.csrf})
    if r.status_code == 303 and r.headers["location"] == "/":
        del c.csrf  # a login starts a new session with a new token
    return r


def logged_in(svc: Service, username: str, password: str) -> tuple[httpx.Client, str]:
    """A client with a live session, and that session's cookie as an attacker who copied it would keep it."""
    c = client(svc)
    r = login(c, username, password)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    assert c.get("/api/me").status_code == 200
    return c, c.cookies[COOKIE]


def me_with(svc: Service, cookie: str) -> int:
    return httpx.get(f"{svc.url}/api/me", cookies={COOKIE: cookie}, timeout=30).status_code


def page_csrf(c: httpx.Client) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text)[1]


def test_logout_ends_the_session_at_once(svc):
    name, password = add_user(svc)
    c, cookie = logged_in(svc, name, password)
    assert c.post("/logout", data={"csrf_token": page_csrf(c)}).status_code == 303
    assert me_with(svc, cookie) == 401  # the copied cookie died with the logout, not 12 h later
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_password_change_ends_every_session_of_the_account(svc):
    name, password = add_user(svc, "sales", "s1")
    (_, first), (_, second) = logged_in(svc, name, password), logged_in(svc, name, password)
    other, other_password = add_user(svc)
    _, bystander = logged_in(svc, other, other_password)
    new_password = secrets.token_urlsafe(12)
    users(svc, "passwd", name, "--password-stdin", stdin=new_password + "\n")
    assert me_with(svc, first) == me_with(svc, second) == 401
    assert me_with(svc, bystander) == 200  # other accounts keep their sessions
    assert login(client(svc), name, password).headers["location"] == "/login?error=1"
    logged_in(svc, name, new_password)
    assert "password" in users(svc, "passwd", name, "--password-stdin", stdin="short\n", ok=False).stderr


def test_a_disabled_account_is_shut_out_at_once_and_can_come_back(svc):
    name, password = add_user(svc, "sales", "s1")
    _, cookie = logged_in(svc, name, password)
    token = users(svc, "token", name).stdout.strip().splitlines()[-1]
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{svc.url}/api/me", headers=bearer).status_code == 200
    users(svc, "disable", name)
    assert me_with(svc, cookie) == 401
    assert httpx.get(f"{svc.url}/api/me", headers=bearer).status_code == 401
    assert login(client(svc), name, password).headers["location"] == "/login?error=1"
    assert "disabled" in users(svc, "list").stdout
    users(svc, "enable", name)
    logged_in(svc, name, password)
    assert httpx.get(f"{svc.url}/api/me", headers=bearer).status_code == 200
    assert users(svc, "disable", "nobody-here", ok=False).returncode != 0


def redis_strings(data_dir: Path) -> set[str]:
    """Every value Redis's files (AOF, RDB) hold that could serve as a key or a session id."""
    found: set[str] = set()
    for path in [*data_dir.rglob("*.aof"), *data_dir.rglob("*.rdb")]:
        found.update(m.decode() for m in re.findall(rb"[A-Za-z0-9_\-]{24,128}", path.read_bytes()))
    return found


def forged(key: str, payload: dict) -> str:
    return itsdangerous.TimestampSigner(key).sign(b64encode(json.dumps(payload).encode())).decode()


def test_nothing_in_redis_files_signs_a_cookie_and_rotate_secret_ends_every_session(svc):
    name, password = add_user(svc)
    _, cookie = logged_in(svc, name, password)
    # The AOF is flushed every second: wait until it holds the session just made.
    assert wait_for(lambda: any(b":session:" in p.read_bytes() for p in svc.data_dir.rglob("*.aof")), 10)
    strings = redis_strings(svc.data_dir)
    assert strings  # the files were found and read
    # An attacker holding a copy of the AOF: any value in it as the signing key, any value in it as a session id.
    for candidate in strings:
        for payload in ({"user": name}, {"sid": candidate, "user": name}):
            assert me_with(svc, forged(candidate, payload)) == 401, candidate
    key_file = svc.data_dir / "session.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert key not in strings
    # Even the key itself does not make a session: the session must be one the server started.
    for candidate in strings:
        assert me_with(svc, forged(key, {"sid": candidate, "user": name})) == 401

    done = users(svc, "rotate-secret")
    assert "sessions ended" in done.stdout
    assert key_file.read_text().strip() != key and key_file.stat().st_mode & 0o777 == 0o600
    assert me_with(svc, cookie) == 401
    logged_in(svc, name, password)  # the running service signs with the new key at once


def guess_until_refused(c: httpx.Client, usernames: Iterator[str], at_least_s: int = 2) -> int:
    """Wrong passwords until the service refuses to hear more for `at_least_s` seconds (then the next
    attempt surely falls inside the wait); returns how many it heard."""
    heard = 0
    while heard < 40:
        r = login(c, next(usernames), "wrong-password")
        if r.status_code != 429:
            assert r.headers["location"] == "/login?error=1"
            heard += 1
        elif int(r.headers["retry-after"]) >= at_least_s:
            return heard
        else:
            time.sleep(int(r.headers["retry-after"]))  # a shorter wait: sit it out, then guess again
    raise AssertionError("40 wrong passwords heard and never a wait")


def test_logins_back_off_per_account_with_429_and_retry_after(svc):
    name, password = add_user(svc)
    c = client(svc, "198.51.100.1")
    assert 6 <= guess_until_refused(c, repeat(name)) <= 7  # 5 free, then 1 s, 2 s, …
    refused = login(c, name, password)  # the right password, but too soon: not even tried
    wait_s = int(refused.headers["retry-after"])
    assert refused.status_code == 429 and wait_s >= 1
    assert "登录失败次数过多" in refused.text and f"{wait_s} 秒后再试" in refused.text
    c.cookies.set("lang", "en")
    assert "Too many failed logins" in login(c, name, password).text
    # From another address too: it is the account that is throttled.
    assert login(client(svc, "198.51.100.2"), name, password).status_code == 429
    time.sleep(wait_s + 0.2)
    assert login(c, name, password).headers["location"] == "/"  # after the wait the right password works
    assert login(c, name, "wrong-password").headers["location"] == "/login?error=1"  # and the count began again


def test_logins_back_off_per_address(svc):
    name, password = add_user(svc)
    spraying = client(svc, "198.51.100.3")
    # One guess at each of many accounts: no account's count grows, the address's does (20 free, then 1 s, 2 s).
    assert 21 <= guess_until_refused(spraying, (f"guess{i}" for i in count())) <= 22
    assert login(spraying, name, password).status_code == 429  # the right password of another account too
    assert login(client(svc, "198.51.100.4"), name, password).headers["location"] == "/"


def test_the_api_description_is_off_unless_asked_for(svc):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(f"{svc.url}{path}").status_code == 404, path


@pytest.mark.slow
def test_the_demo_gives_the_manager_and_the_rep_two_passwords(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "COLUMNS": "300", "SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}
    with log.open("w") as out:
        demo = subprocess.Popen([sys.executable, "-m", "sales_assistant.cli.main", "demo", "--data-dir",
                                 str(tmp_path / "demo"), "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
        try:
            wait_answering(demo, f"http://127.0.0.1:{port}/login", log, 240)
            text = log.read_text()
            manager_password = re.search(r"demo / (\S+)（经理", text)[1]
            rep_password = re.search(r"rep / (\S+)（销售", text)[1]
            assert manager_password != rep_password
            svc = Service(tmp_path / "demo", {}, port)
            assert login(client(svc), "demo", rep_password).headers["location"] == "/login?error=1"
            manager, _ = logged_in(svc, "demo", manager_password)
            rep, _ = logged_in(svc, "rep", rep_password)
            assert manager.get("/api/me").json()["role"] == "manager"
            assert rep.get("/api/me").json()["role"] == "sales"
            assert httpx.get(f"{svc.url}/docs").status_code == 200  # the demo shows its API
        finally:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(60)
            except subprocess.TimeoutExpired:
                kill_tree(demo.pid)  # the whole tree: Ray's workers live in process groups of their own


@pytest.mark.parametrize("secure", [False, True])
def test_the_secure_cookie_setting_and_doctor_warning_about_it(redis_dir, namespace, secure):
    from fastapi.testclient import TestClient

    from sales_assistant.cli.bootstrap import build_services, load_config
    from sales_assistant.cli.doctor import check_http
    from sales_assistant.store.inbox import Inbox
    from sales_assistant.store.keys import Keys
    from sales_assistant.store.redis import connect
    from sales_assistant.web.app import create_app

    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, http={"secure_cookies": secure})
    app = create_app(build_services(config, Inbox(connect(url), Keys(namespace))))
    cookie = TestClient(app, base_url="https://testserver").get("/login").headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=") and "httponly" in cookie and "samesite=lax" in cookie
    assert ("; secure" in cookie) is secure
    check = check_http(config.settings)
    assert check.status == ("ok" if secure else "warn")
    assert ("SA_HTTP__SECURE_COOKIES=true" in check.fix_en) is not secure
