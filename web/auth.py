"""Who is calling: a dashboard session (signed cookie), a user's API token, or the configured
integration token; and the CSRF check for every write a browser session makes."""
from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

from policies.access import Actor, UserRole

SESSION_USER = "user"
SESSION_CSRF = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def session_secret(services) -> str:
    """The configured secret, or one made once and kept in Redis so sessions survive restarts."""
    s = services.settings
    if s.session_secret is not None and s.session_secret.get_secret_value():
        return s.session_secret.get_secret_value()
    key = f"{services.keys.ns}:session-secret"
    services.inbox.r.set(key, secrets.token_urlsafe(48), nx=True)
    return services.inbox.r.get(key)


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(SESSION_CSRF, "")
    if not expected or not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise HTTPException(403, "CSRF 校验失败，请刷新页面后重试 / CSRF check failed: reload the page and try again")


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def actor_of(request: Request) -> Actor | None:
    services = request.app.state.services
    token = _bearer(request)
    if token is not None:
        configured = services.settings.api_token
        # Constant-time comparison: the time taken says nothing about how much of the token matched.
        if configured is not None and configured.get_secret_value() and hmac.compare_digest(
                token.encode(), configured.get_secret_value().encode()):
            return Actor("api", "API", UserRole.MANAGER, None, "api")
        user = services.accounts.user_for_token(token)
        return user.actor("api") if user else None
    username = request.session.get(SESSION_USER)
    user = services.accounts.get(username) if username else None
    return user.actor("web") if user else None


async def require_actor(request: Request) -> Actor:
    """The API's gate: 401 without credentials; a browser session's writes need the CSRF header."""
    actor = actor_of(request)
    if actor is None:
        raise HTTPException(401, "请先登录或提供 API 令牌 / log in or send a bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    if actor.via == "web" and request.method in UNSAFE:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return actor
