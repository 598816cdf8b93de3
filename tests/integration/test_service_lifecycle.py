"""What the product starts, it stops; after a crash it adopts what was left; a restart labels as replay does.

Real processes throughout: `sales-assistant run` and `replay` as a user starts them, the embedded
redis-server they start, a whole-tree SIGKILL for the crash. Nothing is mocked.
"""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import orjson
import psutil
import pytest

from sales_assistant.core.messages import Message
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect, embedded_pid, embedded_url, ensure_embedded, socket_path, stop_embedded
from sales_assistant.store.report import build_report
from tests.support import scenario
from tests.support.polling import wait_for
from tests.support.service import Service

pytestmark = pytest.mark.integration
T, M = scenario.T, scenario.M
DAY = date(2026, 11, 20)
API_TOKEN = "lifecycle-api-token-0123456789"
KEYWORDS = {"SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}

# Customers' thanks the learned model reads as closing and the built-in list does not: a label taken from
# the list instead of the model starts a clock, and an episode, that replay never has.
ASKS = [("R1", "c1", "合同什么时候能发？", "s1", "今天下午发您", "收到，谢谢"),
        ("R1", "c1", "发票抬头要改一下", "s1", "好的，已经改好了", "好的亲"),
        ("R2", "c2", "系统登录不上", "s2", "重启一下就好了", "明白了，辛苦"),
        ("R2", "c2", "能开专票吗", "s2", "可以的", "了解了，多谢")]


def day_of_messages() -> list[Message]:
    out = []
    for i, (room, customer, ask, staff, answer, thanks) in enumerate(ASKS):
        t = T + i * 10 * M
        out += [Message(f"q{i}", room, customer, ask, t), Message(f"a{i}", room, staff, answer, t + M),
                Message(f"t{i}", room, customer, thanks, t + 2 * M)]
    return out


def servers_on(data_dir: Path) -> list[int]:
    """The redis-server processes serving `data_dir` (each runs in its --dir)."""
    here = str(data_dir.resolve())
    found = []
    for p in psutil.process_iter(["name", "cwd", "status"]):
        if p.info["name"] == "redis-server" and p.info["cwd"] == here and p.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(p.pid)
    return found


def assert_private(data_dir: Path) -> None:
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert {"appendonly.aof", "redis.log"} <= {p.name for p in files}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def terminate(service: Service) -> None:
    """SIGTERM to the service's own process, as systemd or `kill` sends it: the service must stop the rest."""
    assert service.proc is not None
    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(120) == 0, service.log.read_text()[-3000:]


def test_a_clean_stop_leaves_nothing_running(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "alerts.jsonl").write_text("")  # written before under a looser umask: tightened at start
    os.chmod(data / "alerts.jsonl", 0o644)
    service = Service(data, KEYWORDS).start(timeout_s=240)
    pid = embedded_pid(data)
    assert pid is not None and servers_on(data) == [pid]
    tree = psutil.Process(service.proc.pid).children(recursive=True)
    assert_private(data)
    terminate(service)
    assert servers_on(data) == [] and not psutil.pid_exists(pid)
    assert not socket_path(data).exists()
    # Ray's processes, started by the service, go with it.
    assert wait_for(lambda: not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 30), \
        [p.info for p in psutil.process_iter(["pid", "name", "cmdline"]) if p in tree and p.is_running()]
    assert "stopped" in service.log.read_text()


def test_a_server_that_no_longer_answers_is_stopped_not_doubled(redis_dir):
    data, _ = redis_dir
    frozen = embedded_pid(data)
    os.kill(frozen, signal.SIGSTOP)  # alive, its pid file in place, but it answers nothing
    try:
        url = ensure_embedded(data)
    finally:
        if psutil.pid_exists(frozen):
            os.kill(frozen, signal.SIGCONT)
    assert connect(url).ping()
    assert servers_on(data) == [embedded_pid(data)] and embedded_pid(data) != frozen
    stop_embedded(data)
    assert servers_on(data) == []


def write_replay_inputs(tmp_path: Path, messages: list[Message]) -> tuple[Path, Path]:
    lines = [orjson.dumps({"id": m.id, "roomId": m.room_id, "fromId": m.sender_id, "text": m.text,
                           "timestamp": m.ts, "type": 7, "mentionIdList": []}) for m in messages]
    file = tmp_path / "messages.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(scenario.ROSTER, ensure_ascii=False))
    return file, roster


def labelled(report: dict) -> tuple[list, list]:
    """What a closing label decides: which episodes exist and how they ended, and the alerts they fired."""
    episodes = sorted((e["episode_id"], e["ended_by"]) for e in report["episodes"])
    alerts = sorted((a["room_id"], a["level"], a["at"]) for a in report["alerts"])
    return episodes, alerts


@pytest.mark.slow
@pytest.mark.timeout(900)  # three starts of Ray, two with the learned model, on a shared machine
def test_after_a_crash_the_next_start_adopts_redis_and_labels_its_backlog_as_replay(tmp_path):
    """A whole-service crash, a backlog waiting in the inbox, a restart: the learned model labels the
    backlog (the ingest waits for it), and the one Redis left running is adopted, not doubled."""
    messages = day_of_messages()
    until = T + 60 * M
    file, roster = write_replay_inputs(tmp_path, messages)
    learned = {"SA_CLOSING_MODEL": "learned", "SA_NLP__CHECK_STAFF": "false"}

    replay_data = tmp_path / "replay-data"
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "replay", str(file), "--roster",
                           str(roster), "--report", str(tmp_path / "replay.json"), "--until",
                           "2026-11-20T10:00:00+08:00", "--data-dir", str(replay_data), "--quiet"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **learned})
    assert done.returncode == 0, done.stderr[-3000:]
    assert servers_on(replay_data) == [] and not socket_path(replay_data).exists()  # its report written, it stopped
    assert_private(replay_data)
    expected = labelled(json.loads((tmp_path / "replay.json").read_text()))
    assert len(expected[0]) == len(ASKS)  # the thanks started no clock: one episode per question

    data = tmp_path / "data"
    env = {"SA_ROSTER_FILE": str(roster), "SA_API_TOKEN": API_TOKEN}
    service = Service(data, {**env, **KEYWORDS})  # what ran before the crash does not matter here
    service.start(timeout_s=240)
    first_server = embedded_pid(data)
    service.kill()  # the whole tree at once; the embedded Redis is a daemon apart and lives on
    assert servers_on(data) == [first_server]

    r = connect(embedded_url(data))
    Inbox(r, Keys()).push(messages)  # arrived while the service was down (a bridge's spool, a resend)
    try:
        service.env.update(learned)
        service.start(timeout_s=240)
        assert servers_on(data) == [first_server]  # adopted: one server on the data dir, the same one

        def health() -> dict:
            return httpx.get(f"{service.url}/api/health", timeout=5).json()

        service.wait_until(lambda: health()["caught_up"], 300, "the backlog consumed")
        h = health()
        assert h["nlp"]["state"] == "ready" and h["stats"].get("nlp_fallback", 0) == 0, h
        resp = httpx.post(f"{service.url}/api/clock/tick", json={"now": until},
                          headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30)
        assert resp.status_code == 200, resp.text
        got = labelled(build_report(r, Keys(), DAY, DAY, "Asia/Shanghai", 2.0))
        assert got == expected
        terminate(service)
    finally:
        service.stop()
    assert servers_on(data) == []


def _users(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "users", *args, "--data-dir", str(data)],
                          input="pw-for-the-test-1\n", capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "REDIS_URL"})


def test_a_short_command_stops_the_server_it_started_and_leaves_a_running_one_alone(tmp_path):
    data = tmp_path / "short"
    done = _users(data, "add", "alice", "--role", "manager", "--password-stdin")
    assert done.returncode == 0, done.stderr
    assert embedded_pid(data) is None and not socket_path(data).exists()  # it started the server: it stopped it

    ensure_embedded(data)  # a server the command finds running (a service's) ...
    held = connect(embedded_url(data))
    held.ping()  # ... with the service connected
    try:
        pid = embedded_pid(data)
        done = _users(data, "list")
        assert done.returncode == 0 and "alice" in done.stdout, done.stderr
        assert embedded_pid(data) == pid  # left running
    finally:
        stop_embedded(data)
