"""The dashboard's pages: server-rendered (Jinja2, autoescaped), live parts pushed over SSE. They show
what application/workspace.py answers, in the reader's language, as the JSON API does (web/api.py)."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sales_assistant.application.workspace import RoomFilter, Workspace
from sales_assistant.connectors.i18n import PRESENCE_STATES, holiday_gap_text, presence_text, refusal_text
from sales_assistant.core import levels
from sales_assistant.core.roster import OWNER_ROLES, Role, Stage
from sales_assistant.core.timeutil import iso
from sales_assistant.policies.access import Refused
from sales_assistant.store.folds import sink_backlog
from sales_assistant.store.state import stats
from sales_assistant.web.api import LANGS, detail_json, lang_of, rooms_json, staff_and_users
from sales_assistant.web.auth import CSRF_FIELD, actor_of, check_csrf, csrf_token, end_session, start_session
from sales_assistant.web.bridge_routes import bridge_silent
from sales_assistant.web.i18n import translator
from sales_assistant.web.language_health import banners

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# A room id in a URL is one path segment: "/" and "?" are encoded too (Jinja's urlencode keeps "/"),
# so no id can walk a link or a button to another path.
TEMPLATES.env.filters["segment"] = lambda value: quote(str(value), safe="")
PAGE_ROWS = 300  # the alerts and audit pages show the latest entries
# The level badges' colours (class lv-<level>), written from core/levels.py so a level has one home;
# a stylesheet of its own rather than inline styles, which the content security policy forbids.
LEVEL_CSS = "".join(f".lv-{level.value}{{background:{info.web}}}\n" for level, info in levels.LEVELS.items())


def _time(tz: str):
    def fmt(ms: int | None, short: bool = False) -> str:
        if not ms:
            return ""
        text = iso(ms, tz)  # 2026-11-20T15:32:05+08:00
        return text[11:16] if short else text[:16].replace("T", " ")
    return fmt


def holiday_banner(services, lang: str) -> str | None:
    """The warning that a calendar does not know next year's (or this year's) statutory holidays."""
    gaps = services.workspace.holiday_gaps()
    return holiday_gap_text(gaps, lang) if gaps else None


def pages_router() -> APIRouter:
    router = APIRouter()

    def render(request: Request, template: str, actor, status: int = 200, **context) -> HTMLResponse:
        services = request.app.state.services
        lang = lang_of(request)
        counters = stats(services.inbox.r, services.keys)
        response = TEMPLATES.TemplateResponse(request, template, {
            "t": translator(lang), "lang": lang, "actor": actor, "csrf": csrf_token(request),
            "fmt": _time(services.settings.timezone), "path": request.url.path,
            "lark_behind": lark_behind(services, counters), "language": banners(services),
            "bridge_silent": bridge_silent(services), "holiday_gaps": holiday_banner(services, lang), **context},
            status_code=status)
        if request.query_params.get("lang") in LANGS:
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
        return response

    def who(request: Request):
        actor = actor_of(request)
        if actor is None:
            raise LoginFirst()
        return actor

    def workspace(request: Request) -> Workspace:
        return request.app.state.services.workspace

    def owners(request: Request) -> list:
        staff = workspace(request).roster().staff.values()
        # Sales first: the forms' first choice then fits their first stage, 售前.
        return sorted((s for s in staff if s.role in OWNER_ROLES), key=lambda s: (s.role is not Role.SALES, s.id))

    @router.get("/levels.css", include_in_schema=False)
    def level_colours() -> Response:
        return Response(LEVEL_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, error: bool = False) -> HTMLResponse:
        return render(request, "login.html", None, error=error)

    @router.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=256),
              csrf_token_field: str = Form("", alias=CSRF_FIELD)) -> Response:
        check_csrf(request, csrf_token_field)
        accounts = request.app.state.services.accounts
        # Wall time, even when the pipeline runs on virtual time: a guesser waits in real seconds.
        address, now = request.client.host if request.client else "", int(time.time() * 1000)
        wait_s = accounts.attempts.wait_s(username, address, now)
        if wait_s:  # refused unheard: while it waits, even the right password is not tried
            page = render(request, "login.html", None, status=429, retry_after=wait_s)
            page.headers["Retry-After"] = str(wait_s)
            return page
        user = accounts.authenticate(username, password)
        if user is None:
            accounts.attempts.failed(username, address, int(time.time() * 1000))  # the wait runs from the answer
            return RedirectResponse("/login?error=1", status_code=303)
        accounts.attempts.succeeded(username)
        start_session(request, user.username)
        return RedirectResponse("/", status_code=303)

    @router.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token_field: str = Form("", alias=CSRF_FIELD)) -> Response:
        check_csrf(request, csrf_token_field)
        end_session(request)
        return RedirectResponse("/login", status_code=303)

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def today_page(request: Request) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        rows = rooms_json(ws, actor, RoomFilter(active_today=True), lang_of(request))
        return render(request, "today.html", actor, rooms=rows, now=ws.now())

    @router.get("/fragments/today", response_class=HTMLResponse, include_in_schema=False)
    def today_rows(request: Request) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        rows = rooms_json(ws, actor, RoomFilter(active_today=True), lang_of(request))
        return render(request, "_today_rows.html", actor, rooms=rows, now=ws.now())

    @router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
    def rooms_page(request: Request, owner: str | None = None, stage: str | None = None, waiting: str | None = None,
                   q: str | None = None) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        flt = RoomFilter(owner=owner or None, stage=Stage(stage) if stage in tuple(Stage) else None,
                         waiting={"yes": True, "no": False}.get(waiting or ""), q=(q or "")[:100] or None)
        return render(request, "rooms.html", actor, rooms=rooms_json(ws, actor, flt, lang_of(request)),
                      owners=owners(request), flt=flt, now=ws.now())

    @router.get("/unassigned", response_class=HTMLResponse, include_in_schema=False)
    def unassigned_page(request: Request) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        rows = rooms_json(ws, actor, RoomFilter(unassigned=True), lang_of(request))
        return render(request, "unassigned.html", actor, rooms=rows, owners=owners(request), now=ws.now())

    @router.get("/approvals", response_class=HTMLResponse, include_in_schema=False)
    def approvals_page(request: Request) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        return render(request, "approvals.html", actor, approvals=ws.approvals(actor), name_of=ws.roster().name_of)

    @router.get("/rooms/{room_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def room_page(request: Request, room_id: str) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        try:
            room = detail_json(ws.room(actor, room_id), lang_of(request))
        except Refused as e:
            return render(request, "error.html", actor, message=refusal_text(e, lang_of(request)), status=e.status)
        return render(request, "room.html", actor, room=room, owners=owners(request), now=ws.now())

    @router.get("/performance", response_class=HTMLResponse, include_in_schema=False)
    def performance_page(request: Request, start: date | None = None, end: date | None = None) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        first, last = ws.period(start, end, default_days=7)  # a manager's week at a glance
        report = ws.report(actor, first, last)
        return render(request, "performance.html", actor, report=report, first=first, last=last)

    @router.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(request: Request) -> HTMLResponse:
        actor, ws = who(request), workspace(request)
        return render(request, "alerts.html", actor, alerts=ws.alerts(actor, PAGE_ROWS), name_of=ws.roster().name_of)

    @router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request) -> HTMLResponse:
        actor = who(request)
        return render(request, "audit.html", actor, entries=workspace(request).audit(actor, limit=PAGE_ROWS))

    @router.get("/roster", response_class=HTMLResponse, include_in_schema=False)
    def roster_page(request: Request) -> HTMLResponse:
        actor = who(request)
        lark = request.app.state.services.settings.lark
        staff, users = staff_and_users(request.app.state.services, actor)
        lang = lang_of(request)
        return render(request, "roster.html", actor, staff=staff, users=users, private=lark.private_chats,
                      public=lark.public_chats, reps=workspace(request).presence_board(actor),
                      states=[(s, presence_text(s, lang)) for s in PRESENCE_STATES],
                      state_text=lambda state: presence_text(state, lang))

    return router


def lark_behind(services, counters: dict[str, int]) -> dict[str, int] | None:
    """While Lark fails: the cards waiting for it and the alerts folded into them (None when it does not)."""
    if "lark" not in services.settings.sinks or "sink_failing:lark" not in counters:
        return None
    return sink_backlog(services.inbox.r, services.keys, "lark")


class LoginFirst(Exception):
    """A page asked for without a session: the app answers with a redirect to /login."""


def login_redirect(request: Request, exc: LoginFirst) -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)

