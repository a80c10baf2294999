"""Approval over HTTP: a draft reply for an action that needs approval is submitted, approved or returned, and an
action's replies from the playbook are read, filled in for the incident.

``POST /v1/incidents/{id}/actions/{trigger}/draft`` takes ``{"revision": N, "public_reply": {text, channel}}``;
``.../approve`` takes ``{"revision": N}`` and ``.../return`` ``{"revision": N, "note": "..."}``. None of them moves
the incident to another state; each is recorded in its history. ``GET /v1/incidents/{id}/replies/{trigger}`` answers
the playbook's replies for the action with its placeholders filled, and whether a reply must be one of them.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api import _openapi as doc
from engine.api._access import Caller, Person
from engine.api._body import json_object
from engine.api._context import ApiContext, Context, Served
from engine.api._incidents import refusal
from engine.api._views import draft_view, summary_view
from engine.errors import BadAction
from engine.incident import Actor, DraftReply, DraftStep
from engine.service import Service

__all__ = ["router"]

_log = structlog.get_logger("calmly.api")

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

_KEYS = {
    DraftStep.SUBMIT: frozenset({"revision", "public_reply", "note"}),
    DraftStep.APPROVE: frozenset({"revision", "note"}),
    DraftStep.RETURN: frozenset({"revision", "note"}),
}
_SHAPES = {
    DraftStep.SUBMIT: 'send {"revision": N, "public_reply": {"text": "...", "channel": "..."}}',
    DraftStep.APPROVE: 'send {"revision": N}; N is the revision of the incident you saw',
    DraftStep.RETURN: 'send {"revision": N, "note": "what to change"}',
}


def _revision(body: dict[str, Any]) -> int:
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise BadAction(
            'name the revision of the incident you saw: {"revision": N, ...} (a whole number)', code="missing_version"
        )
    return revision


async def _decide(  # noqa: PLR0917 - the path's parts, the step and the dependencies, each by name
    step: DraftStep,
    incident_id: str,
    trigger: str,
    request: Request,
    caller: Caller,
    context: ApiContext,
    service: Service,
) -> JSONResponse:
    body = await json_object(request, context, _KEYS[step], _SHAPES[step])
    revision = _revision(body)
    fields = {name: value for name, value in body.items() if name != "revision"}
    command = DraftReply(step, trigger, Actor(caller.person, caller.roles), fields, revision)
    result = await run_in_threadpool(service.draft, incident_id, command)
    log = _log.bind(incident_id=incident_id, trigger=trigger, person=caller.person, step=step.value)
    if result.refused is not None:
        log.info("draft refused", reason=result.refused.reason.value)
        raise refusal(result.refused)
    context.wake()
    log.info("draft", revision=result.incident.revision)
    row = await run_in_threadpool(service.incident_row, incident_id)
    summary = summary_view(row) if row is not None else {}
    return JSONResponse(
        {"incident": summary, "approval": draft_view(result.incident.draft), "history": list(result.history)}
    )


_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)


@router.post(
    "/{incident_id}/actions/{trigger}/draft",
    openapi_extra=doc.DRAFT_BODY,
    responses=doc.answers(doc.ACTED, "The incident, with the draft waiting for approval.", *_ERRORS),
)
async def submit_draft(  # noqa: PLR0917 - the path's parts and the dependencies, each by name
    incident_id: str, trigger: str, request: Request, caller: Person, context: Context, service: Served
) -> JSONResponse:
    """Submit the public reply of an action that needs approval as a draft (or a redraft, replacing the last)."""
    return await _decide(DraftStep.SUBMIT, incident_id, trigger, request, caller, context, service)


@router.post(
    "/{incident_id}/actions/{trigger}/approve",
    openapi_extra=doc.DECISION_BODY,
    responses=doc.answers(doc.ACTED, "The incident, with the draft approved.", *_ERRORS),
)
async def approve_draft(  # noqa: PLR0917 - the path's parts and the dependencies, each by name
    incident_id: str, trigger: str, request: Request, caller: Person, context: Context, service: Served
) -> JSONResponse:
    """Approve the draft reply as it stands: the action is then taken only with these words. For the approval's
    roles; never by the person who drafted it."""
    return await _decide(DraftStep.APPROVE, incident_id, trigger, request, caller, context, service)


@router.post(
    "/{incident_id}/actions/{trigger}/return",
    openapi_extra=doc.DECISION_BODY,
    responses=doc.answers(doc.ACTED, "The incident, with the draft returned.", *_ERRORS),
)
async def return_draft(  # noqa: PLR0917 - the path's parts and the dependencies, each by name
    incident_id: str, trigger: str, request: Request, caller: Person, context: Context, service: Served
) -> JSONResponse:
    """Return the draft reply with a note on what to change (or withdraw an approval before the reply goes out)."""
    return await _decide(DraftStep.RETURN, incident_id, trigger, request, caller, context, service)


@router.get(
    "/{incident_id}/replies/{trigger}",
    responses=doc.answers(doc.REPLIES, "The action's replies, filled in for the incident.", 401, 404, 429),
)
async def replies(incident_id: str, trigger: str, _: Person, service: Served) -> JSONResponse:
    """The playbook's replies for an action, placeholders ({author}, {channel} ...) filled from the incident, and
    whether a public reply for it must be one of them (``required``)."""
    found = await run_in_threadpool(service.replies, incident_id, trigger)
    return JSONResponse(
        {"incident": incident_id, "action": found.trigger, "replies": list(found.texts), "required": found.required}
    )
