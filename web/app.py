"""The HTTP surface: the ingestion webhook, the workspace API and the dashboard, on the project's own Redis."""
from __future__ import annotations

import hmac
import logging
import time
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import redis
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, SecretStr
from starlette.middleware.sessions import SessionMiddleware

from config.settings import Settings, load_policy, load_priority
from core.messages import WechatyMessage
from policies.access import Refused
from store.folds import folded_waiting
from store.inbox import Backlogged, Inbox
from store.keys import Keys
from store.operations import Workspace
from store.state import backlog_of, stats
from store.users import Accounts
from web.api import api_router, refused_response
from web.auth import session_secret
from web.pages import LoginFirst, login_redirect, pages_router
from web.limits import PerTokenLimit

log = logging.getLogger("sales_assistant.web")

MAX_BATCH = 1000
REDIS_RETRY_S = 5
REDIS_DOWN_ZH = (f"数据库暂时不可用（正在重启或加载数据），请 {REDIS_RETRY_S} 秒后重试；"
                 "重复发送的消息不会被重复计入")
REDIS_DOWN_EN = (f"the database is unavailable (restarting or loading its data); retry in {REDIS_RETRY_S} s: "
                 "a message sent twice is never counted twice")


@dataclass
class AppServices:
    settings: Settings
    inbox: Inbox
    keys: Keys
    advance: Callable[[int], int] | None = None  # the supervisor's clock, when it runs on virtual time
    extra_routers: list = field(default_factory=list)  # e.g. the Lark card callback
    workspace: Workspace = field(init=False)
    accounts: Accounts = field(init=False)
    virtual_now: int = 0  # the latest tick, when time is virtual

    def __post_init__(self) -> None:
        s = self.settings
        self.workspace = Workspace(self.inbox.r, self.keys, self.inbox, load_policy(s.policy_file).to_policy(),
                                   s.timezone, load_priority(s), self.now)
        self.accounts = Accounts(self.inbox.r, self.keys)

    def now(self) -> int:
        """The service's clock: wall time, or on virtual time the latest tick (wall time before one)."""
        return self.virtual_now if self.advance is not None and self.virtual_now else int(time.time() * 1000)


class TickRequest(BaseModel):
    now: int = Field(gt=946_684_800_000, lt=4_102_444_800_000, description="epoch ms")


def _bearer(secret: SecretStr | None, what: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        if secret is None or not secret.get_secret_value():
            raise HTTPException(503, f"{what} is not configured on this server")
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        # Constant-time comparison: the time taken says nothing about how much of the token matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), secret.get_secret_value().encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    return check


def create_app(services: AppServices) -> FastAPI:
    s = services.settings
    app = FastAPI(title="Sales Assistant", version="0.1.0",
                  description="销售助理：群聊回复计时、飞书警报与回复指标 · reply clocks, Lark alerts, reply metrics")
    app.state.services = services
    ingest_auth = Depends(_bearer(s.ingest_token, "the ingest token (SA_INGEST_TOKEN)"))
    api_auth = Depends(_bearer(s.api_token, "the API token (SA_API_TOKEN)"))
    app.add_middleware(SessionMiddleware, secret_key=session_secret(services), session_cookie="sa_session",
                       max_age=s.http.session_hours * 3600, same_site="lax", https_only=s.http.secure_cookies)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.add_exception_handler(Refused, refused_or_page)
    app.add_exception_handler(LoginFirst, login_redirect)
    # Redis restarting, or loading its append-only file (BusyLoadingError is a ConnectionError): "later", not 500.
    app.add_exception_handler(redis.ConnectionError, redis_unavailable)
    app.add_exception_handler(redis.TimeoutError, redis_unavailable)
    ingest_limit = Depends(PerTokenLimit(s.http.rate_per_token_per_s, s.http.burst, lambda: services.inbox.r.hincrby(
        services.keys.stats, "rejected:rate_limited", 1)))

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > s.http.max_body_bytes):
            return JSONResponse({"error": f"request body larger than {s.http.max_body_bytes} bytes"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        bad_json = any(e["type"] == "json_invalid" for e in exc.errors())
        try:
            services.inbox.r.hincrby(services.keys.stats, "rejected:invalid_request", 1)
        except redis.RedisError:
            pass  # Redis is down: the caller still learns which field is wrong, uncounted
        log.info("rejected request to %s: %s", request.url.path, fields)
        return JSONResponse({"error": "malformed JSON" if bad_json else "invalid request", "fields": fields},
                            status_code=400 if bad_json else 422)

    # max_body_size also bounds chunked bodies, which carry no content-length for limit_body to check.
    @app.post("/api/messages", status_code=202, dependencies=[ingest_auth, ingest_limit],
              max_body_size=s.http.max_body_bytes,
              summary="Ingest one Wechaty message or a batch / 接收消息")
    def ingest(body: Annotated[WechatyMessage | list[WechatyMessage], ...]) -> dict:
        batch = body if isinstance(body, list) else [body]
        if len(batch) > MAX_BATCH:
            raise HTTPException(413, f"at most {MAX_BATCH} messages per request")
        try:
            added = services.inbox.push([m.to_message() for m in batch])
        except Backlogged as e:
            raise HTTPException(503, f"the pipeline is behind ({e}); retry later", headers={"Retry-After": "5"}) from None
        return {"accepted": sum(added), "duplicates": len(added) - sum(added)}

    @app.post("/api/clock/tick", dependencies=[api_auth], summary="Advance virtual time (virtual clock only)")
    def tick(body: TickRequest) -> dict:
        if services.advance is None:
            raise HTTPException(409, "this service runs on wall-clock time; ticks come from the clock")
        services.virtual_now = max(services.virtual_now, body.now)
        return {"alerts_fired": services.advance(body.now)}

    @app.get("/api/health", summary="Liveness and counters")
    def health() -> dict:
        return {"status": "ok", "caught_up": services.inbox.caught_up(), "backlog": services.inbox.backlog(),
                "stats": stats(services.inbox.r, services.keys), "sinks": sink_health(services)}

    app.include_router(api_router())
    app.include_router(pages_router())
    for router in services.extra_routers:
        app.include_router(router)
    return app


def sink_health(services: AppServices) -> dict[str, dict]:
    """Per sink: is it failing (since when), how many cards wait for it in the persisted queue, and how
    many more alerts those cards carry since its backlog passed the bound (policies/backlog.py)."""
    r, keys = services.inbox.r, services.keys
    failing = {k.split(":", 1)[1]: int(v) for k, v in stats(r, keys).items() if k.startswith("sink_failing:")}
    return {name: {"failing_since": failing.get(name), "waiting": backlog_of(r, keys.alerts, f"sink:{name}"),
                   "folded": folded_waiting(r, keys.sink_folds(name))}
            for name in services.settings.sinks}


def redis_unavailable(request: Request, exc: redis.RedisError):
    """503 + Retry-After while Redis cannot answer; a message batch is one script, so none of it was taken
    unless all of it was, and message ids make the retry harmless either way."""
    log.warning("Redis unavailable for %s %s (%s); answered 503", request.method, request.url.path,
                type(exc).__name__)  # the type only: a connection error's text may carry the server address
    response = refused_or_page(request, Refused(REDIS_DOWN_ZH, REDIS_DOWN_EN, 503))
    response.headers["Retry-After"] = str(REDIS_RETRY_S)
    return response


def refused_or_page(request: Request, exc: Refused):
    if request.url.path.startswith("/api/"):
        return refused_response(request, exc)
    from web.pages import TEMPLATES
    from web.api import lang_of
    from web.i18n import translator

    return TEMPLATES.TemplateResponse(request, "error.html", {
        "t": translator(lang_of(request)), "lang": lang_of(request), "actor": None, "csrf": "", "path": "",
        "fmt": str, "lark_behind": None, "message": exc.text(lang_of(request))}, status_code=exc.status)
