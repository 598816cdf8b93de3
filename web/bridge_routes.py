"""The WeChat bridge's side of the HTTP API (bridges/wechaty), and what people and automations say in rooms.

- `POST /api/rooms/{id}/say`: staff (role-checked and audited by the workspace like every write) or a
  script on the API token queue a say; it becomes an entry of the outbox stream (store/outbox.py).
- `GET /api/bridge/outbox?after=…&wait=…`: the bridge's long poll on that stream: what it took and did not
  acknowledge first (`after=0`), then new says, waiting up to `wait` seconds; the answer names the cursor
  to poll with next.
- `POST /api/bridge/outbox/{say_id}/ack`: the message id Wechaty returned, or the error; a failure is
  audited on the room, so its page shows it.
- `POST /api/bridge/status`: the bridge's own report (login state, spool length, errors counted).

The bridge's routes take the ingest token, as /api/messages does; each call is its last contact, which
/api/health shows and the dashboard's banner watches.
"""
from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.params import Depends as Dependency
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sales_assistant.connectors.wechaty import MAX_TEXT_CHARS
from sales_assistant.policies.access import Actor
from sales_assistant.store.outbox import Outbox, bridge_state, touch_bridge
from sales_assistant.web.auth import require_actor

Who = Annotated[Actor, Depends(require_actor)]
MAX_WAIT_S = 30
POLL_SLICE_MS = 1000  # a long poll blocks on Redis in slices, so a caller that went away frees its thread soon
BATCH = 50
CURSOR = re.compile(r"^(0|>|\d{1,20}-\d{1,20})$")
SAY_ID = r"^say-[0-9a-f]{32}$"  # store/outbox.Outbox.add


class SayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    mentions: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list, max_length=50)


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wechatyMessageId: str | None = Field(default=None, max_length=256)
    error: str | None = Field(default=None, min_length=1, max_length=500)


class BridgeReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    login: Literal["starting", "scan", "logged_in", "logged_out"]
    user_id: str | None = Field(default=None, max_length=128)
    user_name: str | None = Field(default=None, max_length=128)
    spool: int = Field(ge=0)
    errors: int = Field(ge=0)
    puppet: str | None = Field(default=None, max_length=128)

    @field_validator("user_name", "puppet")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else "".join(ch for ch in value if ch.isprintable())


def wall_ms() -> int:
    """The bridge's silence is measured on the wall clock, whatever clock the rooms run on."""
    return int(time.time() * 1000)


def bridge_router(ingest_auth: Dependency) -> APIRouter:
    router = APIRouter(prefix="/api")

    def services(request: Request):
        return request.app.state.services

    def outbox(request: Request) -> Outbox:
        return Outbox(services(request).inbox.r, services(request).keys)

    @router.post("/rooms/{room_id:path}/say", status_code=202, summary="Say something in the room / 在群里发言")
    def say(request: Request, room_id: str, body: SayBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": services(request).workspace.say(actor, room_id, body.text, body.mentions)}

    @router.get("/bridge/outbox", dependencies=[ingest_auth], summary="The bridge's long poll on the outbox")
    async def poll(request: Request, after: Annotated[str, Query(max_length=42)] = "0",
                   wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 10) -> dict:
        if not CURSOR.match(after):
            raise HTTPException(422, "after: 0, > or a stream id such as 1700000000000-0")
        box, s = outbox(request), services(request)
        await asyncio.to_thread(touch_bridge, s.inbox.r, s.keys, wall_ms())
        deadline = time.monotonic() + wait
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            says, after = await asyncio.to_thread(box.read, after, BATCH,
                                                  min(left_ms, POLL_SLICE_MS) if left_ms > 0 else None)
            if says or left_ms <= 0 or await request.is_disconnected():
                return {"entries": says, "after": after}

    @router.post("/bridge/outbox/{say_id}/ack", dependencies=[ingest_auth], summary="The bridge said it, or could not")
    def ack(request: Request, say_id: Annotated[str, Path(pattern=SAY_ID)], body: AckBody) -> dict:
        s, box = services(request), outbox(request)
        touch_bridge(s.inbox.r, s.keys, wall_ms())
        say = box.say(say_id)
        if say is None:
            raise HTTPException(404, f"no say {say_id!r}")
        recorded = box.ack(say_id, body.wechatyMessageId, body.error, s.workspace.now()) == 1
        if recorded:  # the first acknowledgement only: a resent one changes nothing
            s.workspace.said(say, body.error)
        return {"say_id": say_id, "recorded": recorded}

    @router.post("/bridge/status", dependencies=[ingest_auth], summary="The bridge reports itself")
    def status(request: Request, body: BridgeReport) -> dict:
        s = services(request)
        touch_bridge(s.inbox.r, s.keys, wall_ms(), body.model_dump())
        return {"ok": True}

    return router


def bridge_health(services) -> dict | None:
    """The bridge as /api/health shows it: last contact, whether it has been silent longer than
    `bridge.silent_after_s`, its login state, its spool's length and errors as it reported them, and
    the says it has not acknowledged. None when no bridge ever called."""
    r, keys = services.inbox.r, services.keys
    state = bridge_state(r, keys)
    if not state:
        return None
    silent_s = (wall_ms() - state["last_contact"]) / 1000
    return {"last_contact": state["last_contact"], "silent_s": round(silent_s, 1),
            "silent": silent_s > services.settings.bridge.silent_after_s, "login": state.get("login"),
            "user_name": state.get("user_name"), "puppet": state.get("puppet"), "spool": state.get("spool"),
            "errors": state.get("errors"), "outbox_backlog": Outbox(r, keys).backlog()}


def bridge_silent(services) -> dict | None:
    """For the dashboard's banner: the bridge's health while it is silent, else None."""
    health = bridge_health(services)
    return health if health is not None and health["silent"] else None
