"""Security headers on every answer: pages, the JSON API, exports, the live feed and static files.

The dashboard's scripts and styles are files under /static, so the content security policy allows
scripts, styles and connections from the product itself only, and no inline code: an injected
`<script>` or `style=` does nothing even if it got past the templates' escaping. No page may be framed
(frame-ancestors 'none', X-Frame-Options for older browsers), so a same-site page cannot lay the
dashboard's buttons under its own (clickjacking). Answers are not sniffed into another type, send no
Referer (room ids sit in the URLs), and, static files aside, are never stored by a browser or a proxy:
they are a person's rooms and messages. FastAPI's /docs loads Swagger UI from its CDN with an inline
script, so it gets a policy of its own that allows exactly that and still cannot be framed.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
            "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' https://fastapi.tiangolo.com data:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """ASGI middleware: adds the headers above to every HTTP answer, streamed ones (SSE) included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((name, value) for name, value in extra if name not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The headers for an answer at `path` (the route's own Cache-Control, if any, is kept)."""
    docs = path.startswith(DOCS_PATHS)
    headers = {
        "content-security-policy": DOCS_CSP if docs else CSP,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["cache-control"] = "no-store"
    return [(name.encode(), value.encode()) for name, value in headers.items()]
