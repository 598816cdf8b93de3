"""Who is calling: a dashboard session (a signed cookie naming a session kept in Redis, store/sessions.py),
a user's API token, or the configured integration token; and the CSRF check for every write a browser
session makes."""
from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from pydantic import SecretStr
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from sales_assistant.policies.access import Actor, UserRole
from sales_assistant.store.sessions import SessionKey

SESSION_ID = "sid"
SESSION_CSRF = "csrf"
SESSION_COOKIE = "sa_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignedSessionCookie:
    """Starlette's signed session cookie, signed with the current key: a key that `users rotate-secret`
    replaced is in force from the next request, without a restart."""

    def __init__(self, app: ASGIApp, key: SessionKey, **options) -> None:
        self.app, self.key, self.options = app, key, options
        self._signed_with, self._inner = "", app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = self.key.current()
        if current != self._signed_with:
            self._inner, self._signed_with = SessionMiddleware(self.app, secret_key=current, **self.options), current
        await self._inner(scope, receive, send)


def start_session(request: Request, username: str) -> None:
    """A fresh session (new id, new CSRF token) at every login: an id known before the login is worth nothing."""
    services = request.app.state.services
    end_session(request)
    request.session[SESSION_ID] = services.accounts.sessions.start(username, services.settings.http.session_hours * 3600)


def end_session(request: Request) -> None:
    sid = request.session.get(SESSION_ID)
    if sid:
        request.app.state.services.accounts.sessions.end(sid)
    request.session.clear()


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(SESSION_CSRF, "")
    if not expected or not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise HTTPException(403, "CSRF 校验失败，请刷新页面后重试 / CSRF check failed: reload the page and try again")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def is_secret(token: str | None, secret: SecretStr | None) -> bool:
    """Whether `token` is the configured, non-empty `secret`."""
    if token is None or secret is None or not secret.get_secret_value():
        return False
    # Constant-time comparison: the time taken says nothing about how much of the token matched.
    return hmac.compare_digest(token.encode(), secret.get_secret_value().encode())


# The configured integration token (SA_API_TOKEN). Compared by identity: an account may be named "api".
INTEGRATION = Actor("api", "API", UserRole.MANAGER, None, "api")


def actor_of(request: Request) -> Actor | None:
    services = request.app.state.services
    token = bearer_token(request)
    if token is not None:
        if is_secret(token, services.settings.api_token):
            return INTEGRATION
        user = services.accounts.user_for_token(token)
        return user.actor("api") if user else None
    sid = request.session.get(SESSION_ID)
    username = services.accounts.sessions.user(sid) if isinstance(sid, str) else None
    user = services.accounts.get(username) if username else None
    return user.actor("web") if user and not user.disabled else None


async def require_actor(request: Request) -> Actor:
    """The API's gate: 401 without credentials; a browser session's writes need the CSRF header."""
    actor = actor_of(request)
    if actor is None:
        raise HTTPException(401, "请先登录或提供 API 令牌 / log in or send a bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    if actor.via == "web" and request.method in UNSAFE:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return actor
