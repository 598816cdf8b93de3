"""The whole-tree kill the crash tests and the chaos benchmark rely on (benchmarks/process_tree.py):
every process of the tree stops at once, those that left the root's session and process group too,
as Ray's actor workers do."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from sales_assistant.benchmarks.process_tree import kill_tree, tree
from tests.support.polling import wait_for

# A parent in the root's session, and a grandchild that leaves it (setsid, as a worker in a session of
# its own), each appending a line to its file every few ms.
TICKER = textwrap.dedent("""
    import os, sys, time
    path, leave = sys.argv[1], sys.argv[2] == "1"
    if leave:
        os.setsid()
    if len(sys.argv) > 3:
        import subprocess
        subprocess.Popen([sys.executable, __file__, sys.argv[3], "1"])
    while True:
        with open(path, "a") as f:
            f.write("x\\n")
        time.sleep(0.005)
""")


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_kill_tree_freezes_then_kills_every_process_even_one_in_a_session_of_its_own(tmp_path):
    script = tmp_path / "ticker.py"
    script.write_text(TICKER)
    parent_file, worker_file = tmp_path / "parent", tmp_path / "worker"
    root = subprocess.Popen([sys.executable, str(script), str(parent_file), "0", str(worker_file)],
                            start_new_session=True)
    try:
        assert wait_for(lambda: lines(worker_file) > 3 and lines(parent_file) > 3, 20)
        assert len(tree(root.pid)) == 2
        worker = next(p for p in tree(root.pid) if p.pid != root.pid)
        assert worker.pid in {c.pid for c in psutil.Process(root.pid).children()}
        assert psutil.Process(worker.pid).pid != root.pid and __import__("os").getsid(worker.pid) != root.pid

        seen: list[tuple[int, int]] = []

        def frozen(procs: list[psutil.Process]) -> None:
            assert {p.pid for p in procs} == {root.pid, worker.pid}
            before = (lines(parent_file), lines(worker_file))
            time.sleep(0.3)  # a fixed wait on purpose: nothing may move during it
            seen.append(before)
            seen.append((lines(parent_file), lines(worker_file)))

        kill_tree(root.pid, frozen)
        root.wait(10)
        assert seen[0] == seen[1], "a process of the tree kept running while it was meant to be frozen"
        assert not psutil.pid_exists(worker.pid) or worker.status() == psutil.STATUS_ZOMBIE
        after = (lines(parent_file), lines(worker_file))
        time.sleep(0.1)
        assert (lines(parent_file), lines(worker_file)) == after
    finally:
        if root.poll() is None:
            root.kill()
