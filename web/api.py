"""The JSON API of the workspace: rooms, owners and stages, approvals, clocks, metrics, alerts,
roster and audit. Every route works as the calling actor; the rules live in policies/access.py."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from core.roster import Stage
from core.timeutil import today
from policies.access import Action, Actor, Refused, UserRole, can_view_room, check
from store.operations import RoomFilter
from store.report import alert_row, build_report
from store.state import load_alerts
from web import export
from web.auth import require_actor

Who = Annotated[Actor, Depends(require_actor)]  # module level: route annotations are resolved here
LIVE_INTERVAL_S = 1.0
MAX_RANGE_DAYS = 366


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancelBody(Strict):
    reason: str = Field(default="", max_length=500)
    clock_id: str | None = Field(default=None, max_length=128)
    by: str | None = Field(default=None, max_length=128, description="kept for old scripts; the caller is recorded")
    timestamp: int | None = Field(default=None, description="ignored: the service's clock stamps the order")


class SnoozeBody(Strict):
    minutes: int = Field(ge=1, le=24 * 60)
    clock_id: str | None = Field(default=None, max_length=128)


class OwnerBody(Strict):
    owner_id: str | None = Field(max_length=128)
    stage: Stage


class ProposalBody(Strict):
    to_stage: Stage = Stage.AFTER_SALES
    to_owner: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default="", max_length=500)  # the dashboard's form sends an empty note as null


class DecisionBody(Strict):
    note: str = Field(default="", max_length=500)


def lang_of(request: Request) -> str:
    """Chinese first: English only when asked for (?lang=en, then remembered in a cookie)."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in ("zh", "en") else "zh"


def period(services, start: date | None, end: date | None, default_days: int = 1) -> tuple[date, date]:
    last = end or today(services.workspace.now(), services.settings.timezone)
    first = start or (last if end else date.fromordinal(last.toordinal() - default_days + 1))
    if last < first:
        raise HTTPException(422, "end: 结束日期早于开始日期 / the range ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise HTTPException(422, f"end: 最多 {MAX_RANGE_DAYS} 天 / at most {MAX_RANGE_DAYS} days")
    return first, last


def report_for(services, actor: Actor, first: date, last: date) -> dict:
    s = services.settings
    owner = actor.staff_id or "" if actor.role is UserRole.SALES else None
    return build_report(services.inbox.r, services.keys, first, last, s.timezone, s.over_threshold_minutes,
                        services.workspace.now(), owner=owner)


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    def ws(request: Request):
        return request.app.state.services.workspace

    @router.get("/me", summary="The caller / 当前用户")
    def me(actor: Who) -> dict:
        return {"user": actor.user, "name": actor.name, "role": actor.role.value, "staff_id": actor.staff_id}

    @router.get("/rooms", summary="Rooms, filtered, highest priority first / 群聊列表")
    def rooms(request: Request, actor: Who, owner: str | None = None, stage: Stage | None = None,
              waiting: bool | None = None, level: str | None = None, unassigned: bool | None = None,
              active_today: bool | None = None, q: Annotated[str | None, Query(max_length=100)] = None) -> dict:
        flt = RoomFilter(owner, stage, waiting, level, unassigned, active_today, q)
        rows = ws(request).rooms(actor, flt, lang_of(request))
        return {"now": ws(request).now(), "rooms": rows}

    @router.get("/rooms/{room_id}", summary="One room: recent messages, clock, findings / 群聊详情")
    def room(request: Request, room_id: str, actor: Who) -> dict:
        return ws(request).room(actor, room_id, lang_of(request))

    @router.post("/rooms/{room_id}/cancel", status_code=202, summary="Cancel the running clock / 取消计时")
    def cancel(request: Request, room_id: str, body: CancelBody, actor: Who) -> dict:
        if actor.user == "api" and body.by:  # a script on the integration token says on whose behalf
            actor = replace(actor, user=body.by, name=body.by)
        entry = ws(request).cancel_clock(actor, room_id, body.reason, body.clock_id)
        return {"room_id": room_id, "cancelled_at": entry["after"]["cancelled_at"], "audit": entry}

    @router.post("/rooms/{room_id}/snooze", status_code=202, summary="Hold the alerts N minutes / 稍后提醒")
    def snooze(request: Request, room_id: str, body: SnoozeBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).snooze(actor, room_id, body.minutes, body.clock_id)}

    @router.post("/rooms/{room_id}/take-over", status_code=202, summary="Become the owner / 我来跟进")
    def take_over(request: Request, room_id: str, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).take_over(actor, room_id)}

    @router.post("/rooms/{room_id}/owner", status_code=202, summary="Set owner and stage (manager) / 指派负责人")
    def reassign(request: Request, room_id: str, body: OwnerBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).reassign(actor, room_id, body.owner_id, body.stage)}

    @router.post("/rooms/{room_id}/stage-proposals", status_code=201, summary="Propose a hand-over / 提交阶段变更")
    def propose(request: Request, room_id: str, body: ProposalBody, actor: Who) -> dict:
        return ws(request).propose(actor, room_id, body.to_stage, body.to_owner, body.note or "")

    @router.get("/approvals", summary="Stage changes waiting or decided / 待核准")
    def approvals(request: Request, actor: Who,
                  status: Literal["pending", "approved", "rejected"] | None = None) -> dict:
        return {"approvals": ws(request).approvals(actor, status)}

    @router.post("/approvals/{approval_id}/{decision}", summary="Approve or reject (manager) / 核准或驳回")
    def decide(request: Request, approval_id: str, decision: Literal["approve", "reject"], body: DecisionBody,
               actor: Who) -> dict:
        return ws(request).decide(actor, approval_id, decision == "approve", body.note)

    @router.get("/metrics", summary="The three metric views and the charts / 指标")
    def metrics(request: Request, actor: Who, start: date | None = None, end: date | None = None) -> dict:
        first, last = period(request.app.state.services, start, end)
        return report_for(request.app.state.services, actor, first, last)

    @router.get("/alerts", summary="The alerts feed, newest first / 警报")
    def alerts(request: Request, actor: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
        services = request.app.state.services
        rows = [a for a in reversed(load_alerts(services.inbox.r, services.keys))
                if can_view_room(actor, a["owner_id"])][:limit]
        tz = services.settings.timezone
        return {"alerts": [{**alert_row(a, tz), "customer_name": a["customer_name"], "last_text": a["last_text"],
                            "stage": a["stage"]} for a in rows]}

    @router.get("/roster", summary="Staff, roles and their Lark chats / 花名册")
    def roster(request: Request, actor: Who) -> dict:
        services = request.app.state.services
        lark = services.settings.lark
        staff = [{"id": s.id, "name": s.name, "role": s.role.value, "team": s.team,
                  "lark_open_id": s.lark_open_id, "private_chat": lark.private_chats.get(s.id),
                  "public_chat": lark.public_chats.get(s.team) or lark.public_chats.get("default")}
                 for s in sorted(services.workspace.roster().staff.values(), key=lambda s: s.id)]
        users = [u.public() for u in services.accounts.all()] if actor.role is UserRole.MANAGER else []
        return {"staff": staff, "users": users}

    @router.get("/audit", summary="Who changed what, when / 审计日志")
    def audit(request: Request, actor: Who, room_id: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
        if room_id is not None:
            ws(request).room(actor, room_id)  # refuses a room the caller may not see
        elif actor.role is UserRole.SALES:
            check(actor, Action.ADMIN)
        return {"audit": ws(request).audit(room_id, limit)}

    @router.get("/live", summary="Server-sent events: the today list every second / 实时推送")
    async def live(request: Request, actor: Who) -> EventSourceResponse:
        workspace, lang = ws(request), lang_of(request)

        async def events():
            while not await request.is_disconnected():
                rows = await asyncio.to_thread(workspace.rooms, actor, RoomFilter(active_today=True), lang)
                yield {"event": "today", "data": orjson.dumps({"now": workspace.now(), "rooms": rows}).decode()}
                await asyncio.sleep(LIVE_INTERVAL_S)
        return EventSourceResponse(events())

    @router.get("/export/{table}.{fmt}", summary="A table as CSV or XLSX / 导出")
    def export_table(request: Request, table: str, fmt: Literal["csv", "xlsx"], actor: Who,
                     start: date | None = None, end: date | None = None) -> Response:
        services = request.app.state.services
        lang = lang_of(request)
        if table in ("today", "rooms-all"):
            flt = RoomFilter(active_today=True) if table == "today" else RoomFilter()
            rows, label = ws(request).rooms(actor, flt, lang), f"{today(ws(request).now(), services.settings.timezone)}"
        else:
            first, last = period(services, start, end)
            rows, label = export.report_table(report_for(services, actor, first, last), table), f"{first}_{last}"
        body, media = export.render(table, rows, fmt, lang, services.settings.timezone)
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{table}_{label}.{fmt}"'})

    return router


def refused_response(request: Request, exc: Refused):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": exc.text(lang_of(request)), "error_zh": exc.zh, "error_en": exc.en},
                        status_code=exc.status)
