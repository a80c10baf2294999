"""The intake route: mentions in from listening tools, answered after the commit with what became of each.

A request carries a bearer token, or, when the daemon has intake secrets, a Standard Webhooks signature instead
(listening tools sign; they hold no token), and a ``webhook-id`` seen before is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api import _openapi as doc
from engine.api._access import intake_person, signed_intake
from engine.api._body import parse_json, raw_body
from engine.api._context import ApiContext, Context
from engine.api._views import intake_view
from engine.errors import BatchTooLarge, InvalidMentions, Replayed

__all__ = ["router"]

_log = structlog.get_logger("calmly.api")

router = APIRouter(prefix="/v1/mentions", tags=["intake"])


@dataclass(frozen=True, slots=True)
class Delivered:
    """A request's body once its sender is known: its bytes, and for signed intake the receipt to record."""

    body: bytes
    receipt: tuple[str, datetime] | None


async def delivered(request: Request, context: Context) -> Delivered:
    """The sender checked first (a signature needs the whole body; a token is checked before any is read)."""
    if context.intake_secrets:
        raw = await raw_body(request, context)
        return Delivered(raw, (signed_intake(request, context, raw), context.wall_clock()))
    await run_in_threadpool(intake_person, request, context)
    return Delivered(await raw_body(request, context), None)


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


@router.post(
    "",
    openapi_extra=doc.MENTIONS_BODY,
    responses=doc.answers(doc.INTAKE_RESULTS, "What became of each mention.", 400, 401, 409, 413, 422, 429),
)
async def post_mentions(context: Context, sent: Annotated[Delivered, Depends(delivered)]) -> JSONResponse:
    """One mention, a list, or {"mentions": [...]}. Answered after the commit, with what became of each.

    With intake secrets configured, the request is signed (Standard Webhooks) instead of carrying a token."""
    items = _mentions_of(parse_json(sent.body), context)
    receipt = sent.receipt
    try:
        results = await run_in_threadpool(lambda: context.service.ingest(items, receipt=receipt, all_or_nothing=True))
    except Replayed:
        _log.warning("replayed request refused", webhook_id=receipt[0] if receipt else None)
        raise
    invalid = [
        {"index": index, "errors": [dict(problem) for problem in result.errors]}
        for index, result in enumerate(results)
        if result.status == "invalid"
    ]
    if invalid:
        count = len(invalid)
        raise InvalidMentions(
            f"{count} of {len(items)} mention{'s' if len(items) > 1 else ''} "
            f"{'is' if count == 1 else 'are'} not valid; nothing was recorded",
            details=invalid,
        )
    context.wake()
    for result in results:
        _log.info("mention", status=result.status, incident_id=result.incident_id, playbook=result.playbook)
    return JSONResponse({"results": [intake_view(result) for result in results]})
