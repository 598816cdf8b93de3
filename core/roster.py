"""Who is staff, who owns which room, and who spoke. Everyone not on the roster is a customer.

Plain types only: the roster file's schema and its checks live at the edge (config/roster_file.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum


class Role(str, Enum):
    SALES = "sales"
    AFTER_SALES = "after_sales"
    MANAGER = "manager"  # speaks in rooms as staff; may act on any room's alerts from Lark
    EMPLOYEE = "employee"
    BOT = "bot"


class Stage(StrEnum):
    """A room's stage. A StrEnum, so it equals, formats and serialises as its value ("pre_sales")."""

    PRE_SALES = "pre_sales"
    AFTER_SALES = "after_sales"


OWNER_ROLES = frozenset({Role.SALES, Role.AFTER_SALES})


class Speaker(str, Enum):
    """Who spoke, relative to the room: the metric columns count these."""

    OWNER = "sales"
    EMPLOYEE = "employee"
    CUSTOMER = "customer"
    BOT = "bot"


@dataclass(slots=True, frozen=True)
class Staff:
    id: str
    name: str
    role: Role
    team: str = "default"
    lark_open_id: str | None = None  # who this is when they press a button on a Lark card
    backup: str | None = None  # the teammate who covers their private alerts while they are away (focus, off, …)


@dataclass(slots=True, frozen=True)
class Team:
    """A team's rule for reps in a focus or away state (policies/presence.py): `away` "backup" (private alerts
    to the rep's backup) or "hold" (kept until the state ends); the public escalation runs unless told not to."""

    name: str
    away: str = "backup"
    public_while_away: bool = True


# The owner role each stage needs: pre-sales rooms belong to sales, after-sales rooms to after-sales.
OWNER_ROLE_FOR_STAGE = {Stage.PRE_SALES: Role.SALES, Stage.AFTER_SALES: Role.AFTER_SALES}


@dataclass(slots=True, frozen=True)
class RoomInfo:
    id: str
    topic: str = ""
    owner: str | None = None
    stage: Stage = Stage.PRE_SALES


@dataclass(slots=True)
class Roster:
    staff: dict[str, Staff] = field(default_factory=dict)
    rooms: dict[str, RoomInfo] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)  # only those the roster file configures

    def team(self, name: str | None) -> Team:
        return self.teams.get(name or "default") or self.teams.get("default") or Team(name or "default")

    def role_of(self, sender_id: str) -> Role | None:
        member = self.staff.get(sender_id)
        return member.role if member else None

    def name_of(self, staff_id: str | None) -> str:
        member = self.staff.get(staff_id) if staff_id else None
        return member.name if member else (staff_id or "")

    def owners(self) -> list[Staff]:
        return [s for s in self.staff.values() if s.role in OWNER_ROLES]


def speaker_of(role: Role | None, sender_id: str, owner_id: str | None) -> Speaker:
    if role is None:
        return Speaker.CUSTOMER
    if role is Role.BOT:
        return Speaker.BOT
    return Speaker.OWNER if sender_id == owner_id else Speaker.EMPLOYEE
