"""`sales-assistant bench alerts`: an alert burst through the live pipeline to the JSONL sink.

Monday 09:00 once clocks pause outside working hours: `alerts` of `rooms` rooms each hold one unanswered
customer message whose first threshold falls due within `span_s` seconds, a few seconds after the ingest
has taken them all. Latency runs from an alert's threshold moment (its `at`) to when both the alert log
(the alerts stream: its entry id is the moment Redis appended it) and the JSONL sink (a tail of the file,
read every few milliseconds) hold it. The same run measures the bare-Redis floor: a redis-py loop that
XADDs, XREADGROUPs and XACKs as many entries as the burst, in batches of 500, without any pipeline.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import orjson
import ray

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.benchmarks import workload
from sales_assistant.benchmarks.pipeline import baseline_stream_rate, cpu_seconds, percentile
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import Message
from sales_assistant.core.roster import Stage
from sales_assistant.store.keys import EVENTS_GROUP
from sales_assistant.store.redis import embedded_pid, ensure_embedded, stop_embedded
from sales_assistant.store.streams import caught_up

TAIL_EVERY_S = 0.005


class JsonlTail:
    """Follows a JSONL file from another process: when each alert id first appeared in it (wall seconds).

    While the burst runs it only notes how far the file reached at each moment; the lines are parsed once it
    is over, so that the measuring takes next to no CPU from the two cores the pipeline runs on."""

    def __init__(self, path: Path) -> None:
        self.path, self._reached = path, []  # (wall seconds, bytes in the file by then)
        self.lines = 0  # complete lines so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jsonl-tail", daemon=True)

    def _run(self) -> None:
        while not self.path.exists() and not self._stop.wait(TAIL_EVERY_S):
            pass
        size = 0
        with self.path.open("rb") as f:
            while not self._stop.is_set():
                chunk = f.read()
                if not chunk:
                    self._stop.wait(TAIL_EVERY_S)
                    continue
                size += len(chunk)
                self._reached.append((time.time(), size))
                self.lines += chunk.count(b"\n")

    @property
    def seen(self) -> dict[str, float]:
        """Each alert id -> the first moment the file held its whole line."""
        out: dict[str, float] = {}
        if not self._reached:
            return out
        with self.path.open("rb") as f:
            data = f.read(self._reached[-1][1])
        i, end = 0, 0
        for line in data.split(b"\n")[:-1]:
            end += len(line) + 1
            while self._reached[i][1] < end:
                i += 1
            at = self._reached[i][0]
            if line:
                out.setdefault(orjson.loads(line)["alert_id"], at)
        return out

    def __enter__(self) -> JsonlTail:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def burst(rooms: int, alerts: int, first_due_ms: int, span_ms: int, first_step_ms: dict[Stage, int]) -> list[Message]:
    """One waiting customer in each of `alerts` rooms spread over `rooms`, thresholds evenly over the span."""
    out = []
    for i in range(alerts):
        room = i * rooms // alerts
        stage = Stage.AFTER_SALES if room % 4 == 0 else Stage.PRE_SALES  # as workload.roster stages them
        due = first_due_ms + i * span_ms // max(alerts - 1, 1)
        out.append(Message(f"burst-{i}", f"R{room}", f"c{room}", "在吗？价格是多少？", due - first_step_ms[stage]))
    return out


def run_alert_burst(rooms: int = 100_000, alerts: int = 35_000, span_s: float = 5.0, shards: int = 2,
                    lead_s: float | None = None, timeout_s: float = 300.0) -> dict:
    if alerts > rooms:
        raise ValueError(f"--alerts ({alerts}) cannot exceed --rooms ({rooms}): one waiting customer per room")
    data = Path(tempfile.mkdtemp(prefix="sa-alerts-"))
    try:
        url = ensure_embedded(data)
        floor_rate = baseline_stream_rate(url, alerts)
        config = load_config(data_dir=data, redis_url=url, namespace="bench", shards=shards,
                             closing_model="keywords", nlp={"check_staff": False})
        s = config.settings
        jsonl = data / "alerts.jsonl"
        pipeline = build_pipeline(config, "wall", [SinkSpec("jsonl", path=str(jsonl), lang=s.lang, tz=s.timezone,
                                                            priority=config.priority)], consume=True)
        pipeline.load_roster(RosterFile.model_validate(workload.roster(rooms)).to_roster(), overwrite_rooms=True)
        pipeline.start(log_to_driver=False)
        roles = {n: ray.get(pipeline.actors[n].ping.remote()) for n in ("ingest", "supervisor", "notifier")}
        roles |= {"redis": embedded_pid(data)}

        policy = config.policy
        first_step_ms = {stage: policy.ladders[stage].steps[0].after_minutes * 60_000 for stage in Stage}
        # Thresholds fall only once the ingest and the supervisor have taken every message and clock, so the
        # latency measures the burst, not a queue of unread messages (the result says whether they had).
        lead = lead_s if lead_s is not None else 5 + alerts / 3000
        first_due = int(time.time() * 1000) + int(lead * 1000)
        items = burst(rooms, alerts, first_due, int(span_s * 1000), first_step_ms)
        with JsonlTail(jsonl) as tail:
            t0 = time.perf_counter()
            for i in range(0, len(items), 1000):
                pipeline.push(items[i:i + 1000])
            while not (pipeline.inbox.caught_up() and caught_up(pipeline.r, pipeline.keys.clock_events, EVENTS_GROUP)):
                time.sleep(0.01)
            ingest_s = time.perf_counter() - t0
            cpu_before = cpu_seconds(roles)
            deadline = time.monotonic() + lead + span_s + timeout_s
            while tail.lines < alerts and time.monotonic() < deadline:
                time.sleep(0.05)
            cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu_seconds(roles).items()}
        logged = {orjson.loads(f["d"])["alert_id"]: (int(sid.split("-")[0]), orjson.loads(f["d"])["at"])
                  for sid, f in pipeline.r.xrange(pipeline.keys.alerts)}
        pipeline.stop()
        seen = tail.seen
        held = [(max(seen[a] * 1000, log_ms), at) for a, (log_ms, at) in logged.items() if a in seen]
        latencies = [t - at for t, at in held]
        # Where the time went: threshold -> the supervisor's append to the alert log -> the sink's file.
        fired = [log_ms - at for a, (log_ms, at) in logged.items() if a in seen]
        sunk = [seen[a] * 1000 - log_ms for a, (log_ms, _) in logged.items() if a in seen]
        delivered_s = (max(t for t, _ in held) - first_due) / 1000 if held else float("nan")
        return {
            "alerts": len(held),
            "alerts_per_second": round(len(held) / max(delivered_s, span_s), 1),
            "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p99": round(percentile(latencies, 99), 1),
                           "max": round(max(latencies), 1) if latencies else None},
            "to_alert_log_ms": {"p50": round(percentile(fired, 50), 1), "p99": round(percentile(fired, 99), 1)},
            "alert_log_to_sink_ms": {"p50": round(percentile(sunk, 50), 1), "p99": round(percentile(sunk, 99), 1)},
            "rooms": rooms,
            "span_s": span_s,
            "missing": alerts - len(held),
            "ingest_seconds": round(ingest_s, 1),  # until the ingest and the supervisor had every message
            "lead_s": round(lead, 1),
            "caught_up_before_alerts_due": ingest_s < lead,
            "cpu_seconds_while_alerts_fire": cpu,
            # The floor: the same number of entries through a bare XADD / XREADGROUP / XACK loop, and the
            # seconds that alone takes; no pipeline can move a burst faster than this.
            "floor": {"redis_stream_msgs_per_second": round(floor_rate),
                      "burst_seconds": round(alerts / floor_rate, 2)},
        }
    finally:
        stop_embedded(data)
        shutil.rmtree(data, ignore_errors=True)
