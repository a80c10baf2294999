"""Reading a request's body ourselves: its size capped before it is read whole (a declared length over the cap is
refused unread), and its JSON read with bounds (:func:`engine.service.read_json`), so hostile input is a located
error, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from engine.api._context import ApiContext
from engine.errors import BadAction, BodyTooLarge, EmptyBody
from engine.service import lone_surrogate_at, read_json

__all__ = ["json_body", "json_object", "parse_json", "raw_body"]


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


async def json_object(request: Request, context: ApiContext, allowed: frozenset[str], shape: str) -> dict[str, Any]:
    """The body as a JSON object of ``allowed`` keys (:class:`~engine.errors.BadAction` saying ``shape`` if not),
    whole characters only: a lone UTF-16 surrogate (half a cut emoji) is refused where it is, not mended."""
    body = await json_body(request, context)
    if not isinstance(body, dict) or set(body) - allowed:
        raise BadAction(shape)
    broken = lone_surrogate_at(body)
    if broken is not None:
        raise BadAction(
            f"the text at {broken} holds half of a character (a lone UTF-16 surrogate, as from a cut emoji); "
            "send whole characters",
            code="bad_text",
            details={"pointer": broken},
        )
    return body
