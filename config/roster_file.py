"""The roster file (staff and rooms, YAML or JSON), validated at the edge and turned into core's Roster.

The schema and its cross-field checks (unique ids, owners with an owner role) live here, next to
the settings that load it, so the domain's Roster stays a plain dataclass that trusts its input.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sales_assistant.core.roster import OWNER_ROLES, Role, RoomInfo, Roster, Staff, Stage, Team


class StaffEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=128)
    role: Role
    team: str = Field(default="default", min_length=1, max_length=64)
    lark_open_id: str | None = Field(default=None, min_length=1, max_length=128)
    backup: str | None = Field(default=None, min_length=1, max_length=128)  # covers them while they are away


class TeamEntry(BaseModel):
    """What a team does while a rep is in a focus or away state (policies/presence.py)."""

    model_config = ConfigDict(extra="forbid")
    away: Literal["backup", "hold"] = "backup"  # private alerts to the rep's backup, or held until they are back
    public_while_away: bool = True  # the public escalation still runs at its thresholds


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
    teams: dict[str, TeamEntry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> RosterFile:
        roles: dict[str, Role] = {}
        for i, member in enumerate(self.staff):
            if member.id in roles:
                raise ValueError(f"staff[{i}].id: duplicate staff id {member.id!r}")
            roles[member.id] = member.role
        teams = {member.id: member.team for member in self.staff}
        for i, member in enumerate(self.staff):
            if member.backup is not None and (member.backup == member.id or teams.get(member.backup) != member.team):
                raise ValueError(f"staff[{i}].backup: {member.backup!r} is not another member of team {member.team!r}")
        for name in self.teams:
            if name != "default" and name not in teams.values():
                raise ValueError(f"teams.{name}: unknown team (no staff member is in it)")
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
            staff={s.id: Staff(s.id, s.name, s.role, s.team, s.lark_open_id, s.backup) for s in self.staff},
            rooms={r.id: RoomInfo(r.id, r.topic, r.owner, r.stage) for r in self.rooms},
            teams={name: Team(name, t.away, t.public_while_away) for name, t in self.teams.items()},
        )
