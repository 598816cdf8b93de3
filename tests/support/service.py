"""Start `sales-assistant run` as a real process (its own Ray, the embedded Redis) for tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import psutil

from sales_assistant.benchmarks.process_tree import kill_tree
from sales_assistant.core.messages import Message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_ray_node(proc: subprocess.Popen) -> None:
    """`ray start --block` (started with start_new_session) stops its node, raylet, GCS and workers, on
    SIGTERM; SIGKILL if it has not within 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_answering(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 90) -> None:
    """Until `url` answers 200; raises, with the end of `log`, if `proc` exits first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[3:5]} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout_s}s: {log.read_text()[-3000:]}")


class Service:
    def __init__(self, data_dir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.data_dir, self.port = data_dir, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "SA_DATA_DIR": str(data_dir), **env}
        self.env.pop("RAY_ADDRESS", None)
        self.proc: subprocess.Popen | None = None
        self.log = data_dir.parent / "service.log"

    def start(self, clock: str = "virtual", timeout_s: float = 90) -> Service:
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sales_assistant.cli.main", "run", "--clock", clock, "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_answering(self.proc, f"{self.url}/api/health", self.log, timeout_s)
        return self

    def kill(self, while_frozen: Callable[[list[psutil.Process]], None] | None = None) -> None:
        """A crash of the whole service: every process of its tree (the web process, Ray's GCS, raylet and
        actor workers) frozen at once, then SIGKILLed; returns when none is left. `while_frozen` runs
        in between, when nothing of the service moves: the place to assert what the crash interrupts
        (e.g. that the inbox still held a backlog). The embedded Redis is a daemon apart and survives."""
        assert self.proc is not None
        kill_tree(self.proc.pid, while_frozen)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def wait_until(self, check, timeout_s: float = 60, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"{what} not reached in {timeout_s}s; log: {self.log.read_text()[-3000:]}")


# --- driving the service as the chat platform does, and the replay it must equal --------------------


def wire(m: Message) -> dict:
    """The payload the platform posts for `m` to /api/messages."""
    return {"id": m.id, "roomId": m.room_id, "fromId": m.sender_id, "text": m.text, "timestamp": m.ts,
            "type": int(m.type), "mentionIdList": []}


def comparable(report: dict) -> dict:
    """What must be equal between the live service and a replay: every alert, episode and metric view."""
    return {"alerts": sorted(json.dumps(a, sort_keys=True) for a in report["alerts"]),
            "episodes": report["episodes"], "sales": report["sales"], "rooms": report["rooms"]}


def replay_report(data_dir: Path, redis_url: str, items: list[Message], roster_dict: dict, until: int, day: date,
                  **settings: object) -> dict:
    """The reference: the same messages replayed in-process on virtual time (needs the test's Ray), then
    time moved to `until`; its report for `day`. `settings` as the service's (shards, closing_model, nlp)."""
    from sales_assistant.actors.notifier import SinkSpec
    from sales_assistant.cli.bootstrap import build_pipeline, load_config
    from sales_assistant.config.roster_file import RosterFile

    config = load_config(data_dir=data_dir, redis_url=redis_url, namespace=f"reference-{data_dir.name}", **settings)
    p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
    p.load_roster(RosterFile.model_validate(roster_dict).to_roster(), overwrite_rooms=True)
    p.start(log_to_driver=False)
    try:
        p.replay(items, chunk=50)
        p.advance(until)
        return p.report(day, day)
    finally:
        p.stop()
