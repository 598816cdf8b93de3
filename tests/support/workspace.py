"""The workspace API on a real pipeline (Ray actors, embedded Redis) in virtual time, as the API tests
drive it: a TestClient over the app, the pipeline beside it, and a bearer token per test account."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from sales_assistant.actors.notifier import SinkSpec
from sales_assistant.cli.bootstrap import build_pipeline, build_services
from sales_assistant.core.roster import Roster
from sales_assistant.policies.access import UserRole

API_TOKEN = "api-secret-0123456789"
API = {"Authorization": f"Bearer {API_TOKEN}"}
# user -> (role, name, staff id): the accounts the API tests log in as
ACCOUNTS = {"boss": (UserRole.MANAGER, "王经理", "m1"), "rep1": (UserRole.SALES, "董森", "s1"),
            "rep2": (UserRole.SALES, "曾路", "s2"), "look": (UserRole.VIEWER, "只读", None)}


@contextmanager
def workspace_client(config, roster: Roster, users: tuple[str, ...] = tuple(ACCOUNTS)) -> Iterator[TestClient]:
    """`config` from cli.bootstrap.load_config (with api_token=API_TOKEN); the client carries `pipeline`,
    `services`, `env` (what a CLI subprocess needs to reach the same store) and `tokens`."""
    from sales_assistant.web.app import create_app

    p = build_pipeline(config, "virtual", [SinkSpec("null", tz=config.settings.timezone)])
    p.load_roster(roster, overwrite_rooms=True)
    p.start(log_to_driver=False)
    try:
        services = build_services(config, p.inbox, advance=p.advance)
        for user in users:
            role, name, staff_id = ACCOUNTS[user]
            services.accounts.create(user, f"{user}-password", role, name, staff_id)
        client = TestClient(create_app(services))
        client.pipeline, client.services = p, services
        client.env = {"SA_DATA_DIR": str(config.settings.data_dir), "REDIS_URL": config.settings.redis_url or "",
                      "SA_NAMESPACE": config.settings.namespace}
        client.tokens = {user: services.accounts.issue_token(user) for user in users}
        yield client
    finally:
        p.stop()


def as_(client: TestClient, user: str) -> dict:
    return {"Authorization": f"Bearer {client.tokens[user]}"}


def settle(client: TestClient, now: int) -> None:
    """Apply what waits in the inbox and move virtual time (the API's clock too) to `now`."""
    client.pipeline.pump()
    assert client.post("/api/clock/tick", json={"now": now}, headers=API).status_code == 200
    client.pipeline.pump()
