"""`sales-assistant bench pipeline` measures the configuration the product ships (the learned closing
model, staff checks in a pool of check actors), and `--closing-model keywords --no-check-staff` the reply
clocks alone. A tiny run of each, as a person runs the command; the figures themselves are in
benchmarks/README.md, never asserted here."""
from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from sales_assistant.benchmarks import workload
from sales_assistant.core.messages import Message

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1200)]  # two runs of Ray and the models
ROOMS, MESSAGES = 40, 400


def bench(*args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SA_") and k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", "bench", "pipeline", "--json",
                           "--rooms", str(ROOMS), "--messages", str(MESSAGES), "--lead-s", "8", "--alert-span-s", "1",
                           *args], capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def texts_by(items: list) -> tuple[int, int]:
    """(customer texts: each gets a closing label, staff texts: each is checked) in the workload."""
    staff = {s["id"] for s in workload.roster(ROOMS)["staff"]}
    messages = [m for m in items if isinstance(m, Message) and m.text]
    return sum(m.sender_id not in staff for m in messages), sum(m.sender_id in staff and m.sender_id != "b0"
                                                                for m in messages)


def test_the_default_configuration_is_measured_with_its_closing_labels_and_staff_checks():
    result = bench("--check-actors", "2")
    customer, staff = texts_by(workload.day(ROOMS, MESSAGES, start_ms=0, span_ms=1000, seed=11))
    assert (result["closing_model"], result["check_staff"], result["check_actors"]) == ("learned", True, 2)
    # Every customer text is labelled: by the actor, or by the built-in list when a call missed the ingest's
    # deadline (a call the actor finished just past it is counted by both).
    assert result["closing_labels"] <= customer <= result["closing_labels"] + result["nlp_fallback"]
    assert result["closing_labels_per_second"] > 0
    assert 0 < result["closing_share_model"] < 1  # the rules decide the exact acknowledgements and questions
    assert isinstance(result["nlp_fallback"], int)
    assert result["staff_checks_caught_up"] and result["staff_checks"] == staff
    lag = result["staff_check_lag_ms"]
    assert 0 <= lag["p50"] <= lag["p99"] and result["staff_checks_per_second"] > 0
    assert set(result["cpu_seconds_during_ingest"]) >= {"nlp", "check-0", "check-1"}


def test_keywords_without_staff_checks_is_the_reply_clocks_alone():
    result = bench("--closing-model", "keywords", "--no-check-staff")
    assert (result["closing_model"], result["check_staff"], result["check_actors"]) == ("keywords", False, 0)
    assert result["nlp_fallback"] == 0 and result["closing_share_model"] is None
    assert "staff_check_lag_ms" not in result and "nlp" not in result["cpu_seconds_during_ingest"]
