"""`python -m sales_assistant.benchmarks.chaos`: the live service, SIGKILLed piece by piece, must end exactly where a
run without faults ends.

Run A (the reference): the synthetic day replayed in-process (`Pipeline.replay`, virtual time) on
a fresh Redis, no faults: its episodes, metric views and alert ids.

Run B: `sales-assistant run --clock virtual` as a subprocess on an embedded Redis of its own. A
client POSTs the same day to /api/messages in batches of 500, in event-time order, and retries a
batch that failed (connection error, 5xx) with the same message ids: the dedupe at the door makes
retries harmless. Meanwhile an injector, at seeded moments, SIGKILLs the ingest actor's process,
one shard's, the supervisor's, the notifier's, the whole service (every process of its session,
Ray included; then starts it again), and restarts Redis: cleanly (SHUTDOWN writes and fsyncs the
append-only file) or by SIGKILL of redis-server. For this run Redis has `appendfsync always`, so
a write is on disk before its reply: a crash can lose nothing that anyone was told had happened.
(The product ships `everysec`; a crash of the redis-server process alone still loses nothing
written, only a crash of the machine can lose the last second.)

Why virtual time. On the wall clock an alert fires when the clock passes a threshold before the
reply has been *processed*; a fault that delays processing then sends, correctly, an alert the
run without faults does not send, since the service cannot know of a reply it has not read. On
virtual time the supervisor's "now" is the event time of what the shards have committed (the
ingest advances it after each batch) and, at the end, one tick to a fixed moment: every alert is
then a function of the message sequence alone, not of when or in which batches it was processed,
and "equal to the run without faults" is well defined. The webhook, the actors, their restarts
and Redis are the same code as on the wall clock; only the source of "now" differs.

Recovery of a fault is measured twice, from the kill: `back_s`, the component is up again (a
restarted actor process past its __init__, the service answering /api/health, Redis answering
PING); `progress_s`, the entry that was oldest-unfinished at the kill in the stream that
component consumes (inbox for ingest, shards, service and Redis; clock events for the
supervisor; alerts for the notifier) has been acknowledged. The injector waits for both before
the next fault, and the client pauses at a fault's position until it has fired, so every fault
lands mid-stream.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import httpx
import orjson
import psutil
import redis

from sales_assistant.benchmarks import workload
from sales_assistant.benchmarks.process_tree import kill_tree
from sales_assistant.connectors.wechaty import payload_of
from sales_assistant.core.messages import Message
from sales_assistant.core.timeutil import today
from sales_assistant.policies.backlog import stream_key
from sales_assistant.store.keys import EVENTS_GROUP, INBOX_GROUP, Keys
from sales_assistant.store.redis import connect, embedded_pid, embedded_url, ensure_embedded, stop_embedded
from sales_assistant.store.state import stats
from sales_assistant.store.streams import caught_up

START = 1_795_136_400_000  # 2026-11-20 09:00 +08:00
SPAN_MS = 8 * 60 * 60_000
TAIL_MS = 60 * 60_000  # virtual time ends an hour after the last message: open clocks escalate
BATCH = 500
SHARDS = 2
NAMESPACE = "chaos"
INGEST_TOKEN, API_TOKEN = "chaos-ingest", "chaos-api"
KINDS = ("ingest", "shard", "supervisor", "notifier", "service", "redis-restart", "redis-crash")
ACTOR_CLASS = {"ingest": "IngestActor", "shard": "ShardActor", "supervisor": "SupervisorActor",
               "notifier": "NotifierActor"}
ALERT_GROUP = Keys.sink_group("jsonl")
PROGRESS_TIMEOUT_S = 180.0


class ChaosError(RuntimeError):
    pass


def log(text: str) -> None:
    sys.stderr.write(f"[chaos {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


# --- the workload and the reference run ---------------------------------------------------------


def make_day(rooms: int, messages: int, seed: int) -> tuple[list[Message], dict, int]:
    items = workload.day(rooms, messages, start_ms=START, span_ms=SPAN_MS, seed=seed)
    return items, workload.roster(rooms), items[-1].ts + TAIL_MS


def period(until: int, tz: str) -> tuple[date, date]:
    """The run's business days, in the zone the service reads from its settings."""
    return today(START, tz), today(until, tz)


def alert_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    ids = []
    for line in path.read_bytes().splitlines():
        try:
            ids.append(orjson.loads(line)["alert_id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            ids.append(f"<torn line: {line[:60]!r}>")  # counted, so a torn line fails the comparison
    return ids


def reference_run(items: list[Message], roster: dict, until: int, data: Path) -> dict:
    """Run A: the same day, in-process, virtual time, no faults, on a Redis of its own."""
    import ray

    from sales_assistant.actors.notifier import SinkSpec
    from sales_assistant.cli.bootstrap import build_pipeline, load_config
    from sales_assistant.config.roster_file import RosterFile

    url = ensure_embedded(data)
    config = load_config(data_dir=data, redis_url=url, namespace="reference", shards=SHARDS, batch_size=BATCH,
                         closing_model="keywords", nlp={"check_staff": False})
    p = build_pipeline(config, "virtual", [SinkSpec("jsonl", path=str(data / "alerts.jsonl"), tz=config.settings.timezone)])
    p.load_roster(RosterFile.model_validate(roster).to_roster(), overwrite_rooms=True)
    own_ray = not ray.is_initialized()
    try:
        p.start(log_to_driver=False)
        p.replay(items, chunk=BATCH)
        p.advance(until)
        if not p.wait_delivered(600):
            raise ChaosError("reference run: alerts not delivered in 600 s")
        # now = the end of virtual time, as the service's clock reads after its last tick.
        return {"report": p.report(*period(until, config.settings.timezone), now_ms=until),
                "alert_ids": alert_ids(data / "alerts.jsonl"), "stats": stats(p.r, p.keys)}
    finally:
        p.stop()
        if own_ray:
            ray.shutdown()
        stop_embedded(data)


# --- the service under test ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """`sales-assistant run --clock virtual` in a session of its own; "the whole service" is its
    process tree (benchmarks/process_tree.py): the web process, Ray's GCS and raylet, the actor workers."""

    def __init__(self, data: Path, roster_file: Path) -> None:
        self.data, self.port = data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "SA_DATA_DIR": str(data), "SA_INGEST_TOKEN": INGEST_TOKEN, "SA_API_TOKEN": API_TOKEN,
                    "SA_SINKS": '["jsonl"]', "SA_ROSTER_FILE": str(roster_file), "SA_NAMESPACE": NAMESPACE,
                    "SA_SHARDS": str(SHARDS), "SA_BATCH_SIZE": str(BATCH), "SA_CLOSING_MODEL": "keywords",
                    "SA_NLP__CHECK_STAFF": "false"}
        for name in ("RAY_ADDRESS", "REDIS_URL", "SA_REDIS_URL", "SA_RAY_ADDRESS", "SA_CONFIG"):
            self.env.pop(name, None)
        self.proc: subprocess.Popen | None = None
        self.log_path = data / "service.log"

    def start(self, timeout_s: float = 240) -> None:
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "sales_assistant.cli.main", "run", "--clock", "virtual", "--port",
                                          str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ChaosError(f"service exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ChaosError(f"service did not answer in {timeout_s:.0f} s: {self.log_tail()}")

    def kill(self, timeout_s: float = 30) -> None:
        """SIGKILL every process of the service's tree at once, as a crash of the machine's container
        would, and wait until none is left: a straggling old ingest must not consume beside the new one."""
        assert self.proc is not None
        try:
            kill_tree(self.proc.pid, timeout_s=timeout_s)
        except TimeoutError as e:
            raise ChaosError(str(e)) from e
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def actors(self, cls: str) -> list[tuple[int, str]]:
        """(pid, process title) of this service's workers hosting actor class `cls`."""
        out = []
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True) if self.proc else []
        except psutil.Error:
            return []
        for p in children:
            try:
                title = " ".join(p.cmdline()).strip()
            except psutil.Error:
                continue
            if title == f"ray::{cls}" or title.startswith(f"ray::{cls}."):
                out.append((p.pid, title))
        return out

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Pusher(threading.Thread):
    """The chat platform: POSTs the day in order, one batch at a time, retrying what failed."""

    def __init__(self, url: str, items: list[Message], gate) -> None:
        super().__init__(name="chaos-pusher", daemon=True)
        self.url, self.gate = url, gate
        self.batches = [(orjson.dumps([payload_of(m) for m in items[i:i + BATCH]]), len(items[i:i + BATCH]))
                        for i in range(0, len(items), BATCH)]
        self.sent = self.retries = self.rate_limited = self.accepted = self.duplicates = 0
        self.done, self.abort, self.error = False, False, None

    def run(self) -> None:
        try:
            with httpx.Client(timeout=60) as client:
                for body, n in self.batches:
                    self.gate(self.sent)
                    self._post(client, body)
                    self.sent += n
        except Exception as e:  # noqa: BLE001 - reported by the driver
            self.error = e
        finally:
            self.done = True

    def _post(self, client: httpx.Client, body: bytes) -> None:
        headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
        while not self.abort:
            try:
                resp = client.post(f"{self.url}/api/messages", content=body, headers=headers)
                if resp.status_code == 202:
                    self.accepted += resp.json()["accepted"]
                    self.duplicates += resp.json()["duplicates"]
                    return
                if resp.status_code == 429:  # the webhook's rate limit: wait as told, then the same batch
                    self.rate_limited += 1
                    time.sleep(float(resp.headers.get("Retry-After", "1")))
                    continue
                if resp.status_code < 500:
                    raise ChaosError(f"push refused: {resp.status_code} {resp.text[:300]}")
            except httpx.TransportError:
                pass  # the service is down or died mid-request: send the same batch again
            self.retries += 1
            time.sleep(0.2)
        raise ChaosError("aborted")


# --- progress in a stream -------------------------------------------------------------------------


def _group(r: redis.Redis, stream: str, group: str) -> dict | None:
    return next((g for g in r.xinfo_groups(stream) if g["name"] == group), None)


def oldest_unfinished(r: redis.Redis, stream: str, group: str) -> str | None:
    """The entry the group's consumer works on now: its oldest pending one, else the next to read."""
    pending = r.xpending(stream, group)
    if pending["pending"]:
        return pending["min"]
    info = _group(r, stream, group)
    rows = r.xrange(stream, min=f"({info['last-delivered-id']}" if info else "-", count=1)
    return next((entry_id for entry_id, _ in rows), None)


def finished(r: redis.Redis, stream: str, group: str, entry: str) -> bool:
    info = _group(r, stream, group)
    if info is None or stream_key(info["last-delivered-id"]) < stream_key(entry):
        return False
    pending = r.xpending(stream, group)
    return pending["pending"] == 0 or stream_key(pending["min"]) > stream_key(entry)


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    at_message: int  # planned: fires once the client has pushed this many messages
    fired_at_message: int | None = None
    fired_at: str = ""  # wall clock, to read beside the service log
    target: str = ""
    back_s: float | None = None
    progress_s: float | None = None
    note: str = ""


def plan_faults(kinds: list[str], per_kind: int, messages: int, seed: int) -> list[Fault]:
    rng = random.Random(seed)
    order = [k for k in kinds for _ in range(per_kind)]
    rng.shuffle(order)
    positions = sorted(rng.randrange(int(0.05 * messages), int(0.9 * messages)) for _ in order)
    return [Fault(kind, at) for kind, at in zip(order, positions)]


class Injector(threading.Thread):
    def __init__(self, svc: ServiceProcess, data: Path, faults: list[Fault], seed: int) -> None:
        super().__init__(name="chaos-injector", daemon=True)
        self.svc, self.data, self.faults = svc, data, faults
        self.url = embedded_url(data)
        self.keys = Keys(NAMESPACE)
        self.rng = random.Random(seed + 1)
        self.pusher: Pusher | None = None
        self._handled = 0  # faults fired and recovered
        self.error: Exception | None = None
        self.done = False

    def gate(self, sent: int) -> None:
        """The client passes a fault's position only once the fault before it has recovered; the
        fault fires as the client passes, so it lands while the client pushes and the pipeline works."""
        while (nxt := self._handled + 1) < len(self.faults) and self.faults[nxt].at_message <= sent and not self.done:
            time.sleep(0.02)

    def run(self) -> None:
        r = connect(self.url)
        try:
            for f in self.faults:
                while self.pusher.sent < f.at_message and not self.pusher.done:
                    time.sleep(0.01)
                stream, group = self._stream(f.kind)
                deadline = time.monotonic() + 3
                while oldest_unfinished(r, stream, group) is None and time.monotonic() < deadline:
                    time.sleep(0.01)  # strike while there is work in the stream this component consumes
                self._fire(f)
                self._handled += 1
        except Exception as e:  # noqa: BLE001 - reported by the driver
            self.error = e
        finally:
            self.done = True

    def _stream(self, kind: str) -> tuple[str, str]:
        if kind == "supervisor":
            return self.keys.clock_events, EVENTS_GROUP
        if kind == "notifier":
            return self.keys.alerts, ALERT_GROUP
        return self.keys.inbox, INBOX_GROUP

    def _fire(self, f: Fault) -> None:
        r = connect(self.url)
        stream, group = self._stream(f.kind)
        mark = oldest_unfinished(r, stream, group)
        f.fired_at_message = self.pusher.sent
        f.fired_at = time.strftime("%H:%M:%S")
        t0 = time.monotonic()
        if f.kind in ACTOR_CLASS:
            self._kill_actor(f, t0)
        elif f.kind == "service":
            self.svc.kill()
            self.svc.start()
            f.back_s = time.monotonic() - t0
        else:
            self._restart_redis(f, t0)
        if mark is None:
            f.progress_s, f.note = f.back_s, "nothing waited in the stream at the kill"
        else:
            deadline = t0 + PROGRESS_TIMEOUT_S
            while time.monotonic() < deadline:
                try:
                    if finished(r, stream, group, mark):
                        f.progress_s = time.monotonic() - t0
                        break
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                time.sleep(0.02)
            else:
                raise ChaosError(f"{f.kind}: no progress past {stream} entry {mark} within {PROGRESS_TIMEOUT_S:.0f} s "
                                 f"after the kill; service log: {self.svc.log_tail()}")
        log(f"fault {f.kind:<13} {f.target:<22} at message {f.fired_at_message:>7,}: back in {f.back_s:6.2f} s, "
            f"progress in {f.progress_s:6.2f} s {f.note}")

    def _kill_actor(self, f: Fault, t0: float) -> None:
        cls = ACTOR_CLASS[f.kind]
        expected = SHARDS if f.kind == "shard" else 1
        running = sorted(self.svc.actors(cls))
        if len(running) != expected:
            raise ChaosError(f"{cls}: expected {expected} processes, found {running}")
        pid = self.rng.choice(running)[0]
        f.target = f"{cls} pid {pid}"
        os.kill(pid, signal.SIGKILL)
        while time.monotonic() - t0 < PROGRESS_TIMEOUT_S:
            ready = [p for p, title in self.svc.actors(cls) if p != pid and "__init__" not in title]
            if len(ready) == expected:
                f.back_s = time.monotonic() - t0
                return
            time.sleep(0.02)
        raise ChaosError(f"{cls} did not come back within {PROGRESS_TIMEOUT_S:.0f} s: {self.svc.log_tail()}")

    def _restart_redis(self, f: Fault, t0: float) -> None:
        pid = embedded_pid(self.data)
        f.target = f"redis-server pid {pid}"
        if f.kind == "redis-restart":
            stop_embedded(self.data)  # SHUTDOWN: the append-only file is written and fsynced first
        else:
            os.kill(pid, signal.SIGKILL)
            while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                time.sleep(0.01)
        start_redis(self.data)
        f.back_s = time.monotonic() - t0


def start_redis(data: Path) -> str:
    url = ensure_embedded(data)
    connect(url).config_set("appendfsync", "always")  # see the module docstring
    return url


# --- the run --------------------------------------------------------------------------------------


def summarize(faults: list[Fault]) -> dict:
    out = {}
    for kind in dict.fromkeys(f.kind for f in faults):
        rows = [f for f in faults if f.kind == kind]
        entry = {"count": len(rows)}
        for what in ("back_s", "progress_s"):
            values = [getattr(f, what) for f in rows if getattr(f, what) is not None]
            entry[what] = {"median": round(statistics.median(values), 2), "max": round(max(values), 2)} if values else None
        out[kind] = entry
    return out


def compare(ref: dict, report: dict, ids: list[str], got_stats: dict, messages: int) -> tuple[dict, dict]:
    """The checks, and what differs where a check fails."""
    ref_eps = {e["episode_id"]: e for e in ref["report"]["episodes"]}
    got_eps = {e["episode_id"]: e for e in report["episodes"]}
    dup_ids = sorted(i for i, n in Counter(ids).items() if n > 1)
    # Every view of the report (per sales, per room, open clocks, by hour, by day, leaderboard, ...).
    views_differing = [k for k in ref["report"] if k not in ("alerts", "episodes") and report.get(k) != ref["report"][k]]
    checks = {
        "every_message_applied_once": got_stats.get("applied") == messages,
        "every_message_accepted_once_at_the_door": got_stats.get("accepted") == messages,
        # Message-level rejections (out of order, unknown kind, invalid request); a 429 refuses a
        # request, not a message, and is retried.
        "nothing_rejected": not any(k.startswith("rejected") and k != "rejected:rate_limited" for k in got_stats),
        "episodes_equal": got_eps == ref_eps,
        "metric_views_equal": not views_differing,
        "alert_log_equal": report["alerts"] == ref["report"]["alerts"],
        "no_alert_sent_twice": not dup_ids,
        "no_alert_skipped_or_extra": set(ids) == set(ref["alert_ids"]),
        "reference_applied_every_message": ref["stats"].get("applied") == messages,
    }
    diff = {}
    if not checks["episodes_equal"]:
        diff["episodes_missing"] = sorted(ref_eps.keys() - got_eps.keys())[:10]
        diff["episodes_extra"] = sorted(got_eps.keys() - ref_eps.keys())[:10]
        diff["episodes_changed"] = [{"ref": ref_eps[k], "got": got_eps[k]} for k in sorted(ref_eps.keys() & got_eps.keys())
                                    if ref_eps[k] != got_eps[k]][:5]
    if views_differing:
        diff["views_differing"] = views_differing
        ref_rooms = {r["room_id"]: r for r in ref["report"]["rooms"]}
        diff["rooms_changed"] = [{"ref": ref_rooms.get(r["room_id"]), "got": r} for r in report["rooms"]
                                 if ref_rooms.get(r["room_id"]) != r][:5]
    if not checks["alert_log_equal"]:
        ref_rows, got_rows = (Counter(orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in rows)
                              for rows in (ref["report"]["alerts"], report["alerts"]))
        diff["alert_rows_missing"] = [orjson.loads(a) for a in (ref_rows - got_rows)][:5]
        diff["alert_rows_extra"] = [orjson.loads(a) for a in (got_rows - ref_rows)][:5]
    if dup_ids:
        diff["alerts_sent_twice"] = dup_ids[:10]
    if not checks["no_alert_skipped_or_extra"]:
        diff["alerts_skipped"] = sorted(set(ref["alert_ids"]) - set(ids))[:10]
        diff["alerts_extra"] = sorted(set(ids) - set(ref["alert_ids"]))[:10]
    if not checks["every_message_applied_once"] or not checks["every_message_accepted_once_at_the_door"]:
        diff["stats"] = got_stats
    return checks, diff


def wait_for(check, timeout_s: float, what: str, svc: ServiceProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.ConnectionError, redis.TimeoutError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise ChaosError(f"{what} not reached in {timeout_s:.0f} s; service log: {svc.log_tail()}")


def api(method: str, url: str, **kwargs) -> httpx.Response:
    """A manager's call, retried like the client's pushes (the service may be restarting)."""
    for _ in range(600):
        try:
            resp = httpx.request(method, url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=120, **kwargs)
            if resp.status_code < 500:
                resp.raise_for_status()
                return resp
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise ChaosError(f"{method} {url} kept failing")


def run_chaos(rooms: int, messages: int, seed: int, per_kind: int = 1, kinds: list[str] | None = None,
              work_dir: Path | None = None, keep: bool = False) -> dict:
    kinds = list(kinds or KINDS)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    t_start = time.monotonic()
    work = Path(work_dir or tempfile.mkdtemp(prefix="sa-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    items, roster, until = make_day(rooms, messages, seed)
    messages = len(items)
    from sales_assistant.config.settings import load_settings

    first, last = period(until, load_settings().timezone)

    log(f"run A (reference, no faults): {messages:,} messages over {rooms:,} rooms, seed {seed}")
    t = time.monotonic()
    ref = reference_run(items, roster, until, work / "ref")
    ref_s = time.monotonic() - t
    log(f"run A: {len(ref['report']['episodes']):,} episodes, {len(ref['alert_ids']):,} alerts in {ref_s:.1f} s")

    data = work / "svc"
    data.mkdir(parents=True, exist_ok=True)
    roster_file = work / "roster.json"
    roster_file.write_bytes(orjson.dumps(roster))
    r_url = start_redis(data)
    r = connect(r_url)
    svc = ServiceProcess(data, roster_file)
    faults = plan_faults(kinds, per_kind, messages, seed)
    injector = Injector(svc, data, faults, seed)
    pusher = Pusher(svc.url, items, injector.gate)
    injector.pusher = pusher
    try:
        log(f"run B: starting the service ({len(faults)} faults planned: {', '.join(f.kind for f in faults)})")
        svc.start()
        t = time.monotonic()
        pusher.start()
        injector.start()
        while not (pusher.done and injector.done):
            if pusher.error or injector.error:
                break
            time.sleep(0.1)
        injector.done = True  # releases the client if the injector stopped early
        pusher.join()
        if injector.error or pusher.error:
            raise ChaosError(f"run B stopped: {injector.error or pusher.error}")
        push_s = time.monotonic() - t
        keys = Keys(NAMESPACE)
        wait_for(lambda: caught_up(r, keys.inbox, INBOX_GROUP), 600 + messages / 500, "inbox caught up", svc)
        caught_s = time.monotonic() - t
        api("POST", f"{svc.url}/api/clock/tick", json={"now": until})
        wait_for(lambda: caught_up(r, keys.clock_events, EVENTS_GROUP) and caught_up(r, keys.alerts, ALERT_GROUP),
                 600, "every alert delivered", svc)
        report = api("GET", f"{svc.url}/api/metrics", params={"start": str(first), "end": str(last)}).json()
        got_stats = stats(r, keys)
        ids = alert_ids(data / "alerts.jsonl")
        log_text = svc.log_tail(10**9)
    finally:
        pusher.abort = True
        injector.done = True
        svc.stop()
        stop_embedded(data)
    checks, diff = compare(ref, report, ids, got_stats, messages)
    if keep:
        (work / "reports.json").write_bytes(orjson.dumps({"reference": ref, "chaos": report}))
    result = {
        "rooms": rooms, "messages": messages, "seed": seed, "ok": all(checks.values()), "checks": checks,
        "recovery": summarize(faults), "faults": [asdict(f) for f in faults],
        "episodes": len(report["episodes"]), "alerts": len(ids), "open_clocks": report.get("open_clocks"),
        "door": {"pushes_retried": pusher.retries, "rate_limited": pusher.rate_limited,
                 "accepted": got_stats.get("accepted"),
                 "duplicates": got_stats.get("duplicates", 0)},
        "redelivered_and_skipped": got_stats.get("redelivered", 0),
        "service_log_tracebacks": log_text.count("Traceback"),
        "seconds": {"reference": round(ref_s, 1), "push": round(push_s, 1), "until_caught_up": round(caught_s, 1),
                    "total": round(time.monotonic() - t_start, 1)},
        **({"diff": diff} if diff else {}),
        "work_dir": str(work) if keep else None,
    }
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def print_human(result: dict) -> None:
    print(f"chaos: {result['messages']:,} messages over {result['rooms']:,} rooms, seed {result['seed']}: "
          f"{'OK' if result['ok'] else 'FAILED'}")
    for name, passed in result["checks"].items():
        print(f"  {'✓' if passed else '✗'} {name}")
    print("  recovery (seconds from the kill): kind, count, back median/max, progress median/max")
    for kind, row in result["recovery"].items():
        back, prog = row["back_s"] or {}, row["progress_s"] or {}
        print(f"    {kind:<14} {row['count']:>2}  {back.get('median', '-'):>6} / {back.get('max', '-'):<6}"
              f"  {prog.get('median', '-'):>6} / {prog.get('max', '-')}")
    print(f"  {result['episodes']:,} episodes, {result['alerts']:,} alerts, door: {result['door']}, "
          f"redelivered and skipped: {result['redelivered_and_skipped']:,}, seconds: {result['seconds']}")
    if result.get("diff"):
        print("  differences:", orjson.dumps(result["diff"], option=orjson.OPT_INDENT_2).decode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sales_assistant.benchmarks.chaos", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rooms", type=int, default=5000)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults-per-kind", type=int, default=2)
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    ap.add_argument("--work-dir", type=Path, default=None, help="keep data and logs here")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    result = run_chaos(args.rooms, args.messages, args.seed, args.faults_per_kind, args.kinds.split(","),
                       args.work_dir, keep=args.work_dir is not None)
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        print_human(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
