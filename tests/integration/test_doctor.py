"""`sales-assistant doctor` against real things: an embedded Redis, a closed port, the Lark stand-in, local Ray."""
from __future__ import annotations

import json
import os
import socket
import time

import pytest
from typer.testing import CliRunner

from sales_assistant.cli.doctor import check_ray, mask_id, mask_url
from sales_assistant.cli.main import app
from tests.support.lark_standin import LarkStandIn

pytestmark = pytest.mark.integration

INGEST, API = "ingest-token-0123456789abcdef", "api-token-0123456789abcdef"
QUIET_NLP = {"SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}


def doctor(*args: str, **env: str):
    """Run the command in-process with exactly these settings in the environment (the test's own are hidden)."""
    hidden = {k: None for k in os.environ if k.startswith("SA_") or k in ("REDIS_URL", "RAY_ADDRESS")}
    result = CliRunner().invoke(app, ["doctor", *args], env={**hidden, "COLUMNS": "220", **env})
    return result.exit_code, result.output


def by_name(output: str) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(output)["checks"]}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def base_env(tmp_path) -> dict[str, str]:
    return {"SA_DATA_DIR": str(tmp_path / "data"), "SA_INGEST_TOKEN": INGEST, "SA_API_TOKEN": API, **QUIET_NLP}


def test_embedded_redis_is_green_and_nothing_fails(redis_dir, base_env):
    data, _ = redis_dir
    code, out = doctor("--json", **{**base_env, "SA_DATA_DIR": str(data)})
    checks = by_name(out)
    assert code == 0 and json.loads(out)["ok"], out
    redis = checks["redis"]
    assert redis["status"] == "ok", redis
    assert "Redis 6.2" in redis["en"] and "appendonly on" in redis["en"] and "memory used" in redis["en"]
    assert {c["status"] for c in checks.values()} <= {"ok", "warn"}
    assert checks["ingest_token"]["status"] == checks["api_token"]["status"] == "ok"
    assert INGEST not in out and API not in out

    code, table = doctor(**{**base_env, "SA_DATA_DIR": str(data)})
    assert code == 0 and "运行环境检查" in table and "✓ 正常" in table and "Redis 6.2" in table
    code, table = doctor("--lang", "en", **{**base_env, "SA_DATA_DIR": str(data)})
    assert code == 0 and "doctor" in table and "appendonly on" in table


def test_redis_url_on_a_closed_port_fails_with_a_fix_and_never_shows_the_password(base_env):
    port, password = closed_port(), "pa55-w0rd-never-shown"
    url = f"redis://default:{password}@127.0.0.1:{port}/0"
    started = time.monotonic()
    code, out = doctor("--json", "--timeout", "2", **base_env, REDIS_URL=url)
    assert time.monotonic() - started < 30
    redis = by_name(out)["redis"]
    assert code == 1 and redis["status"] == "fail"
    assert f"redis://default:***@127.0.0.1:{port}/0" in redis["en"] and "cannot reach" in redis["en"]
    assert "REDIS_URL" in redis["fix_en"] and "REDIS_URL" in redis["fix_zh"]
    for args in ((), ("--lang", "en"), ("--json",)):
        code, out = doctor(*args, "--timeout", "2", **base_env, REDIS_URL=url)
        assert code == 1 and password not in out


def test_a_bad_config_file_fails_naming_the_field(tmp_path, base_env):
    config = tmp_path / "app.yaml"
    config.write_text("shards: 0\nhttp:\n  port: 99999\n", encoding="utf-8")
    code, out = doctor("--json", **base_env, SA_CONFIG=str(config))
    checks = by_name(out)
    assert code == 1 and list(checks) == ["config"]  # nothing else is checked against settings that do not load
    assert checks["config"]["status"] == "fail"
    assert "shards" in checks["config"]["en"] and "http.port" in checks["config"]["en"]
    code, table = doctor(**base_env, SA_CONFIG=str(config))
    assert code == 1 and "✗ 失败" in table and "shards" in table


def test_a_bad_environment_value_fails_naming_the_field(base_env):
    code, out = doctor("--json", **base_env, SA_SINKS="console,lark")
    assert code == 1 and "sinks" in by_name(out)["config"]["en"]


def test_bad_policy_and_roster_files_fail_naming_the_field(tmp_path, base_env):
    policy, roster = tmp_path / "policy.yaml", tmp_path / "roster.json"
    policy.write_text("pre_sales:\n  steps:\n    - {after_minutes: -5, level: green, targets: [private]}\n"
                      "after_sales:\n  steps:\n    - {after_minutes: 5, level: green, targets: [private]}\n")
    roster.write_text(json.dumps({"staff": [{"id": "s1", "name": "董森", "role": "boss"}], "rooms": []}))
    code, out = doctor("--json", **base_env, SA_POLICY_FILE=str(policy), SA_ROSTER_FILE=str(roster))
    checks = by_name(out)
    assert code == 1
    assert checks["policy"]["status"] == "fail" and "pre_sales.steps.0.after_minutes" in checks["policy"]["en"]
    assert checks["roster"]["status"] == "fail" and "staff.0.role" in checks["roster"]["en"]


def test_weak_tokens_fail_without_being_shown(base_env):
    code, out = doctor("--json", **{**base_env, "SA_INGEST_TOKEN": "short-tok", "SA_API_TOKEN": "short-tok"})
    checks = by_name(out)
    assert code == 1 and checks["ingest_token"]["status"] == "fail" and "9 chars" in checks["ingest_token"]["en"]
    assert "short-tok" not in out


def test_lark_with_the_right_credentials_gets_a_token_without_showing_them(base_env):
    app_id, secret = "cli_doctor_app_0001", "lark-app-secret-value-42"
    with LarkStandIn(app_id, secret) as lark:
        env = {**base_env, "SA_SINKS": '["console", "lark"]', "SA_LARK__APP_ID": app_id,
               "SA_LARK__APP_SECRET": secret, "SA_LARK__DOMAIN": lark.url,
               "SA_LARK__PUBLIC_CHATS": '{"default": "oc_team"}'}
        _, out = doctor("--json", **env)
        assert lark.token_requests == 1
        check = by_name(out)["lark"]
        assert check["status"] == "ok" and "cli_***01" in check["en"], check
        _, table = doctor(**env)
    for text in (out, table):
        assert secret not in text and app_id not in text


def test_lark_with_a_wrong_secret_fails_without_showing_either_secret(base_env):
    app_id, secret, wrong = "cli_doctor_app_0001", "lark-app-secret-value-42", "wrong-secret-value-77"
    with LarkStandIn(app_id, secret) as lark:
        env = {**base_env, "SA_SINKS": '["lark"]', "SA_LARK__APP_ID": app_id, "SA_LARK__APP_SECRET": wrong,
               "SA_LARK__DOMAIN": lark.url, "SA_LARK__PRIVATE_CHATS": '{"s1": "oc_rep"}'}
        code, out = doctor("--json", **env)
        _, table = doctor("--lang", "en", **env)
    check = by_name(out)["lark"]
    assert code == 1 and check["status"] == "fail" and "10014" in check["en"] and "App Secret" in check["fix_en"]
    for text in (out, table):
        assert wrong not in text and secret not in text and app_id not in text


def test_lark_on_without_credentials_names_what_is_missing(base_env):
    code, out = doctor("--json", **base_env, SA_SINKS='["lark"]')
    check = by_name(out)["lark"]
    assert code == 1 and "lark.app_id" in check["en"] and "lark.app_secret" in check["en"]


def test_a_ray_address_nobody_answers_fails_in_time_without_showing_the_token(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "ray-token-never-shown-0123")
    started = time.monotonic()
    check = check_ray(timeout_s=4)
    assert time.monotonic() - started < 15
    assert check.status == "fail" and "RAY_AUTH_TOKEN" in check.en and "ray start --head" in check.fix_en
    assert all("ray-token-never-shown-0123" not in text for text in (check.zh, check.en, check.fix_zh, check.fix_en))


def test_ray_check_joins_a_running_cluster(ray_session, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_session.get_runtime_context().gcs_address)
    check = check_ray(timeout_s=120)
    assert check.status == "ok", check
    assert "nodes 1" in check.en


@pytest.mark.parametrize("url, shown", [
    ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
    ("rediss://alice:s3cret@host:6380", "rediss://alice:***@host:6380"),
    ("redis://host:6379/0?password=s3cret&db=1", "redis://host:6379/0?password=***&db=1"),
    ("unix:///tmp/redis.sock?db=0&password=s3cret", "unix:///tmp/redis.sock?db=0&password=***"),
    ("redis://host:6379", "redis://host:6379"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_mask_id_keeps_too_little_to_use():
    assert mask_id("cli_a1b2c3d4e5f6") == "cli_***f6"
    assert mask_id("short") == "sh***"


def test_the_typo_judge_check_names_missing_weights_and_the_way_out(tmp_path, monkeypatch):
    from sales_assistant.cli.doctor import check_typo_judge
    from sales_assistant.config.settings import Settings
    from sales_assistant.models import typo

    judged = Settings(nlp={"check_staff": True, "typo_model": "ngram+mlm"})
    assert check_typo_judge(judged).status == "ok"  # the shipped weights
    assert check_typo_judge(Settings(nlp={"check_staff": True, "typo_model": "ngram"})).status == "ok"
    monkeypatch.setattr(typo, "JUDGE_ARTIFACTS", tmp_path)
    (tmp_path / "config.json").write_text("{}")
    check = check_typo_judge(judged)
    assert check.status == "fail" and "model.safetensors" in check.zh and "vocab.txt" in check.en
    assert "train_mlm" in check.fix_en and "nlp.typo_model: ngram" in check.fix_zh
    assert check_typo_judge(Settings(nlp={"check_staff": False, "typo_model": "ngram+mlm"})).status == "ok"
