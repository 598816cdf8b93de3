"""The chaos run, shortened for CI: one fault of each kind while 20,000 messages go through the
live service, and the day must end exactly as the same day without faults.

The full run and its figures: `python -m sales_assistant.benchmarks.chaos` (benchmarks/README.md, "Chaos").
"""
from __future__ import annotations

import pytest

from sales_assistant.benchmarks.chaos import KINDS, run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_every_fault_recovers_and_the_day_ends_as_without_faults(tmp_path):
    result = run_chaos(rooms=1000, messages=20_000, seed=5, per_kind=1, work_dir=tmp_path / "chaos", keep=True)

    failed = [name for name, passed in result["checks"].items() if not passed]
    assert not failed, f"{failed}: {result.get('diff')}"
    assert [f["kind"] for f in result["faults"]] and {f["kind"] for f in result["faults"]} == set(KINDS)
    for fault in result["faults"]:
        assert fault["back_s"] is not None and fault["progress_s"] is not None, fault
    # A day worth comparing: thousands of alerts, clocks still open at the end, retries at the door.
    assert result["alerts"] > 1000 and result["open_clocks"] > 0
    assert result["door"]["accepted"] == 20_000
