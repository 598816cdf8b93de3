"""Kill a whole service at once, as a crash of its machine would: every process it started, Ray's
included, frozen first and then killed, so none of them runs a moment longer than the others.

`os.killpg` is not enough: Ray starts its actor workers in process groups of their own, and a worker
that outlives the web process by a second or two keeps draining streams, which hides exactly the
recovery paths a crash test is meant to exercise. The tree is therefore every process of the root's
session together with every descendant of the root (a worker that left the session stays a child of
its raylet). The chaos benchmark and the crash tests both kill through here.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import psutil


def tree(root: int) -> list[psutil.Process]:
    """The live processes of `root`'s tree: its session and its descendants. `root` must lead a session
    of its own (started with `start_new_session=True`); once it has been reaped its pid may belong to a
    stranger, whose descendants are then left alone."""
    found: dict[int, psutil.Process] = {}
    try:
        top = psutil.Process(root)
        if os.getsid(root) == root:
            for p in [top, *top.children(recursive=True)]:
                found[p.pid] = p
    except (OSError, psutil.Error):
        pass
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == root:
                found.setdefault(p.pid, p)
        except (OSError, psutil.Error):
            continue
    return [p for p in found.values() if _alive(p)]


def kill_tree(root: int, while_frozen: Callable[[list[psutil.Process]], None] | None = None,
              timeout_s: float = 30) -> None:
    """SIGSTOP every process of `root`'s tree until no new one appears (a process may fork while its
    siblings are being stopped), call `while_frozen` with them (nothing of the tree runs meanwhile:
    a test can look at what the crash leaves behind), then SIGKILL them all and wait until none is
    left. Raises TimeoutError if some survive `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    frozen: dict[int, psutil.Process] = {}
    while fresh := [p for p in tree(root) if p.pid not in frozen]:
        for p in fresh:
            _signal(p, signal.SIGSTOP)
            frozen[p.pid] = p
        if time.monotonic() > deadline:
            break
    try:
        if while_frozen is not None:
            while_frozen(list(frozen.values()))
    finally:
        while procs := [p for p in {**frozen, **{q.pid: q for q in tree(root)}}.values() if _alive(p)]:
            for p in procs:
                _signal(p, signal.SIGKILL)
            if time.monotonic() > deadline:
                raise TimeoutError(f"processes of the killed tree survive: {[p.pid for p in procs]}")
            time.sleep(0.05)


def _signal(p: psutil.Process, sig: signal.Signals) -> None:
    try:
        p.send_signal(sig)
    except psutil.Error:
        pass  # gone meanwhile


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
