"""The `sales-assistant` command as a user runs it: real processes, real Ray, embedded Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support import scenario

pytestmark = pytest.mark.integration


BUILT_IN_NLP = {"SA_CLOSING_MODEL": "keywords", "SA_NLP__CHECK_STAFF": "false"}


def cli(*args: str, cwd: Path | None = None, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, "COLUMNS": "160", **(BUILT_IN_NLP if env is None else env)})


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    lines = []
    for item in scenario.items():
        if hasattr(item, "sender_id"):
            lines.append(orjson.dumps({"id": item.id, "roomId": item.room_id, "fromId": item.sender_id,
                                       "text": item.text, "timestamp": item.ts, "type": 7, "mentionIdList": []}))
        else:
            lines.append(orjson.dumps({"action": "cancel", "roomId": item.room_id, "by": item.by,
                                       "timestamp": item.ts, "reason": item.reason}))
    lines.insert(3, b'{"id": "broken", "roomId": "R1"')  # malformed JSON
    lines.insert(5, orjson.dumps({"id": "x", "roomId": "R1", "fromId": "c1", "timestamp": "soon", "type": 7}))
    messages = tmp_path / "messages.jsonl"
    messages.write_bytes(b"\n".join(lines) + b"\n")
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(scenario.ROSTER, ensure_ascii=False))
    return messages, roster


def test_replay_writes_the_report(tmp_path):
    messages, roster = write_inputs(tmp_path)
    out = tmp_path / "report.json"
    done = cli("replay", str(messages), "--roster", str(roster), "--until", "2026-11-20T10:00:00+08:00",
               "--report", str(out), "--quiet")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "line 4: not valid JSON" in done.stderr and "line 6: timestamp" in done.stderr
    report = json.loads(out.read_text())
    assert set(report) >= {"alerts", "episodes", "sales", "rooms"}
    alert = report["alerts"][0]
    assert set(alert) >= {"room_id", "level", "waited_minutes", "targets", "owner_id", "at"}
    assert alert["at"] == "2026-11-20T09:05:00+08:00"
    assert sorted((a["room_id"], a["level"], a["waited_minutes"], a["targets"]) for a in report["alerts"]) == sorted(
        scenario.EXPECTED_ALERTS)
    assert set(report["sales"][0]) >= {"staff_id", "name", "episodes", "over_threshold", "avg_reply_minutes",
                                       "total_messages"}
    assert set(report["rooms"][0]) >= {"room_id", "topic", "owner_id", "stage", "episodes", "over_threshold",
                                       "avg_reply_minutes", "total_messages", "sales_messages", "employee_messages",
                                       "customer_messages"}
    assert len(report["rejected_lines"]) == 2


def test_bad_policy_and_roster_stop_with_the_field_named(tmp_path):
    messages, roster = write_inputs(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text("pre_sales:\n  steps:\n    - {after_minutes: -5, level: green, targets: [private]}\n"
                      "after_sales:\n  steps:\n    - {after_minutes: 5, level: green, targets: [private]}\n")
    done = cli("replay", str(messages), "--roster", str(roster), "--policy", str(policy), "--report",
               str(tmp_path / "r.json"))
    assert done.returncode == 2 and "pre_sales.steps.0.after_minutes" in done.stderr
    bad_roster = tmp_path / "bad_roster.json"
    bad_roster.write_text(json.dumps({"staff": [{"id": "s1", "name": "a", "role": "boss"}], "rooms": []}))
    done = cli("replay", str(messages), "--roster", str(bad_roster), "--report", str(tmp_path / "r.json"))
    assert done.returncode == 2 and "staff.0.role" in done.stderr


@pytest.mark.slow
def test_demo_prints_alerts_and_tables(tmp_path):
    done = cli("demo", "--no-serve", "--data-dir", str(tmp_path / "demo"), env={})  # the full product: learned model, staff checks
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for colour in ("绿色警报", "黄色警报", "橙色警报", "红色警报", "紫色警报", "灰色警报"):
        assert colour in out
    assert "销售视角" in out and "群聊视角" in out and "群聊细节" in out
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert any(e["ended_by"] == "cancelled" for e in report["episodes"])
    assert len(report["sales"]) == 5 and len(report["rooms"]) >= 30


@pytest.mark.slow
def test_the_served_demo_stops_cleanly_on_ctrl_c(tmp_path):
    """The demo's live feed stops before the pipeline does: Ctrl-C ends it without a traceback."""
    import signal

    from tests.support.service import free_port, wait_answering

    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen([sys.executable, "-m", "sales_assistant.cli.main", "demo", "--data-dir", str(tmp_path / "demo"),
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "COLUMNS": "160", **BUILT_IN_NLP})
        try:
            wait_answering(demo, f"http://127.0.0.1:{port}/login", log, 240)  # the live feed runs from here on
            demo.send_signal(signal.SIGINT)
            assert demo.wait(60) == 0, log.read_text()[-3000:]
        finally:
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGKILL)
    text = log.read_text()
    assert "仪表盘 Dashboard" in text and "demo feed step failed" not in text and "Traceback" not in text, text[-3000:]
    assert "演示日 2026-11-20 的消息按本地日期" in text, text[:3000]  # which day the demo replays, and when


@pytest.mark.slow
def test_replay_joins_an_existing_cluster_through_ray_address(tmp_path):
    """RAY_ADDRESS: the pipeline's actors run on a cluster started beforehand (`ray start --head`)."""
    import glob
    import re
    import tempfile

    from tests.support.polling import wait_for
    from tests.support.service import free_port, stop_ray_node

    messages, roster = write_inputs(tmp_path)
    temp_dir = tempfile.mkdtemp(prefix="rayt", dir="/tmp")  # short: Ray's socket paths must fit
    port = free_port()
    ray_bin = str(Path(sys.executable).with_name("ray"))
    # A loopback-only test cluster: no token to hand around between the two processes.
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen([ray_bin, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
                             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
                             f"--temp-dir={temp_dir}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)

    def node_registered() -> bool:
        """The head's raylet has joined its GCS: a driver connecting now finds a node to run on."""
        status = subprocess.run([ray_bin, "status", f"--address=127.0.0.1:{port}"], env=env, capture_output=True,
                                text=True, timeout=60)
        return re.search(r"Active:\s*\n\s*1 node_", status.stdout) is not None

    try:
        assert wait_for(node_registered, timeout_s=120, interval_s=0.5), "the test cluster did not come up"
        out = tmp_path / "report.json"
        done = cli("replay", str(messages), "--roster", str(roster), "--report", str(out), "--quiet",
                   env={**BUILT_IN_NLP, "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": f"127.0.0.1:{port}"})
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Connected to Ray cluster" in done.stderr
        assert len(json.loads(out.read_text())["episodes"]) == 4
        # The shards, the supervisor and the rest ran as workers of that cluster: their logs are there.
        assert len(glob.glob(f"{temp_dir}/session_latest/logs/worker-*")) >= 5
    finally:
        stop_ray_node(head)
