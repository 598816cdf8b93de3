"""The notifier's delivery loop against real embedded Redis: a burst reaches the JSONL sink in batches, once
and in order, also after a restart; the staff directory reloads only when the roster moved; a Lark that
refuses a send as too frequent is waited out for as long as it asks, on the notifier's clock."""
from __future__ import annotations

import time
import uuid

import orjson
import pytest

from sales_assistant.actors.notifier import Notification, SinkSpec, StaffDirectory
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.store.folds import folded_log
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.state import save_roster
from tests.support.clock import SteppedClock
from tests.support.lark_standin import LarkStandIn
from tests.support.polling import wait_for

TZ = "Asia/Shanghai"  # the service's `timezone` in these tests

pytestmark = pytest.mark.integration

T = 1_795_000_000_000


def roster(name: str = "董森"):
    return RosterFile.model_validate({
        "staff": [{"id": "s1", "name": name, "role": "sales", "team": "east"}],
        "rooms": [{"id": "R1", "topic": "网易严选", "owner": "s1"}],
    }).to_roster()


def alert(i: int) -> dict:
    return {"alert_id": f"A{i}", "room_id": "R1", "clock_id": f"c{i}", "step": 0, "level": "green",
            "targets": ["private"], "at": T + i, "waited_minutes": 5.0, "stage": "pre_sales", "owner_id": "s1",
            "topic": "网易严选", "customer_name": "王女士", "last_text": "请问价格？"}


@pytest.fixture
def redis(redis_dir, namespace):
    r, keys = connect(redis_dir[1]), Keys(namespace)
    save_roster(r, keys, roster(), overwrite_rooms=True)
    return r, keys, redis_dir[1]


def test_a_burst_reaches_the_jsonl_sink_once_and_in_order_even_after_a_restart(redis, tmp_path) -> None:
    r, keys, url = redis
    pipe = r.pipeline(transaction=False)
    for i in range(1200):
        pipe.xadd(keys.alerts, {"d": orjson.dumps(alert(i))})
    pipe.execute()
    path = tmp_path / "alerts.jsonl"

    def written() -> list[dict]:
        return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []

    notifier = Notification(url, keys.ns, [SinkSpec("jsonl", path=str(path), tz=TZ)])
    try:
        assert wait_for(notifier.drained)
    finally:
        notifier.close()
    lines = written()
    assert [a["alert_id"] for a in lines] == [f"A{i}" for i in range(1200)]
    assert lines[0]["owner_name"] == "董森" and lines[0]["team"] == "east" and lines[0]["priority_why"]

    r.xgroup_setid(keys.alerts, keys.sink_group("jsonl"), "0")  # as if none had been acknowledged
    again = Notification(url, keys.ns, [SinkSpec("jsonl", path=str(path), tz=TZ)])
    try:
        assert wait_for(again.drained)
    finally:
        again.close()
    assert len(written()) == 1200


def test_the_staff_directory_reloads_only_when_the_roster_moved(redis) -> None:
    r, keys, _ = redis
    staff = StaffDirectory(r, keys, check_every_s=0)
    assert staff.roster().staff["s1"].name == "董森" and staff.reloads == 1
    staff.roster()
    assert staff.reloads == 1
    save_roster(r, keys, roster("董小森"), overwrite_rooms=False)
    assert staff.roster().staff["s1"].name == "董小森" and staff.reloads == 2


def test_a_rate_limited_lark_is_waited_out_as_long_as_it_asks(redis) -> None:
    r, keys, url = redis
    with LarkStandIn(app_id=f"cli_{uuid.uuid4().hex[:8]}", app_secret="s3cret") as lark:
        lark.rate_limit_next(1, reset_s=30)
        r.xadd(keys.alerts, {"d": orjson.dumps(alert(1))})
        clock = SteppedClock(T)
        spec = SinkSpec("lark", tz=TZ, lark={"app_id": lark.app_id, "app_secret": "s3cret", "domain": lark.url,
                                      "timeout_s": 2, "private_chats": {"s1": "oc_s1"}})
        notifier = Notification(url, keys.ns, [spec], now=clock.now, wait=clock.wait)
        try:
            assert wait_for(lambda: "lark" in notifier.health())
            clock.set(T + 29_000)
            time.sleep(0.5)
            assert lark.messages == []  # 29 s of the 30 Lark asked for
            clock.set(T + 30_000)
            assert wait_for(lambda: [m["chat_id"] for m in lark.messages] == ["oc_s1"])
            assert wait_for(notifier.drained) and notifier.health() == {}
        finally:
            notifier.close()


def test_under_a_burst_lark_keeps_to_its_bound_while_the_jsonl_sink_gets_every_alert(redis, tmp_path) -> None:
    r, keys, url = redis
    pipe = r.pipeline(transaction=False)
    for i in range(600):
        pipe.xadd(keys.alerts, {"d": orjson.dumps(alert(i) | {"room_id": f"R{i}"})})
    pipe.execute()
    path = tmp_path / "alerts.jsonl"
    with LarkStandIn(app_id=f"cli_{uuid.uuid4().hex[:8]}", app_secret="s3cret") as lark:
        spec = SinkSpec("lark", tz=TZ, lark={"app_id": lark.app_id, "app_secret": "s3cret", "domain": lark.url,
                                      "timeout_s": 2, "max_waiting": 20, "public_chats": {"default": "oc_team"},
                                      "private_chats": {"s1": "oc_s1"}})
        notifier = Notification(url, keys.ns, [SinkSpec("jsonl", path=str(path), tz=TZ), spec])
        try:
            assert wait_for(notifier.drained, 60)
        finally:
            notifier.close()
        cards = len(lark.messages)
    assert len(path.read_bytes().splitlines()) == 600
    folded = folded_log(r, keys, "lark")
    assert 0 < cards <= 20  # the bound holds: 600 alerts, at most 20 cards
    assert len({alert_id for alert_id, _ in folded}) == len(folded) >= 600 - 20  # each folded alert once, none lost
