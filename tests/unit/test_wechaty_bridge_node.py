"""The WeChat bridge's own unit tests (bridges/wechaty/test: the spool, its drain, the outbox consumer) run
with Node's test runner; this runs them from pytest, so CI runs them with everything else."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from sales_assistant.cli.bridge import BRIDGE_DIR, MIN_NODE, install_problem, node_version


def test_the_bridges_node_tests_pass():
    found = node_version()
    if found is None or found[0] < MIN_NODE:
        pytest.fail(f"Node >= {MIN_NODE} is needed for bridges/wechaty (found {found}); `make node` installs it",
                    pytrace=False)
    if (problem := install_problem()) is not None:
        pytest.fail(f"{problem[1]}: run `make node`", pytrace=False)
    done = subprocess.run([shutil.which("node"), "--test"], cwd=BRIDGE_DIR, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout
