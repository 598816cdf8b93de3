"""The webhook while Redis cannot answer (stopped, or loading its append-only file): 503 + Retry-After, a
Chinese message first (English on ?lang=en), never a 500; and it takes messages again once Redis is back."""
from __future__ import annotations

import logging
import os
import socket
import threading

import pytest
import redis
from fastapi.testclient import TestClient

from sales_assistant.cli.bootstrap import build_services, load_config
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect, ensure_embedded, socket_path, stop_embedded
from sales_assistant.web.app import create_app

pytestmark = pytest.mark.integration
T = 1_795_136_400_000
INGEST = {"Authorization": "Bearer ingest-secret"}


def message(i: int) -> dict:
    return {"id": f"m{i}", "roomId": "R1", "fromId": "c1", "text": "在吗", "timestamp": T + i, "type": 7,
            "mentionIdList": []}


@pytest.fixture
def client(redis_dir, namespace):
    data, url = redis_dir
    config = load_config(data_dir=data, redis_url=url, namespace=namespace, ingest_token="ingest-secret",
                         api_token="api-secret", session_secret="a-session-secret-for-tests")
    inbox = Inbox(connect(url), Keys(namespace), config.settings.max_backlog)
    with TestClient(create_app(build_services(config, inbox)), raise_server_exceptions=False) as c:
        c.data, c.inbox = data, inbox
        yield c


class LoadingRedis:
    """Answers every command on the embedded server's socket as Redis does while it loads its AOF."""

    def __init__(self, path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        with conn:
            while conn.recv(65536):
                conn.sendall(b"-LOADING Redis is loading the dataset in memory\r\n")

    def close(self) -> None:
        self.sock.close()


def assert_unavailable(r, lang: str = "zh") -> None:
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "5"
    body = r.json()
    assert "数据库暂时不可用" in body["error_zh"] and "database is unavailable" in body["error_en"]
    assert body["error"] == (body["error_zh"] if lang == "zh" else body["error_en"])


def test_redis_stopped_answers_503_with_retry_after_then_recovers(client, caplog):
    stop_embedded(client.data)
    with caplog.at_level(logging.WARNING, logger="sales_assistant.web"):
        assert_unavailable(client.post("/api/messages", json=message(1), headers=INGEST))
        assert_unavailable(client.post("/api/messages?lang=en", json=[message(2)], headers=INGEST), "en")
        assert_unavailable(client.get("/api/health"))
    assert "ingest-secret" not in caplog.text and "503" in caplog.text
    # A bad field is still named while Redis is down (its counter simply cannot be kept).
    bad = client.post("/api/messages", json={**message(3), "roomId": None}, headers=INGEST)
    assert bad.status_code == 422 and any("roomId" in f["field"] for f in bad.json()["fields"])
    ensure_embedded(client.data)
    r = client.post("/api/messages", json=[message(1), message(2)], headers=INGEST)
    assert r.status_code == 202 and r.json() == {"accepted": 2, "duplicates": 0}


def test_redis_loading_its_append_only_file_answers_503(client):
    stop_embedded(client.data)
    path = socket_path(client.data)
    if path.exists():
        os.unlink(path)
    loading = LoadingRedis(path)
    try:
        with pytest.raises(redis.BusyLoadingError):
            connect(f"unix://{path}").ping()  # what redis-py makes of the server's answer
        assert_unavailable(client.post("/api/messages", json=message(1), headers=INGEST))
        page = client.get("/login")  # a dashboard page says it in the page, with the same status
        assert page.status_code == 503 and "数据库暂时不可用" in page.text
    finally:
        loading.close()
        os.unlink(path)
    ensure_embedded(client.data)
    assert client.post("/api/messages", json=message(1), headers=INGEST).status_code == 202
