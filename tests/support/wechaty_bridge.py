"""Start the real WeChat bridge (bridges/wechaty, Node + Wechaty) on wechaty-puppet-mock for tests, and act
in its mock chat through the scenario module tests/support/wechaty_mock.mjs (see there)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from sales_assistant.cli.bridge import BRIDGE_DIR, install_problem
from tests.support.service import free_port

SCENARIO = Path(__file__).with_name("wechaty_mock.mjs")
ROOM = "R1@chatroom"
BOT, CUSTOMER, STAFF = "wxid_bot", "wxid_customer", "s1"


class Bridge:
    """One bridge process at a time, on one spool (its data dir) and one room log, across restarts."""

    def __init__(self, base: Path, url: str, token: str) -> None:
        problem = install_problem()
        if problem is not None:
            raise RuntimeError(f"{problem[1]}: run `make node` (npm ci in {BRIDGE_DIR}) first")
        self.dir, self.room_log, self.log = base / "spool", base / "room.jsonl", base / "bridge.log"
        self.room_log.touch()
        self.port = free_port()
        self.env = {**os.environ, "SA_URL": url, "SA_INGEST_TOKEN": token, "SA_BRIDGE_DIR": str(self.dir),
                    "WECHATY_PUPPET": "wechaty-puppet-mock", "SA_BRIDGE_MOCK_SCRIPT": str(SCENARIO),
                    "SA_MOCK_PORT": str(self.port), "SA_MOCK_ROOM_LOG": str(self.room_log),
                    "SA_BRIDGE_WAIT_S": "2", "SA_BRIDGE_REPORT_S": "1"}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 90) -> Bridge:
        # The product's command, which checks Node and the install and then becomes `node bridge.js` (same pid).
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "sales_assistant.cli.main", "bridge", "wechaty"],
                                         cwd=self.dir.parent, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # up once its mock chat answers
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bridge exited with {self.proc.returncode}: {self.tail()}")
            try:
                httpx.post(f"http://127.0.0.1:{self.port}/ping", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise TimeoutError(f"the bridge's mock chat did not answer in {timeout_s}s: {self.tail()}")

    def act(self, action: str, **body: object) -> None:
        """Something happens in the mock chat: say, join, leave, topic, invite, error, hold-next-say."""
        r = httpx.post(f"http://127.0.0.1:{self.port}/{action}", json=body, timeout=10)
        assert r.status_code == 200, r.text

    def say(self, sender: str, text: str, room: str = ROOM) -> None:
        self.act("say", room=room, **{"from": sender}, text=text)

    def received(self, room: str = ROOM) -> list[dict]:
        """Every message the mock room received, its bot's says included, across the bridge's restarts."""
        lines = self.room_log.read_text().splitlines()
        return [row for row in map(json.loads, lines) if row["room"] == room]

    def said(self, text: str, room: str = ROOM) -> int:
        return sum(1 for m in self.received(room) if m["talkerId"] == BOT and m["text"] == text)

    def spool_records(self) -> list[dict]:
        lines = (self.dir / "spool.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines if line]

    def stopped(self) -> bool:
        """Frozen by the scenario's hold-next-say (SIGSTOP)."""
        return self.proc is not None and psutil.Process(self.proc.pid).status() == psutil.STATUS_STOPPED

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed beyond what the spool already synced."""
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]
