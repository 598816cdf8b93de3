"""`sales-assistant bench pipeline`: synthetic messages through the whole live pipeline.

It runs the configuration the product ships (config/app.yaml: the learned closing model, staff checks
on every rep message) unless told otherwise (`--closing-model keywords --no-check-staff`: the reply
clocks alone). Phase 1 (throughput): M messages over N rooms pushed into the Redis inbox (as fast as
it takes them, or at `rate` messages/s) while the ingest, the shards and the supervisor consume on
their own, state persisted; the closing labels' count, speed, fallbacks and the share the model had to
decide come with it. The staff checks run beside it at their own pace: their lag (from a staff
message's commit to its findings' commit) and throughput are measured until they have caught up. Phase 2 (alert latency): the
clocks left unanswered cross their 5-minute threshold on the wall clock a few seconds after the
ingest has caught up; latency = the notifier holding the alert minus the threshold moment.
The same run also measures a bare redis-py stream loop as the baseline the pipeline is held to.
"""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
import ray
import redis

from sales_assistant.actors import settle_heap
from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.actors.pipeline import Pipeline
from sales_assistant.actors.shard import ShardActor
from sales_assistant.benchmarks import workload
from sales_assistant.cli.bootstrap import build_pipeline, load_config
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.core.messages import Message
from sales_assistant.store.keys import NLP_GROUP
from sales_assistant.store.redis import embedded_pid, ensure_embedded, stop_embedded
from sales_assistant.store.state import RECENT_PER_ROOM, stats
from sales_assistant.store.streams import caught_up

MINUTE = 60_000


def baseline_stream_rate(url: str, n: int, batch: int = 500) -> float:
    """A bare XADD / XREADGROUP / XACK loop, the floor of what any stream consumer pays here."""
    r = redis.Redis.from_url(url)
    key, payload = "bench:baseline", b'["1","R1","c1","\xe5\x9c\xa8\xe5\x90\x97",1,7,[],null,null,false]'
    r.delete(key)
    r.xgroup_create(key, "g", id="0", mkstream=True)
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        pipe = r.pipeline(transaction=False)
        for _ in range(min(batch, n - i)):
            pipe.xadd(key, {"k": "m", "d": payload})
        pipe.execute()
    done = 0
    while done < n:
        rows = r.xreadgroup("g", "c", {key: ">"}, count=batch)
        ids = [sid for _, entries in rows for sid, _ in entries]
        r.xack(key, "g", *ids)
        done += len(ids)
    rate = n / (time.perf_counter() - t0)
    r.delete(key)
    return rate


class RssSampler:
    """Peak of the summed resident memory of every pipeline process, sampled every 100 ms."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(p) for p in pids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for p in self.procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(roles: dict[str, int | None]) -> dict[str, float]:
    """CPU time (user + system) each pipeline process has used so far: which part saturates first."""
    out = {}
    for role, pid in roles.items():
        try:
            t = psutil.Process(pid).cpu_times()
            out[role] = t.user + t.system
        except (psutil.Error, TypeError):
            out[role] = 0.0
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def run_pipeline_benchmark(rooms: int, messages: int, shards: int = 2, batch_size: int = 1000,
                           latency_lead_s: float | None = None, alert_span_s: float = 8.0,
                           closing_model: str | None = None, check_staff: bool | None = None,
                           check_actors: int | None = None, rate: float | None = None,
                           checks_timeout_s: float = 600.0) -> dict:
    """`alert_span_s`: the conversations' time span, so also the window in which the unanswered
    questions' alerts fall due (a burst when short; a steadier rate when long). `closing_model`,
    `check_staff`, `check_actors`: None keeps the configured value. `rate`: messages offered per second
    (None: as fast as the inbox takes them). `checks_timeout_s`: how long to wait, after the alerts, for
    the staff checks to catch up."""
    data = Path(tempfile.mkdtemp(prefix="sa-bench-"))
    try:
        url = ensure_embedded(data)
        baseline = baseline_stream_rate(url, min(messages, 50_000))
        overrides: dict = {"closing_model": closing_model} if closing_model else {}
        nlp = {k: v for k, v in (("check_staff", check_staff), ("check_actors", check_actors)) if v is not None}
        config = load_config(data_dir=data, redis_url=url, namespace="bench", shards=shards, batch_size=batch_size,
                             **overrides, **({"nlp": nlp} if nlp else {}))
        settings = config.settings
        pipeline = build_pipeline(config, "wall", [SinkSpec("null", tz=settings.timezone)], consume=True)
        pipeline.load_roster(RosterFile.model_validate(workload.roster(rooms)).to_roster(), overwrite_rooms=True)
        pipeline.start(log_to_driver=False)
        shard_actors = [a for name, a in pipeline.actors.items() if name.startswith("shard-")]
        # The same shard code on an empty namespace: the memory a shard needs before any room.
        probe = ShardActor.options(num_cpus=0).remote(0, 1, url, "bench-empty", settings.timezone)
        empty_uss = ray.get(probe.memory.remote())["uss"]
        ray.kill(probe)
        roles = {f"shard-{i}": m["pid"] for i, m in enumerate(ray.get([a.memory.remote() for a in shard_actors]))}
        nlp_actors = [n for n in pipeline.actors if n == "nlp" or n.startswith("check-")]
        # Ready before the clock starts: loading the models is not what is measured.
        roles |= {n: ray.get(pipeline.actors[n].ping.remote())
                  for n in ("ingest", "supervisor", "notifier", *nlp_actors)}
        roles |= {"redis": embedded_pid(data), "driver": os.getpid()}
        pids = [p for p in roles.values() if p]
        cpu_before = cpu_seconds(roles)
        commands_before = redis.Redis.from_url(url).info("stats")["total_commands_processed"]

        # Thresholds (5 min after each unanswered question) must fall after the ingest is done,
        # so the latency measures the supervisor and notifier, not a queue of unread messages.
        lead_s = latency_lead_s if latency_lead_s is not None else 5 + messages / 8000
        now = int(time.time() * 1000)
        items = workload.day(rooms, messages, start_ms=now - 5 * MINUTE + int(lead_s * 1000),
                             span_ms=int(alert_span_s * 1000), seed=11)
        settle_heap()  # the driver stands in for the webhook, which holds no 100k-message list
        with RssSampler(pids) as rss:
            t0 = time.perf_counter()
            for i in range(0, len(items), 1000):
                if rate:  # offered at `rate`: chunk i waits for its moment
                    time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                pipeline.push(items[i:i + 1000])
            while not pipeline.inbox.caught_up():
                time.sleep(0.005)
            elapsed = time.perf_counter() - t0
            cpu_mid = cpu_seconds(roles)
            cpu_used = {k: round(v - cpu_before[k], 2) for k, v in cpu_mid.items()}
            commands = redis.Redis.from_url(url).info("stats")["total_commands_processed"] - commands_before
            due_until = (items[-1].ts + 5 * MINUTE) / 1000
            while time.time() < due_until + 1.5:
                time.sleep(0.1)
            waiting = ray.get(pipeline.actors["supervisor"].watching.remote())  # each of them owes one alert
            received = all_alerts(pipeline, owed=waiting)
            cpu_alerts = {k: round(v - cpu_mid[k], 2) for k, v in cpu_seconds(roles).items()}
        checks = staff_checks(pipeline, t0, checks_timeout_s, cpu_before, roles) if settings.nlp.check_staff else {}
        closing = closing_figures(pipeline, items, elapsed, cpu_used.get("nlp"))
        answer_everyone(pipeline, items)  # every room at rest before it is weighed
        fallbacks = stats(pipeline.r, pipeline.keys).get("nlp_fallback", 0)
        pipeline.stop()
        idle = idle_room_memory(url, settings.namespace, shards, settings.timezone, empty_uss)
        footprint = redis_footprint(url, settings.namespace, rooms)
        latencies = [arrived * 1000 - at for _, at, arrived in received if at / 1000 > t0_wall(t0)]
        return {
            "messages": len(items),
            "rooms": rooms,
            "messages_per_second": round(len(items) / elapsed),
            "closing_model": settings.closing_model,
            "check_staff": settings.nlp.check_staff,
            "check_actors": settings.nlp.check_actors if settings.nlp.check_staff else 0,
            "offered_rate": rate,
            "nlp_fallback": fallbacks,
            **closing,
            **checks,
            "alert_latency_ms": {"p50": round(percentile(latencies, 50), 1), "p99": round(percentile(latencies, 99), 1)},
            "peak_rss_mb": round(rss.peak / 2**20, 1),
            "alerts": len(received),
            "clocks_waiting": waiting,
            "shard_bytes_per_idle_room": idle,
            "shards": shards,
            "cpu_seconds_during_ingest": cpu_used,
            "cpu_seconds_while_alerts_fire": cpu_alerts,  # from the ingest caught up to the last alert held
            "ingest_seconds": round(elapsed, 1),
            "alert_span_s": alert_span_s,
            "latency_lead_s": round(lead_s, 1),  # thresholds start passing this long after the first push
            # False: the ingest was still busy when alerts fell due, so the latency includes its queue
            "caught_up_before_alerts_due": elapsed < lead_s,
            "redis_commands_per_message": round(commands / len(items), 2),  # scripts count their inner calls
            "redis": footprint,
            "baseline_redis_stream_msgs_per_second": round(baseline),
        }
    finally:
        stop_embedded(data)
        shutil.rmtree(data, ignore_errors=True)


def closing_figures(pipeline: Pipeline, items: list, elapsed: float, nlp_cpu_s: float | None) -> dict:
    """Closing labels given while the inbox was drained: how many, how fast (wall, and per CPU second of
    the NLP actor: per core), and the share the model decided (the rest the rules decided alone)."""
    if "nlp" in pipeline.actors:
        got = ray.get(pipeline.actors["nlp"].closing_stats.remote())
        labels, share, abandoned = got["labels"], got["reached_model"] / max(got["labels"], 1), got["abandoned"]
    else:  # the built-in list, in the ingest: one label per customer text, as actors/ingest.py asks them
        staff = {s["id"] for s in workload.roster(0)["staff"]}
        labels, share = sum(1 for m in items if isinstance(m, Message) and m.sender_id not in staff and m.text), None
        abandoned = None
    return {"closing_labels": labels,
            # calls the NLP actor gave up past the ingest's deadline (their labels: nlp_fallback)
            "closing_calls_abandoned": abandoned,
            "closing_labels_per_second": round(labels / elapsed),
            "closing_labels_per_cpu_second": round(labels / nlp_cpu_s) if nlp_cpu_s else None,
            "closing_share_model": None if share is None else round(share, 3)}


def staff_checks(pipeline: Pipeline, t0: float, timeout_s: float, cpu_before: dict[str, float],
                 roles: dict[str, int | None]) -> dict:
    """Wait (at most `timeout_s`) until every staff text is checked; then the lag from each staff
    message's commit to its findings' commit, and the checks' speed: per wall second since the first
    push, and per CPU second of the check actors (per core: what sizes a cluster)."""
    deadline = time.monotonic() + timeout_s
    while not (done := caught_up(pipeline.r, pipeline.keys.staff_texts, NLP_GROUP)) and time.monotonic() < deadline:
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    cpu = sum(v - cpu_before[k] for k, v in cpu_seconds(roles).items() if k.startswith("check-"))
    got = ray.get([a.check_stats.remote() for n, a in pipeline.actors.items() if n.startswith("check-")])
    checked = sum(g["checked"] for g in got)
    lags = [lag for g in got for lag, texts in g["lags"] for _ in range(texts)]
    return {"staff_checks": checked,
            "staff_checks_caught_up": done,
            "staff_check_lag_ms": {"p50": round(percentile(lags, 50)), "p99": round(percentile(lags, 99))}
            if lags else None,
            "staff_checks_per_second": round(checked / wall, 1),
            "staff_checks_per_cpu_second": round(checked / cpu, 1) if cpu else None}


def redis_footprint(url: str, namespace: str, rooms: int, sample: int = 2000) -> dict:
    """Redis memory once every room is at rest, by key family (`rooms`, `recent`, `seen`, `episodes`,
    ...: the name after the namespace): what ten times more rooms would need.

    A family of few keys is weighed whole (MEMORY USAGE, every field); one of many small keys (a
    recent-message list per room, an idempotency marker per message) by a sample of `sample` keys
    times their count. What no family accounts for (key expiries, the main dictionary) is `unaccounted`."""
    r = redis.Redis.from_url(url)
    mem = r.info("memory")
    keys_by_family: dict[str, list[str]] = {}
    for key in r.scan_iter(match=f"{namespace}:*", count=10_000):
        keys_by_family.setdefault(key.decode().split(":")[1], []).append(key)
    sizes: dict[str, int] = {}
    for family, keys in keys_by_family.items():
        weighed = keys[:sample]
        sizes[family] = round(sum(r.memory_usage(k, samples=0) or 0 for k in weighed) / len(weighed) * len(keys))
    recent, seen = keys_by_family.get("recent", []), keys_by_family.get("seen", [])
    dataset = mem["used_memory_dataset"]
    return {
        "used_memory_mb": round(mem["used_memory"] / 2**20, 1),
        "dataset_mb": round(dataset / 2**20, 1),
        "by_family_mb": {f: round(b / 2**20, 1) for f, b in sorted(sizes.items(), key=lambda kv: -kv[1])},
        "unaccounted_mb": round((dataset - sum(sizes.values())) / 2**20, 1),
        "room_snapshot_bytes_per_room": round(sizes.get("rooms", 0) / rooms),
        "recent_list_bytes_per_room": round(sizes.get("recent", 0) / max(len(recent), 1)),
        "rooms_with_recent_list": len(recent),
        # a list at its cap of RECENT_PER_ROOM, built from real entries
        "recent_list_bytes_full": full_recent_list_bytes(r, recent[:sample], f"{namespace}:probe") if recent else None,
        "seen_marker_bytes_per_message": round(sizes.get("seen", 0) / max(len(seen), 1)),
        "seen_markers": len(seen),
    }


def full_recent_list_bytes(r: redis.Redis, lists: list, probe: str) -> int:
    """A room's recent-message list once it holds its RECENT_PER_ROOM entries (the benchmark's rooms
    see only a few messages each): the sampled lists' own entries pushed into one list and weighed."""
    entries = [e for key in lists[:RECENT_PER_ROOM] for e in r.lrange(key, 0, -1)][:RECENT_PER_ROOM]
    r.delete(probe)
    r.rpush(probe, *entries)
    size = r.memory_usage(probe, samples=0) or 0
    r.delete(probe)
    return size


def all_alerts(pipeline: Pipeline, owed: int = 0, quiet_s: float = 3.0, timeout_s: float = 300.0) -> list:
    """What the notifier holds once the alert stream has not grown for `quiet_s` and every alert in
    it is delivered: when the alerts fall due faster than they go out, the backlog is measured whole.
    Until the stream holds the `owed` alerts (one per waiting clock) the quiet must last ten times as
    long: a supervisor still draining a late ingest's clock events has not fired yet.
    Polls Redis, not the notifier, so the waiting costs the notifier nothing."""
    notifier, stream = pipeline.actors["notifier"], pipeline.keys.alerts
    length, last_change, deadline = -1, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = pipeline.r.xlen(stream)
        if now != length:
            length, last_change = now, time.monotonic()
        elif (time.monotonic() - last_change >= (quiet_s if now >= owed else 10 * quiet_s)
              and ray.get(notifier.drained.remote())):
            break
        time.sleep(0.5)
    return ray.get(notifier.received.remote())


def answer_everyone(pipeline: Pipeline, items: list) -> None:
    """A staff reply in every room whose clock still runs, so the rooms weighed next are idle."""
    last = {}
    for m in items:
        last[m.room_id] = m
    now = int(time.time() * 1000)
    replies = [Message(f"close-{room_id}", room_id, f"s{int(room_id[1:]) % 20}", "已处理", max(now, m.ts + 1))
               for room_id, m in last.items()]
    for i in range(0, len(replies), 1000):
        pipeline.push(replies[i:i + 1000])
    while not pipeline.inbox.caught_up():
        time.sleep(0.01)


def idle_room_memory(url: str, namespace: str, shards: int, tz: str, empty_uss: int) -> int | None:
    """Weigh fresh shards that rebuild their rooms from Redis, as after a crash: the steady-state
    cost of a room at rest, without the garbage a busy batch leaves behind."""
    fresh = [ShardActor.options(num_cpus=0).remote(i, shards, url, namespace, tz) for i in range(shards)]
    after = ray.get([a.memory.remote() for a in fresh])
    for actor in fresh:
        ray.kill(actor)
    per_room = [(m["uss"] - empty_uss) / m["rooms"] for m in after if m["rooms"]]
    return round(statistics.median(per_room)) if per_room else None


def t0_wall(t0_perf: float) -> float:
    """The wall-clock second at which perf_counter read t0_perf."""
    return time.time() - (time.perf_counter() - t0_perf)
