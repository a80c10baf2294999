"""Every error as the JSON shape ``{"error": {"code", "message", "details"?}}``, mapped in one place: calmly's own
(:mod:`engine.errors`, each with its status and code) in one handler, FastAPI's and Starlette's in theirs, and
whatever nobody foresaw as a 500 that says where to look."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import CalmlyError
from engine.store import plain

__all__ = ["Unexpected", "error_response", "install_handlers"]


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers) if headers else None)


def install_handlers(app: FastAPI) -> None:
    """The one handler for calmly's errors, and one each for what FastAPI and Starlette raise themselves."""

    @app.exception_handler(CalmlyError)
    async def calmly_error(_: Request, error: CalmlyError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        details = plain(list(error.errors()))  # what the request held, as JSON can carry it back
        return error_response(422, "bad_request", "the request is not what this endpoint takes", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail))


class Unexpected:
    """Answers what nobody foresaw (a bug, a full disk) with the JSON error shape and a 500, and logs it once with
    its stack trace. Pure ASGI, inside the timing, so the 500 is counted too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def sending(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:  # the client hung up before its whole request came: nothing was done, no one to tell
            return
        except Exception:
            # Looked up here, not at import: a logger cached before the daemon configured logging would bypass it.
            log = structlog.get_logger("calmly.api")
            log.exception("unexpected error", method=scope.get("method"), path=scope.get("path"))
            if answered:  # too late to answer; the server closes the connection
                raise
            answer = error_response(
                500, "internal", "something went wrong inside calmly; the daemon's log says what (ask its operator)"
            )
            await answer(scope, receive, send)
