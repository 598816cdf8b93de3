"""The workspace on its Redis repository, without the pipeline: the level a room shows is the one the
supervisor stored with the watch, approvals are decided once, and a card's alert is found in the log."""
from __future__ import annotations

import pytest

from sales_assistant.application.workspace import RoomFilter, Workspace
from sales_assistant.core.levels import Level
from sales_assistant.core.messages import Message
from sales_assistant.core.room import Room
from sales_assistant.core.roster import Role, RoomInfo, Roster, Staff, Stage
from sales_assistant.policies.access import Actor, Refused, UserRole
from sales_assistant.policies.deadlines import Alert, Watch
from sales_assistant.policies.priority import Why
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect
from sales_assistant.store.repository import ALERT_SCAN_PAGE, RedisRepository
from sales_assistant.store.state import commit_escalation, commit_shard_batch, save_roster

pytestmark = pytest.mark.integration

T, M = 1_795_136_400_000, 60_000  # 2026-11-20 09:00 Asia/Shanghai
BOSS = Actor("boss", "王经理", UserRole.MANAGER, "m1")
ROSTER = Roster(staff={"s1": Staff("s1", "董森", Role.SALES), "a1": Staff("a1", "荣生", Role.AFTER_SALES),
                       "m1": Staff("m1", "王经理", Role.MANAGER)},
                rooms={"R1": RoomInfo("R1", "网易严选", "s1"), "R2": RoomInfo("R2", "得物", "s1")})


@pytest.fixture
def world(redis_dir, namespace):
    r, keys = connect(redis_dir[1]), Keys(namespace)
    save_roster(r, keys, ROSTER, overwrite_rooms=True)
    rooms = []
    for room_id in ("R1", "R2"):
        room = Room(ROSTER.rooms[room_id])
        room.handle(Message(f"{room_id}-m1", room_id, "cust", "在吗", T), None, 1)
        rooms.append(room)
    commit_shard_batch(r, keys, rooms, {}, [], [], {})
    now = T + 40 * M
    return r, keys, Workspace(RedisRepository(r, keys), Inbox(r, keys), "Asia/Shanghai", lambda: now)


def watch(room_id: str, clock_id: str, next_step: int, level: str | None) -> Watch:
    return Watch(room_id, clock_id, T, Stage.PRE_SALES, "s1", "", None, "在吗", next_step, 0, level)


def test_a_room_shows_the_level_stored_with_its_clocks_watch(world):
    r, keys, ws = world
    # R1's clock fired once, at red (say the ladder was changed since): the stored level is shown, not
    # one recomputed from today's ladder. R2's watch is of an older clock: its level is not this wait's.
    commit_escalation(r, keys, [], {"R1": watch("R1", "R1-m1", 1, "red"), "R2": watch("R2", "old", 3, "orange")}, [])
    levels = {row.room_id: row.level for row in ws.rooms(BOSS)}
    assert levels == {"R1": "red", "R2": None}
    assert [row.room_id for row in ws.rooms(BOSS, RoomFilter(level="red"))] == ["R1"]
    reasons = ws.room(BOSS, "R1").view.priority.reasons
    assert [reason.level for reason in reasons if reason.code is Why.LEVEL] == [Level.RED]  # it ranks the room too


def test_an_approval_is_decided_once(world):
    r, keys, ws = world
    approval = ws.propose(BOSS, "R1", Stage.AFTER_SALES, "a1")
    assert ws.decide(BOSS, approval["id"], approve=False)["status"] == "rejected"
    with pytest.raises(Refused) as refused:
        ws.decide(BOSS, approval["id"], approve=True)
    assert refused.value.status == 409
    # The repository itself refuses a second decision, for two managers deciding at the same moment.
    assert not ws.store.decide_approval(approval["id"], {**approval, "status": "approved"})
    assert [e["action"] for e in ws.audit(BOSS, "R1")] == ["reject_stage", "propose_stage"]


def test_the_alert_behind_a_card_is_found_past_the_first_page_of_the_log(world):
    r, keys, ws = world
    alerts = [Alert("R1", f"c{i}", 0, "green", 5, ("private",), "s1", "pre_sales", "网易严选", T + i, T, None, "在吗")
              for i in range(ALERT_SCAN_PAGE + 10)]
    commit_escalation(r, keys, alerts, {}, [])
    assert ws.alert("R1/c3/0")["clock_id"] == "c3"
    assert ws.alert("R1/c3/1") is None
