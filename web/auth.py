"""Who is calling: a dashboard session (signed cookie), a user's API token, or the configured
integration token; and the CSRF check for every write a browser session makes."""
from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request
from pydantic import SecretStr

from sales_assistant.policies.access import Actor, UserRole

SESSION_USER = "user"
SESSION_CSRF = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def session_secret(services) -> str:
    """The configured secret, or the one kept with the accounts so sessions survive restarts."""
    configured = services.settings.session_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return services.accounts.session_secret()


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


def actor_of(request: Request) -> Actor | None:
    services = request.app.state.services
    token = bearer_token(request)
    if token is not None:
        if is_secret(token, services.settings.api_token):
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
