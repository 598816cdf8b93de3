"""Who may do what to which room, and which owner and stage changes make sense (pure rules).

Every write, from the dashboard, the API or a Lark card button, asks these functions first. A refusal
carries a code (`Refusal`) and the facts behind it; the surfaces say it in the person's language with the
words in connectors/i18n.py, so the rules hold no text.
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
    RESTART = "restart"  # 重新计时: start the clock a doubtful closing label silenced
    TAKE_OVER = "take_over"  # 我来跟进: become the owner
    PROPOSE = "propose"  # ask for a stage change (hand-over to after-sales)
    DECIDE = "decide"  # approve or reject a proposal
    REASSIGN = "reassign"  # set owner and stage directly
    ADMIN = "admin"  # accounts and tokens
    SAY = "say"  # say something in the room through the WeChat bridge
    SET_PRESENCE = "set_presence"  # 专注 / 会议 / 外出 / 下班: a rep their own, a manager anyone's
    FOLLOW_UP = "follow_up"  # hold or stop an idle room's follow-up reminders


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a logged-in user, an API token's user, or a staff member pressing a Lark button."""

    user: str
    name: str
    role: UserRole
    staff_id: str | None = None  # the roster entry this person is, when they are staff
    via: str = "web"  # web | api | lark | cli


class Refusal(str, Enum):
    """Why a request is refused: by these rules, or by the workspace (application/workspace.py)."""

    NOT_YOURS = "not_yours"  # a sales person looks at a room of somebody else
    READ_ONLY = "read_only"
    MANAGER_ONLY = "manager_only"
    HAS_OWNER = "has_owner"
    OWN_ROOMS_ONLY = "own_rooms_only"
    NOT_ON_ROSTER = "not_on_roster"  # facts: staff_id
    WRONG_ROLE = "wrong_role"  # facts: name, role (the one needed), stage
    PENDING = "pending"
    SAME_STAGE = "same_stage"
    NO_GOING_BACK = "no_going_back"
    NEEDS_OWNER = "needs_owner"
    TAKER_NOT_STAFF = "taker_not_staff"
    CANNOT_OWN = "cannot_own"
    RANGE_REVERSED = "range_reversed"
    RANGE_TOO_LONG = "range_too_long"  # facts: days
    DAY_OUT_OF_RANGE = "day_out_of_range"  # facts: field, first, last
    SNOOZE_MINUTES = "snooze_minutes"  # facts: max
    NO_APPROVAL = "no_approval"  # facts: approval_id
    ROOM_CHANGED = "room_changed"
    DECIDED = "decided"
    NO_ROOM = "no_room"  # facts: room_id
    NO_CLOCK = "no_clock"
    NO_JUDGEMENT = "no_judgement"  # nothing to restart: no doubtful closing label waits on the room (facts: none)
    INTEGRATION_ONLY = "integration_only"  # facts: field
    EMPTY_SAY = "empty_say"  # a say with no text
    OWN_STATE_ONLY = "own_state_only"
    PRESENCE_STATE = "presence_state"  # facts: states
    PRESENCE_LENGTH = "presence_length"  # facts: field, max_days
    FOLLOWUP_HOLD = "followup_hold"  # facts: holds
    FOLLOWUP_MINUTES = "followup_minutes"  # facts: max


class Refused(Exception):
    """Not allowed or not possible: `code` says why, `facts` fill in its words, `status` is the HTTP
    status that says which (403 not allowed, 404 not found, 409 not now, 422 not valid)."""

    def __init__(self, code: Refusal, status: int = 403, **facts: str | int) -> None:
        super().__init__(code.value)
        self.code, self.status, self.facts = code, status, facts

    def __str__(self) -> str:  # for logs and tracebacks; people read connectors.i18n.refusal_text
        return f"{self.code.value} {self.facts}" if self.facts else self.code.value


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
            raise Refused(Refusal.NOT_YOURS)
        return
    if actor.role is UserRole.MANAGER:
        return
    if actor.role is UserRole.VIEWER:
        raise Refused(Refusal.READ_ONLY)
    if action in (Action.DECIDE, Action.REASSIGN, Action.ADMIN):
        raise Refused(Refusal.MANAGER_ONLY)
    if action is Action.TAKE_OVER:
        if owner_id is not None and owner_id != actor.staff_id:
            raise Refused(Refusal.HAS_OWNER)
        return
    if action is Action.SET_PRESENCE:  # `owner_id`: the rep whose state it is
        if owner_id is None or owner_id != actor.staff_id:
            raise Refused(Refusal.OWN_STATE_ONLY)
        return
    if owner_id is None or owner_id != actor.staff_id:
        raise Refused(Refusal.OWN_ROOMS_ONLY)


def check_owner(roster: Roster, owner_id: str | None, stage: Stage) -> None:
    """A room's owner must be on the roster with the role its stage needs."""
    if owner_id is None:
        return
    member = roster.staff.get(owner_id)
    if member is None:
        raise Refused(Refusal.NOT_ON_ROSTER, 422, staff_id=owner_id)
    needed = OWNER_ROLE_FOR_STAGE[stage]
    if member.role is not needed and member.role is not Role.MANAGER:
        raise Refused(Refusal.WRONG_ROLE, 422, name=member.name, role=needed.value, stage=stage.value)


def check_proposal(roster: Roster, stage: Stage, owner_id: str | None, to_stage: Stage, to_owner: str | None,
                   pending: bool) -> None:
    """The hand-over check of the seed's vika-update-roomdb: only pre-sales -> after-sales, to an
    after-sales owner, one proposal at a time."""
    if pending:
        raise Refused(Refusal.PENDING, 409)
    if to_stage is stage:
        raise Refused(Refusal.SAME_STAGE, 409)
    if stage is Stage.AFTER_SALES and to_stage is Stage.PRE_SALES:
        raise Refused(Refusal.NO_GOING_BACK, 409)
    if to_owner is None:
        raise Refused(Refusal.NEEDS_OWNER, 422)
    check_owner(roster, to_owner, to_stage)


def take_over_stage_fits(roster: Roster, staff_id: str | None, stage: Stage) -> None:
    """Taking over keeps the stage, so the taker must fit it."""
    if staff_id is None or roster.staff.get(staff_id) is None:
        raise Refused(Refusal.TAKER_NOT_STAFF)
    if roster.staff[staff_id].role not in OWNER_ROLES | {Role.MANAGER}:
        raise Refused(Refusal.CANNOT_OWN)
    check_owner(roster, staff_id, stage)
