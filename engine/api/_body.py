"""Reading a request's body ourselves: its size capped before it is read whole (a declared length over the cap is
refused unread), and its JSON read with bounds (:func:`engine.service.read_json`), so hostile input is a located
error, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from engine.api._context import ApiContext
from engine.errors import BodyTooLarge, EmptyBody
from engine.service import read_json

__all__ = ["json_body", "parse_json", "raw_body"]


def _too_large(context: ApiContext) -> BodyTooLarge:
    return BodyTooLarge(f"the body is over {context.max_body_bytes:,} bytes; send less at once")


async def raw_body(request: Request, context: ApiContext) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > context.max_body_bytes:
        raise _too_large(context)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > context.max_body_bytes:
            raise _too_large(context)
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """The body's JSON value; :class:`~engine.errors.BadJson` says where it is not JSON calmly takes."""
    if not body:
        raise EmptyBody("the request has no body; send JSON")
    return read_json(body)


async def json_body(request: Request, context: ApiContext) -> Any:
    return parse_json(await raw_body(request, context))
