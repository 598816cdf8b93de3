"""Who a Lark account is, and what a button's value asks for (pure parts of connectors/lark_actions.py)."""
from __future__ import annotations

import pytest

from sales_assistant.config.roster_file import RosterFile
from sales_assistant.connectors.lark import LarkSettings
from sales_assistant.connectors.lark_actions import CardActions, CardCallbacks, _parse, actor_for
from sales_assistant.policies.access import Actor, UserRole

ROSTER = RosterFile.model_validate({"staff": [
    {"id": "s-li", "name": "李雷", "role": "sales", "lark_open_id": "ou_li"},
    {"id": "a-zhou", "name": "周敏", "role": "after_sales", "lark_open_id": "ou_zhou"},
    {"id": "m-zhang", "name": "张三", "role": "manager", "lark_open_id": "ou_zhang"},
    {"id": "e-wu", "name": "吴工", "role": "employee", "lark_open_id": "ou_wu"},
    {"id": "s-new", "name": "新人", "role": "sales"},
]}).to_roster()


def test_a_manager_acts_as_manager() -> None:
    assert actor_for(ROSTER, "ou_zhang") == Actor(user="lark:m-zhang", name="张三", role=UserRole.MANAGER,
                                                  staff_id="m-zhang", via="lark")


@pytest.mark.parametrize(("open_id", "staff_id"), [("ou_li", "s-li"), ("ou_zhou", "a-zhou"), ("ou_wu", "e-wu")])
def test_other_staff_act_with_a_reps_rights_on_their_own_rooms(open_id: str, staff_id: str) -> None:
    actor = actor_for(ROSTER, open_id)
    assert actor is not None
    assert (actor.role, actor.staff_id, actor.user, actor.via) == (UserRole.SALES, staff_id, f"lark:{staff_id}", "lark")


@pytest.mark.parametrize("open_id", ["ou_stranger", "", None, "s-li", "李雷"])
def test_anyone_else_is_nobody(open_id: str | None) -> None:
    assert actor_for(ROSTER, open_id) is None  # neither a staff id nor a name stands in for the open_id


def test_button_values_are_read_strictly() -> None:
    ref = {"room_id": "R1", "clock_id": "m1", "alert_id": "R1/m1/2"}
    assert _parse({"action": "cancel", **ref}) == ("cancel", "R1", "m1", "R1/m1/2", None)
    assert _parse({"action": "snooze", **ref, "minutes": 30}) == ("snooze", "R1", "m1", "R1/m1/2", 30)
    assert _parse({"action": "snooze", **ref, "minutes": "10"}) == ("snooze", "R1", "m1", "R1/m1/2", 10)
    assert _parse({"action": "take_over", "room_id": "R2", "clock_id": "", "alert_id": ""}) == (
        "take_over", "R2", None, None, None)


@pytest.mark.parametrize("value", [
    None, [], "cancel", {}, {"action": "delete", "room_id": "R1"}, {"action": "cancel"},
    {"action": "cancel", "room_id": ""}, {"action": "cancel", "room_id": 7}, {"action": "cancel", "room_id": "R1",
                                                                             "clock_id": ["m1"]},
    {"action": "snooze", "room_id": "R1"}, {"action": "snooze", "room_id": "R1", "minutes": "soon"},
    {"action": "snooze", "room_id": "R1", "minutes": True}, {"action": "snooze", "room_id": "R1", "minutes": 1.5},
])
def test_values_that_are_not_our_buttons_are_refused(value: object) -> None:
    assert _parse(value) is None


@pytest.mark.parametrize(("settings", "field"), [
    (LarkSettings(encrypt_key="k"), "verification_token"), (LarkSettings(verification_token="t"), "encrypt_key")])
def test_the_callback_refuses_to_run_unverified(settings: LarkSettings, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CardCallbacks(settings, CardActions(workspace=None))  # type: ignore[arg-type]


def test_the_callback_handler_hides_its_secrets() -> None:
    handler = CardCallbacks(LarkSettings(verification_token="vt-secret", encrypt_key="ek-secret"),
                            CardActions(workspace=None))  # type: ignore[arg-type]
    assert "secret" not in repr(handler)
