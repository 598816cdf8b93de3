"""POST /lark/card: where Lark delivers presses of the buttons on alert cards (and, once, the
url_verification challenge when the callback URL is saved in the Lark developer console).

A thin translation: the FastAPI request becomes lark-oapi's RawRequest, the handler
(connectors.lark_actions.CardCallbacks) verifies and answers, its RawResponse goes back as it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from sales_assistant.connectors.lark_actions import CardCallbacks

CARD_PATH = "/lark/card"


def lark_router(handler: CardCallbacks) -> APIRouter:
    """The route for `handler`; cli/bootstrap.py passes it to `web.app.create_app` where Lark is configured."""
    from lark_oapi.core.model import RawRequest  # only a service with the buttons configured loads the SDK

    router = APIRouter()

    @router.post(CARD_PATH, include_in_schema=False)
    async def card_callback(request: Request) -> Response:
        raw = RawRequest()
        raw.uri = request.url.path
        # lark-oapi looks headers up by their canonical spelling (X-Lark-Signature); ASGI lower-cases them.
        raw.headers = {_canonical(name): value for name, value in request.headers.items()}
        raw.body = await request.body()
        answer = await run_in_threadpool(handler.do, raw)  # Redis and the workspace block
        return Response(content=answer.content or b"", status_code=answer.status_code or 500,
                        media_type=answer.headers.get("Content-Type", "application/json; charset=utf-8"))

    return router


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
