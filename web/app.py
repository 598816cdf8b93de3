"""The HTTP surface: the ingestion webhook, the workspace API and the dashboard, on the project's own Redis.

`create_app` builds routes around services that are already built: the composition root
(cli/bootstrap.py) loads the settings and the policy, opens Redis and makes the workspace; nothing
here loads or constructs them again.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import redis
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, SecretStr

from sales_assistant.config.settings import Settings
from sales_assistant.connectors.i18n import refusal_text
from sales_assistant.connectors.wechaty import WechatyMessage
from sales_assistant.policies.access import Refused
from sales_assistant.store.folds import sink_backlog
from sales_assistant.store.inbox import Backlogged, Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.sessions import SessionKey
from sales_assistant.store.state import nlp_state, stats
from sales_assistant.store.users import Accounts
from sales_assistant.web.api import api_router, error_response, lang_of
from sales_assistant.web.auth import SESSION_COOKIE, SignedSessionCookie, bearer_token, is_secret
from sales_assistant.web.bridge_routes import bridge_health, bridge_router
from sales_assistant.web.headers import SecurityHeaders
from sales_assistant.web.i18n import REDIS_DOWN, translator
from sales_assistant.web.language_health import checks_health, fallback_health
from sales_assistant.web.limits import PerTokenLimit
from sales_assistant.web.pages import TEMPLATES, LoginFirst, login_redirect, pages_router

if TYPE_CHECKING:
    from sales_assistant.application.workspace import Workspace
    from sales_assistant.models.analysis import Analyzer

log = logging.getLogger("sales_assistant.web")

MAX_BATCH = 1000
REDIS_RETRY_S = 5


class ServiceClock:
    """The service's "now" in epoch ms: wall time, or, when the pipeline runs on virtual time, the latest
    tick posted to /api/clock/tick (wall time before the first one)."""

    def __init__(self, advance: Callable[[int], int] | None = None,
                 wall: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        """`advance`: the supervisor's clock on virtual time (it returns the alerts fired); None: wall time."""
        self._advance, self._wall, self._latest = advance, wall, 0

    @property
    def virtual(self) -> bool:
        return self._advance is not None

    def now(self) -> int:
        return self._latest if self.virtual and self._latest else self._wall()

    def tick(self, now_ms: int) -> int:
        """Advance virtual time to `now_ms` (never back); returns the alerts that fired."""
        if self._advance is None:
            raise RuntimeError("a wall clock is not ticked")
        self._latest = max(self._latest, now_ms)
        return self._advance(now_ms)


@dataclass(frozen=True)
class AppServices:
    """What the routes work with, all built before the app (cli/bootstrap.py: build_services)."""
    settings: Settings
    inbox: Inbox
    workspace: Workspace
    accounts: Accounts
    clock: ServiceClock
    session_key: SessionKey
    # POST /api/check: the service's language checks (models/analysis.Analyzer), loaded on the first call
    language_checks: Callable[[], Analyzer]

    @property
    def keys(self) -> Keys:
        return self.inbox.keys


class TickRequest(BaseModel):
    now: int = Field(gt=946_684_800_000, lt=4_102_444_800_000, description="epoch ms")


def _bearer(secret: SecretStr | None, what: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        if secret is None or not secret.get_secret_value():
            raise HTTPException(503, f"{what} is not configured on this server")
        if not is_secret(bearer_token(request), secret):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    return check


def create_app(services: AppServices, routers: Iterable[APIRouter] = ()) -> FastAPI:
    """The app on `services`, with `routers` added (the Lark card callback, where it is configured)."""
    s = services.settings
    # The API's own description (/docs, /redoc, /openapi.json) only where the settings ask for it.
    docs = {} if s.http.api_docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="Sales Assistant", version="0.1.0",
                  description="销售助理：群聊回复计时、飞书警报与回复指标 · reply clocks, Lark alerts, reply metrics",
                  **docs)
    app.state.services = services
    ingest_auth = Depends(_bearer(s.ingest_token, "the ingest token (SA_INGEST_TOKEN)"))
    api_auth = Depends(_bearer(s.api_token, "the API token (SA_API_TOKEN)"))
    app.add_middleware(SignedSessionCookie, key=services.session_key, session_cookie=SESSION_COOKIE,
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
            raise HTTPException(503, f"the pipeline is behind ({e}); retry later",
                                headers={"Retry-After": "5"}) from None
        return {"accepted": sum(added), "duplicates": len(added) - sum(added)}

    @app.post("/api/clock/tick", dependencies=[api_auth], summary="Advance virtual time (virtual clock only)")
    def tick(body: TickRequest) -> dict:
        if not services.clock.virtual:
            raise HTTPException(409, "this service runs on wall-clock time; ticks come from the clock")
        return {"alerts_fired": services.clock.tick(body.now)}

    @app.get("/api/health", summary="Liveness and counters")
    def health() -> dict:
        # nlp: off | loading | ready | failed. While it loads the ingest waits (actors/ingest.py); when it
        # has failed, the built-in list labels, and stats.nlp_fallback counts each such label.
        return {"status": "ok", "caught_up": services.inbox.caught_up(), "backlog": services.inbox.backlog(),
                "stats": stats(services.inbox.r, services.keys), "sinks": sink_health(services),
                "nlp": nlp_state(services.inbox.r, services.keys),
                # the staff checks' backlog (state behind past nlp.check_lag_warn_s) and the closing labels
                # that fell back to the built-in list (state high past nlp.fallback_warn_per_min)
                "checks": checks_health(services), "nlp_fallback": fallback_health(services),
                "bridge": bridge_health(services),  # the WeChat bridge: None until it first calls
                # team -> years whose statutory holidays its calendar does not know yet (counted as plain weeks)
                "holiday_gaps": services.workspace.holiday_gaps()}

    app.include_router(api_router())
    app.include_router(bridge_router(ingest_auth))
    app.include_router(pages_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(SecurityHeaders)  # added last, so outermost: the 413s and the redirects get them too
    return app


def sink_health(services: AppServices) -> dict[str, dict]:
    """Per sink: is it failing (since when), how many cards wait for it in the persisted queue, and how
    many more alerts those cards carry since its backlog passed the bound (policies/backlog.py)."""
    r, keys = services.inbox.r, services.keys
    failing = {k.split(":", 1)[1]: int(v) for k, v in stats(r, keys).items() if k.startswith("sink_failing:")}
    return {name: {"failing_since": failing.get(name), **sink_backlog(r, keys, name)}
            for name in services.settings.sinks}


def redis_unavailable(request: Request, exc: redis.RedisError):
    """503 + Retry-After while Redis cannot answer; a message batch is one script, so none of it was taken
    unless all of it was, and message ids make the retry harmless either way."""
    log.warning("Redis unavailable for %s %s (%s); answered 503", request.method, request.url.path,
                type(exc).__name__)  # the type only: a connection error's text may carry the server address
    zh, en = (words.format(retry_s=REDIS_RETRY_S) for words in REDIS_DOWN)
    response = error_or_page(request, 503, zh, en)
    response.headers["Retry-After"] = str(REDIS_RETRY_S)
    return response


def refused_or_page(request: Request, exc: Refused):
    return error_or_page(request, exc.status, refusal_text(exc, "zh"), refusal_text(exc, "en"), exc.code.value)


def error_or_page(request: Request, status: int, zh: str, en: str, code: str | None = None):
    """The API answers JSON (error_response); a page request gets the error page in its language."""
    if request.url.path.startswith("/api/"):
        return error_response(request, status, zh, en, code)
    lang = lang_of(request)
    return TEMPLATES.TemplateResponse(request, "error.html", {
        "t": translator(lang), "lang": lang, "actor": None, "csrf": "", "path": "",
        "fmt": str, "lark_behind": None, "language": {}, "message": en if lang == "en" else zh}, status_code=status)
