"""Who may do what to which room, and which owner and stage changes make sense (pure rules).

Every write, from the dashboard, the API or a Lark card button, asks these functions first; a
refusal carries its reason in Chinese and English, shown to the person as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sales_assistant.core.roster import OWNER_ROLE_FOR_STAGE, OWNER_ROLES, Role, Roster, Stage


class UserRole(str, Enum):
    MANAGER = "manager"  # everything
    SALES = "sales"  # own rooms and metrics; proposes stage changes; cancels and snoozes own clocks
    VIEWER = "viewer"  # reads everything, writes nothing


class Action(str, Enum):
    VIEW = "view"
    CANCEL = "cancel"  # 已处理: stop the running clock
    SNOOZE = "snooze"  # 稍后提醒
    TAKE_OVER = "take_over"  # 我来跟进: become the owner
    PROPOSE = "propose"  # ask for a stage change (hand-over to after-sales)
    DECIDE = "decide"  # approve or reject a proposal
    REASSIGN = "reassign"  # set owner and stage directly
    ADMIN = "admin"  # accounts and tokens


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a logged-in user, an API token's user, or a staff member pressing a Lark button."""

    user: str
    name: str
    role: UserRole
    staff_id: str | None = None  # the roster entry this person is, when they are staff
    via: str = "web"  # web | api | lark | cli


class Refused(Exception):
    """Not allowed or not possible; `status` is the HTTP status that says which."""

    def __init__(self, zh: str, en: str, status: int = 403) -> None:
        super().__init__(en)
        self.zh, self.en, self.status = zh, en, status

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


def can_view_room(actor: Actor, owner_id: str | None) -> bool:
    """Sales see their own rooms; unassigned rooms too, so somebody can pick them up."""
    if actor.role is not UserRole.SALES:
        return True
    return owner_id is None or owner_id == actor.staff_id


def can_view_staff(actor: Actor, staff_id: str | None) -> bool:
    return actor.role is not UserRole.SALES or staff_id == actor.staff_id


def check(actor: Actor, action: Action, owner_id: str | None = None) -> None:
    """Raise Refused unless `actor` may take `action` on a room owned by `owner_id`."""
    if action is Action.VIEW:
        if not can_view_room(actor, owner_id):
            raise Refused("这不是您负责的群聊", "this room is not yours")
        return
    if actor.role is UserRole.MANAGER:
        return
    if actor.role is UserRole.VIEWER:
        raise Refused("只读账号不能修改", "a viewer account cannot change anything")
    if action in (Action.DECIDE, Action.REASSIGN, Action.ADMIN):
        raise Refused("只有管理者可以这样做", "only a manager can do this")
    if action is Action.TAKE_OVER:
        if owner_id is not None and owner_id != actor.staff_id:
            raise Refused("该群已有负责人，请联系管理者改派", "the room has an owner; ask a manager to reassign it")
        return
    if owner_id is None or owner_id != actor.staff_id:
        raise Refused("只能操作自己负责的群聊", "you can only act on your own rooms")


def check_owner(roster: Roster, owner_id: str | None, stage: Stage) -> None:
    """A room's owner must be on the roster with the role its stage needs."""
    if owner_id is None:
        return
    member = roster.staff.get(owner_id)
    if member is None:
        raise Refused(f"花名册中没有员工 {owner_id}", f"no staff member {owner_id!r} on the roster", 422)
    needed = OWNER_ROLE_FOR_STAGE[stage]
    if member.role is not needed and member.role is not Role.MANAGER:
        stage_zh = "售前" if stage is Stage.PRE_SALES else "售后"
        raise Refused(f"{member.name} 不是{stage_zh}人员，不能负责{stage_zh}群",
                      f"{member.name} is not {needed.value} staff and cannot own a {stage.value} room", 422)


def check_proposal(roster: Roster, stage: Stage, owner_id: str | None, to_stage: Stage, to_owner: str | None,
                   pending: bool) -> None:
    """The hand-over check of the seed's vika-update-roomdb: only pre-sales -> after-sales, to an
    after-sales owner, one proposal at a time."""
    if pending:
        raise Refused("该群已有待核准的变更", "this room already has a change waiting for approval", 409)
    if to_stage is stage:
        raise Refused("群聊已处于该阶段", "the room is already in that stage", 409)
    if stage is Stage.AFTER_SALES and to_stage is Stage.PRE_SALES:
        raise Refused("售后群不能退回售前", "an after-sales room cannot go back to pre-sales", 409)
    if to_owner is None:
        raise Refused("转入售后需要指定新的售后负责人", "a hand-over to after-sales needs the new owner", 422)
    check_owner(roster, to_owner, to_stage)


def take_over_stage_fits(roster: Roster, staff_id: str | None, stage: Stage) -> None:
    """Taking over keeps the stage, so the taker must fit it."""
    if staff_id is None or roster.staff.get(staff_id) is None:
        raise Refused("只有花名册中的员工可以跟进群聊", "only staff on the roster can take over a room")
    if roster.staff[staff_id].role not in OWNER_ROLES | {Role.MANAGER}:
        raise Refused("该员工不能负责群聊", "this staff member cannot own rooms")
    check_owner(roster, staff_id, stage)
