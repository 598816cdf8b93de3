"""`sales-assistant bench alerts`: a small burst through the real pipeline, as a person runs the command. Every
alert is found in both the JSONL sink and the alert log, and the latencies come from the moments the sink's
file held each line; the figures themselves are in benchmarks/README.md, never asserted here."""
from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


def test_a_small_burst_is_delivered_whole_and_timed():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_") and k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "bench", "alerts", "--json",
                           "--rooms", "600", "--alerts", "200", "--span-s", "1", "--lead-s", "12"],
                          capture_output=True, text=True, timeout=800, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert (result["alerts"], result["missing"]) == (200, 0)
    latency = result["latency_ms"]
    # An alert is held once it is in the sink and the log, which cannot be before its threshold.
    assert 0 <= latency["p50"] <= latency["p99"] <= latency["max"]
    assert result["alerts_per_second"] > 0 and result["floor"]["redis_stream_msgs_per_second"] > 0
    assert set(result["cpu_seconds_while_alerts_fire"]) >= {"supervisor", "notifier", "redis"}
