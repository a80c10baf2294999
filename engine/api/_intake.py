"""The intake route: mentions in from listening tools, answered after the commit with what became of each.

A request carries a bearer token, or, when the daemon has intake secrets, a Standard Webhooks signature instead
(listening tools sign; they hold no token), and a ``webhook-id`` seen before is refused.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from engine.api import _openapi as doc
from engine.api._access import intake_person, signed_intake
from engine.api._body import parse_json, raw_body
from engine.api._context import ApiContext, Context
from engine.api._views import intake_view
from engine.errors import BatchTooLarge, InvalidMentions, Replayed
from engine.service import Sent

__all__ = ["router"]

_log = structlog.get_logger("calmly.api")

router = APIRouter(prefix="/v1/mentions", tags=["intake"])


def _mentions_of(body: Any, context: ApiContext) -> list[Any]:
    if isinstance(body, dict) and "mentions" in body and set(body) == {"mentions"}:
        items = body["mentions"]
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    if not isinstance(items, list) or not items:
        raise InvalidMentions('send one mention, a list of them, or {"mentions": [...]}', code="no_mentions")
    if len(items) > context.max_batch:
        raise BatchTooLarge(f"send at most {context.max_batch} mentions at once")
    return items


def _read(request: Request, context: ApiContext, body: bytes) -> Sent:
    """Who sent it, then what it holds (in the intake lane's thread: a token's check reads the store). For signed
    intake the signature is checked with the whole body; a request with a token had its body read too, within the
    body cap, and an unknown token is refused before any of it is parsed."""
    receipt = None
    if context.intake_secrets:
        receipt = (signed_intake(request, context, body), context.wall_clock())
    else:
        intake_person(request, context)
    return Sent(_mentions_of(parse_json(body), context), receipt, all_or_nothing=True)


@router.post(
    "",
    openapi_extra=doc.MENTIONS_BODY,
    responses=doc.answers(doc.INTAKE_RESULTS, "What became of each mention.", 400, 401, 409, 413, 422, 429),
)
async def post_mentions(request: Request, context: Context) -> JSONResponse:
    """One mention, a list, or {"mentions": [...]}. Answered after the commit, with what became of each.

    With intake secrets configured, the request is signed (Standard Webhooks) instead of carrying a token."""
    body = await raw_body(request, context)
    try:
        results = await context.lane.take(lambda: _read(request, context, body))
    except Replayed as replayed:
        _log.warning("replayed request refused", webhook_id=replayed.webhook_id)
        raise
    invalid = [
        {"index": index, "errors": [dict(problem) for problem in result.errors]}
        for index, result in enumerate(results)
        if result.status == "invalid"
    ]
    if invalid:
        count = len(invalid)
        raise InvalidMentions(
            f"{count} of {len(results)} mention{'s' if len(results) > 1 else ''} "
            f"{'is' if count == 1 else 'are'} not valid; nothing was recorded",
            details=invalid,
        )
    for result in results:
        _log.info("mention", status=result.status, incident_id=result.incident_id, playbook=result.playbook)
    return JSONResponse({"results": [intake_view(result) for result in results]})
