"""How long `sales-assistant check "…"` takes from the shell prompt to the answer, as a person runs it.

Each run is a fresh process (`python -m sales_assistant.cli.main check TEXT`), timed on the wall clock
until it exits; the figure is the median of `runs`. Three ways, alternated run by run so that the
machine's noise falls on all of them alike:

- `staff_here`: a staff line checked in this process: the closing model, the corpus LM, the typo and
  phrasing checks load. The baseline: what every `check` loaded before issue 14, a customer's line too.
- `customer_here`: a customer's line checked in this process: the closing model alone loads.
- `customer_service`: a customer's line answered by a running service (`--url`, POST /api/check), which
  has its models loaded: the process loads none. The service (`sales-assistant run`, the learned closing
  model, staff checks off) is started first, and asked once before the timed runs (its first answer
  loads its models: `service_first_answer_s`).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from sales_assistant.benchmarks.chaos import API_TOKEN, ServiceProcess

CUSTOMER_TEXT = "好的，那合同发我"
STAFF_TEXT = "合同已经发到您的邮相了"
ROSTER = {"staff": [{"id": "s1", "name": "董森", "role": "sales"}],
          "rooms": [{"id": "R1", "topic": "网易严选", "owner": "s1", "stage": "pre_sales"}]}


def timed(args: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `sales-assistant ARGS` to its exit; raises if it failed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sales_assistant.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"check {args} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def run_check_startup(runs: int = 5, closing_model: str = "learned") -> dict:
    with tempfile.TemporaryDirectory(prefix="sa-check-bench-") as tmp:
        data = Path(tmp) / "svc"
        data.mkdir()
        roster = Path(tmp) / "roster.json"
        roster.write_text(json.dumps(ROSTER, ensure_ascii=False), encoding="utf-8")
        svc = ServiceProcess(data, roster)
        svc.env.update({"SA_CLOSING_MODEL": closing_model})  # the service's own model, as deployed
        svc.start()
        try:
            started = time.perf_counter()
            first = httpx.post(f"{svc.url}/api/check", json={"texts": [CUSTOMER_TEXT], "role": "customer"},
                               headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=600)
            first.raise_for_status()
            first_answer_s = time.perf_counter() - started
            env = {**os.environ, "SA_API_TOKEN": API_TOKEN}
            env.pop("SA_SERVICE_URL", None)
            ways = {
                "staff_here": ["check", STAFF_TEXT, "--role", "staff", "--closing-model", closing_model],
                "customer_here": ["check", CUSTOMER_TEXT, "--role", "customer", "--closing-model", closing_model],
                "customer_service": ["check", CUSTOMER_TEXT, "--role", "customer", "--url", svc.url],
            }
            times: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(runs):
                for way, args in ways.items():
                    times[way].append(timed(args, env))
        finally:
            svc.stop()
    return {"runs": runs, "closing_model": closing_model,
            "median_s": {way: round(statistics.median(t), 2) for way, t in times.items()},
            "all_s": {way: [round(x, 2) for x in t] for way, t in times.items()},
            "service_first_answer_s": round(first_answer_s, 2),
            "load_average": [round(x, 1) for x in os.getloadavg()]}
