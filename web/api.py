"""The JSON API of the workspace: rooms, owners and stages, approvals, clocks, metrics, alerts,
roster and audit. Every route works as the calling actor through application/workspace.py, which
checks what the actor may do; this module parses requests and puts the answers in the reader's language."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from sales_assistant.application.report import alert_row
from sales_assistant.application.workspace import (
    MAX_PRESENCE_DAYS,
    RepState,
    RoomDetail,
    RoomFilter,
    RoomView,
    Workspace,
)
from sales_assistant.connectors.i18n import explain, judged_text, presence_text, reason_text, refusal_text
from sales_assistant.core.room import Judgement
from sales_assistant.core.roster import Staff, Stage
from sales_assistant.core.timeutil import day_start, parse_iso, today
from sales_assistant.policies.access import Actor, Refusal, Refused, UserRole
from sales_assistant.policies.priority import Priority
from sales_assistant.store.users import User
from sales_assistant.web import export
from sales_assistant.web.auth import INTEGRATION, actor_of, require_actor

Who = Annotated[Actor, Depends(require_actor)]  # module level: route annotations are resolved here
LIVE_INTERVAL_S = 1.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancelBody(Strict):
    reason: str = Field(default="", max_length=500)
    clock_id: str | None = Field(default=None, max_length=128)
    on_behalf_of: str | None = Field(
        default=None, min_length=1, max_length=128,
        description="the integration token only: the person a script acts for, recorded beside the caller")
    by: str | None = Field(default=None, max_length=128, description="old name of on_behalf_of")
    timestamp: int | None = Field(default=None, description="ignored: the service's clock stamps the order")


class SnoozeBody(Strict):
    minutes: int = Field(description="1 to 1440; the workspace checks it, for the Lark buttons too")
    clock_id: str | None = Field(default=None, max_length=128)


class RestartBody(Strict):
    message_id: str | None = Field(default=None, max_length=128,
                                   description="the judged message the person saw; the room's judgement when absent")


class StateBody(Strict):
    state: str | None = Field(description="focus 专注 | meeting 会议 | away 外出 | off 下班; null clears it",
                              max_length=16)
    minutes: int | None = Field(default=None, description="for this many minutes (1 to 30 days)")
    until: int | str | None = Field(default=None, description="or until then: epoch ms or ISO-8601")


class FollowUpBody(Strict):
    action: str = Field(max_length=16, description="snooze (with minutes) | customer | stop | resume")
    minutes: int | None = Field(default=None, description="snooze: remind again after this many minutes")


class CheckBody(Strict):
    texts: list[Annotated[str, Field(max_length=5000)]] = Field(min_length=1, max_length=256,
                                                                description="utterances, checked as one batch")
    role: Literal["customer", "staff"] = Field(
        default="staff", description="who wrote them: staff texts get typo and phrasing checks too")


class OwnerBody(Strict):
    owner_id: str | None = Field(max_length=128)
    stage: Stage


class ProposalBody(Strict):
    to_stage: Stage = Stage.AFTER_SALES
    to_owner: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default="", max_length=500)  # the dashboard's form sends an empty note as null


class DecisionBody(Strict):
    note: str = Field(default="", max_length=500)


LANGS = ("zh", "en")  # the first is the default


def lang_of(request: Request) -> str:
    """Chinese first: English only when asked for (?lang=en, then remembered in a cookie)."""
    lang = request.query_params.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGS else LANGS[0]


def priority_json(p: Priority, lang: str) -> dict:
    return {"score": round(p.score, 1), "why": explain(p, lang), "reasons": [reason_text(r, lang) for r in p.reasons]}


def room_json(view: RoomView, lang: str) -> dict:
    """A room row as the API, the pages and the exports show it."""
    return {"room_id": view.room_id, "topic": view.topic, "owner_id": view.owner_id, "owner_name": view.owner_name,
            "stage": view.stage, "waiting": view.waiting, "clock_id": view.clock_id, "started_at": view.started_at,
            "customer_name": view.customer_name, "waiting_text": view.waiting_text,
            "snoozed_until": view.snoozed_until, "level": view.level, "messages_today": view.messages_today,
            "active_today": view.active_today, "last": view.last, "pending_approval": view.pending_approval,
            "priority": priority_json(view.priority, lang)}


def rooms_json(ws: Workspace, actor: Actor, flt: RoomFilter, lang: str) -> list[dict]:
    return [room_json(view, lang) for view in ws.rooms(actor, flt)]


def detail_json(detail: RoomDetail, lang: str) -> dict:
    return {**room_json(detail.view, lang), "messages": detail.messages, "findings": detail.findings,
            "alerts": detail.alerts, "audit": detail.audit, "judged": judged_json(detail.judged, lang)}


def judged_json(judged: Judgement | None, lang: str) -> dict | None:
    """A doubtful closing label that started no clock, with its words: "判定为结束语 (0.74)"."""
    if judged is None:
        return None
    return {"message_id": judged.message_id, "text": judged.text, "score": judged.score, "at": judged.at,
            "customer_id": judged.customer_id, "customer_name": judged.customer_name,
            "label": judged_text(judged.score, lang)}


def staff_and_users(services, actor: Actor) -> tuple[list[Staff], list[User]]:
    """The roster's staff by id, and the dashboard accounts when a manager asks."""
    staff = sorted(services.workspace.roster().staff.values(), key=lambda s: s.id)
    return staff, services.accounts.all() if actor.role is UserRole.MANAGER else []


def rep_state_json(row: RepState, lang: str) -> dict:
    return {"staff_id": row.staff_id, "name": row.name, "team": row.team, "state": row.state,
            "state_text": presence_text(row.state, lang), "since": row.since, "until": row.until,
            "covered_by": row.covered_by, "covered_by_name": row.covered_by_name, "held": row.held}


def until_ms(value: int | str | None, tz: str) -> int | None:
    """`until` as epoch ms: given so, or read from ISO-8601 (in the service's zone without an offset)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return parse_iso(value, tz)
    except ValueError:
        raise Refused(Refusal.PRESENCE_LENGTH, 422, field="until", max_days=MAX_PRESENCE_DAYS) from None


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    def ws(request: Request) -> Workspace:
        return request.app.state.services.workspace

    @router.get("/me", summary="The caller / 当前用户")
    def me(actor: Who) -> dict:
        return {"user": actor.user, "name": actor.name, "role": actor.role.value, "staff_id": actor.staff_id}

    @router.get("/rooms", summary="Rooms, filtered, highest priority first / 群聊列表")
    def rooms(request: Request, actor: Who, owner: str | None = None, stage: Stage | None = None,
              waiting: bool | None = None, level: str | None = None, unassigned: bool | None = None,
              active_today: bool | None = None, q: Annotated[str | None, Query(max_length=100)] = None) -> dict:
        flt = RoomFilter(owner, stage, waiting, level, unassigned, active_today, q)
        return {"now": ws(request).now(), "rooms": rooms_json(ws(request), actor, flt, lang_of(request))}

    # A room id is one encoded segment (the templates' `segment` filter); `:path` takes it whole once
    # decoded, so a room stored before the door refused a "/" in ids is still the room addressed.
    @router.get("/rooms/{room_id:path}", summary="One room: recent messages, clock, findings / 群聊详情")
    def room(request: Request, room_id: str, actor: Who) -> dict:
        return detail_json(ws(request).room(actor, room_id), lang_of(request))

    @router.post("/rooms/{room_id:path}/cancel", status_code=202, summary="Cancel the running clock / 取消计时")
    def cancel(request: Request, room_id: str, body: CancelBody, actor: Who) -> dict:
        # The audit names the caller, always; a script on the integration token may add for whom it acts.
        if body.on_behalf_of and actor is not INTEGRATION:
            raise Refused(Refusal.INTEGRATION_ONLY, 422, field="on_behalf_of")
        on_behalf_of = (body.on_behalf_of or body.by) if actor is INTEGRATION else None
        entry = ws(request).cancel_clock(actor, room_id, body.reason, body.clock_id, on_behalf_of)
        return {"room_id": room_id, "cancelled_at": entry["after"]["cancelled_at"], "audit": entry}

    @router.post("/rooms/{room_id:path}/snooze", status_code=202, summary="Hold the alerts N minutes / 稍后提醒")
    def snooze(request: Request, room_id: str, body: SnoozeBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).snooze(actor, room_id, body.minutes, body.clock_id)}

    @router.post("/rooms/{room_id:path}/restart", status_code=202,
                 summary="Start the clock a doubtful closing label silenced / 重新计时")
    def restart(request: Request, room_id: str, body: RestartBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).restart_clock(actor, room_id, body.message_id)}

    @router.get("/labels", summary="Closing labels from cancels and restarts, for retraining / 纠正标注")
    def labels(request: Request, actor: Who, since: date | None = None) -> dict:
        workspace = ws(request)
        since_ms = day_start(workspace.period(since, since)[0], workspace.tz) if since else None
        return {"labels": [c.training_row() for c in workspace.labels(actor, since_ms)]}

    @router.post("/rooms/{room_id:path}/take-over", status_code=202, summary="Become the owner / 我来跟进")
    def take_over(request: Request, room_id: str, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).take_over(actor, room_id)}

    @router.post("/rooms/{room_id:path}/owner", status_code=202, summary="Set owner and stage (manager) / 指派负责人")
    def reassign(request: Request, room_id: str, body: OwnerBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).reassign(actor, room_id, body.owner_id, body.stage)}

    @router.post("/rooms/{room_id:path}/stage-proposals", status_code=201, summary="Propose a hand-over / 提交阶段变更")
    def propose(request: Request, room_id: str, body: ProposalBody, actor: Who) -> dict:
        return ws(request).propose(actor, room_id, body.to_stage, body.to_owner, body.note or "")

    @router.post("/rooms/{room_id:path}/followup", status_code=202,
                 summary="Snooze or stop an idle room's follow-ups / 稍后提醒、不再跟进")
    def follow_up(request: Request, room_id: str, body: FollowUpBody, actor: Who) -> dict:
        return {"room_id": room_id, "audit": ws(request).hold_follow_up(actor, room_id, body.action, body.minutes)}

    @router.get("/presence", summary="Every rep's focus/away state and who covers / 专注与外出状态")
    def presence(request: Request, actor: Who) -> dict:
        lang = lang_of(request)
        return {"reps": [rep_state_json(row, lang) for row in ws(request).presence_board(actor)]}

    @router.post("/users/{staff_id}/state", status_code=202, summary="Set a rep's state / 设置专注、会议、外出、下班")
    def set_state(request: Request, staff_id: str, body: StateBody, actor: Who) -> dict:
        workspace = ws(request)
        entry = workspace.set_presence(actor, staff_id, body.state, body.minutes, until_ms(body.until, workspace.tz))
        return {"staff_id": staff_id, "audit": entry}

    @router.delete("/users/{staff_id}/state", status_code=202, summary="Clear a rep's state / 恢复在岗")
    def clear_state(request: Request, staff_id: str, actor: Who) -> dict:
        return {"staff_id": staff_id, "audit": ws(request).set_presence(actor, staff_id, None)}

    @router.post("/check", summary="Check what someone wrote: closing?, typos, phrasing / 检查用语")
    def check_texts(request: Request, body: CheckBody, actor: Who) -> dict:
        """As the pipeline checks it, with the service's models (`sales-assistant check --url`)."""
        analyzer = request.app.state.services.language_checks()
        verdicts = analyzer.analyze(body.texts, [body.role == "staff"] * len(body.texts))
        return {"verdicts": [v.to_dict() for v in verdicts]}

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
        return ws(request).report(actor, *ws(request).period(start, end))

    @router.get("/alerts", summary="The alerts feed, newest first / 警报")
    def alerts(request: Request, actor: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
        workspace = ws(request)
        return {"alerts": [{**alert_row(a, workspace.tz), "customer_name": a["customer_name"],
                            "last_text": a["last_text"], "stage": a["stage"]} for a in workspace.alerts(actor, limit)]}

    @router.get("/roster", summary="Staff, roles and their Lark chats / 花名册")
    def roster(request: Request, actor: Who) -> dict:
        services = request.app.state.services
        lark = services.settings.lark
        staff, users = staff_and_users(services, actor)
        return {"staff": [{"id": s.id, "name": s.name, "role": s.role.value, "team": s.team,
                           "lark_open_id": s.lark_open_id, "backup": s.backup, "private_chat": lark.private_chats.get(s.id),
                           "public_chat": lark.public_chats.get(s.team) or lark.public_chats.get("default")}
                          for s in staff],
                "users": [u.public() for u in users]}

    @router.get("/audit", summary="Who changed what, when / 审计日志")
    def audit(request: Request, actor: Who, room_id: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
        return {"audit": ws(request).audit(actor, room_id, limit)}

    @router.get("/live", summary="Server-sent events: the today list every second / 实时推送")
    async def live(request: Request, actor: Who) -> EventSourceResponse:
        workspace, lang = ws(request), lang_of(request)

        async def events():
            # A session ended by logout, a password change or a disabled account ends its feed too.
            while not await request.is_disconnected() and await asyncio.to_thread(actor_of, request) is not None:
                rows = await asyncio.to_thread(rooms_json, workspace, actor, RoomFilter(active_today=True), lang)
                yield {"event": "today", "data": orjson.dumps({"now": workspace.now(), "rooms": rows}).decode()}
                await asyncio.sleep(LIVE_INTERVAL_S)
        return EventSourceResponse(events())

    @router.get("/export/{table}.{fmt}", summary="A table as CSV or XLSX / 导出")
    def export_table(request: Request, table: str, fmt: Literal["csv", "xlsx"], actor: Who,
                     start: date | None = None, end: date | None = None) -> Response:
        export.check_table(table)
        workspace, lang = ws(request), lang_of(request)
        if table in export.ROOM_LIST_TABLES:
            flt = RoomFilter(active_today=True) if table == "today" else RoomFilter()
            rows, label = rooms_json(workspace, actor, flt, lang), f"{today(workspace.now(), workspace.tz)}"
        else:
            first, last = workspace.period(start, end)
            rows, label = workspace.report(actor, first, last)[table], f"{first}_{last}"
        body, media = export.render(table, rows, fmt, lang, workspace.tz)
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{table}_{label}.{fmt}"'})

    return router


def refused_response(request: Request, exc: Refused) -> JSONResponse:
    return error_response(request, exc.status, refusal_text(exc, "zh"), refusal_text(exc, "en"), exc.code.value)


def error_response(request: Request, status: int, zh: str, en: str, code: str | None = None) -> JSONResponse:
    """An error in the asker's language, and in both for a program that shows or logs it."""
    body = {"error": en if lang_of(request) == "en" else zh, "error_zh": zh, "error_en": en}
    return JSONResponse(body if code is None else {**body, "code": code}, status_code=status)
