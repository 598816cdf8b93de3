"""Who is staff, who owns which room. Everyone not on the roster is a customer."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Role(str, Enum):
    SALES = "sales"
    AFTER_SALES = "after_sales"
    MANAGER = "manager"  # speaks in rooms as staff; may act on any room's alerts from Lark
    EMPLOYEE = "employee"
    BOT = "bot"


class Stage(str, Enum):
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


# --- the roster file, validated at the edge -------------------------------------------------


class StaffEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=128)
    role: Role
    team: str = Field(default="default", min_length=1, max_length=64)
    lark_open_id: str | None = Field(default=None, min_length=1, max_length=128)


class RoomEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    topic: str = Field(default="", max_length=256)
    owner: str | None = Field(default=None, max_length=128)
    stage: Stage = Stage.PRE_SALES


class RosterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff: list[StaffEntry] = Field(default_factory=list)
    rooms: list[RoomEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> RosterFile:
        roles: dict[str, Role] = {}
        for i, member in enumerate(self.staff):
            if member.id in roles:
                raise ValueError(f"staff[{i}].id: duplicate staff id {member.id!r}")
            roles[member.id] = member.role
        open_ids: set[str] = set()
        for i, member in enumerate(self.staff):
            if member.lark_open_id is not None:
                if member.lark_open_id in open_ids:
                    raise ValueError(f"staff[{i}].lark_open_id: {member.lark_open_id!r} belongs to two staff members")
                open_ids.add(member.lark_open_id)
        seen: set[str] = set()
        for i, room in enumerate(self.rooms):
            if room.id in seen:
                raise ValueError(f"rooms[{i}].id: duplicate room id {room.id!r}")
            seen.add(room.id)
            if room.owner is not None and roles.get(room.owner) not in OWNER_ROLES:
                raise ValueError(
                    f"rooms[{i}].owner: {room.owner!r} is not a staff member with role sales or after_sales"
                )
        return self

    def to_roster(self) -> Roster:
        return Roster(
            staff={s.id: Staff(s.id, s.name, s.role, s.team, s.lark_open_id) for s in self.staff},
            rooms={r.id: RoomInfo(r.id, r.topic, r.owner, r.stage) for r in self.rooms},
        )
