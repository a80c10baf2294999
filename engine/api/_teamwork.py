"""Who has an incident, and the team's notes on it: take, assign and release it, and write an internal note.

None of these is a playbook action: they do not change the incident's state or revision (an action someone is
drafting stays good), but each is recorded in its history. Only the playbook's team may do them; an incident is
assigned to a person in the roster who has one of the playbook's roles, so they can act on it.
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
from engine.api._views import summary_view
from engine.errors import BadAction
from engine.incident import NOTE_LIMIT, Actor, AddNote, SetOwner
from engine.service import ActResult, Service

__all__ = ["assignee", "router"]

_log = structlog.get_logger("calmly.api")

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


def assignee(context: ApiContext, person: Any) -> Actor:
    """The person an incident is assigned to, with their roles in the roster; :class:`BadAction` if not in it."""
    if not isinstance(person, str) or not person.strip():
        raise BadAction('name the person to assign it to: {"owner": "PERSON"} (their id in the roster)')
    member = context.roster.person(person.strip())
    if member is None:
        raise BadAction(
            f"{person.strip()} is not in the roster; assign it to someone who is (see the roster file)",
            code="unknown_person",
            details={"field": "owner"},
        )
    return Actor(member.id, member.roles)


async def _answer(service: Service, incident_id: str, result: ActResult, caller: Caller, doing: str) -> JSONResponse:
    log = _log.bind(incident_id=incident_id, person=caller.person)
    if result.refused is not None:
        log.info(f"{doing} refused", reason=result.refused.reason.value)
        raise refusal(result.refused)
    log.info(doing, owner=result.incident.owner, recorded=bool(result.history))
    row = await run_in_threadpool(service.incident_row, incident_id)
    summary = summary_view(row) if row is not None else {}
    return JSONResponse({"incident": summary, "history": list(result.history)})


def _actor(caller: Caller) -> Actor:
    return Actor(caller.person, caller.roles)


@router.post(
    "/{incident_id}/take",
    responses=doc.answers(doc.ACTED, "The incident, now the caller's.", 401, 403, 404, 409, 422, 429),
)
async def take(incident_id: str, caller: Person, service: Served) -> JSONResponse:
    """Take the incident: it is yours now. Refused (409, taken) when someone else has it: assign it to yourself to
    take it over."""
    command = SetOwner(_actor(caller), _actor(caller), take_over=False)
    result = await run_in_threadpool(service.set_owner, incident_id, command)
    return await _answer(service, incident_id, result, caller, "take")


@router.post(
    "/{incident_id}/assign",
    openapi_extra=doc.ASSIGN_BODY,
    responses=doc.answers(doc.ACTED, "The incident, now the person's.", 400, 401, 403, 404, 413, 422, 429),
)
async def assign(incident_id: str, request: Request, caller: Person, context: Context, service: Served) -> JSONResponse:
    """Assign the incident to a person in the roster with one of the playbook's roles: ``{"owner": "PERSON"}``."""
    body = await json_object(request, context, frozenset({"owner"}), 'send {"owner": "PERSON"}')
    command = SetOwner(_actor(caller), assignee(context, body.get("owner")))
    result = await run_in_threadpool(service.set_owner, incident_id, command)
    return await _answer(service, incident_id, result, caller, "assign")


@router.post(
    "/{incident_id}/release",
    responses=doc.answers(doc.ACTED, "The incident, now nobody's.", 401, 403, 404, 422, 429),
)
async def release(incident_id: str, caller: Person, service: Served) -> JSONResponse:
    """Release the incident: nobody has it now, and it is back with the whole team."""
    result = await run_in_threadpool(service.set_owner, incident_id, SetOwner(_actor(caller), None))
    return await _answer(service, incident_id, result, caller, "release")


@router.post(
    "/{incident_id}/notes",
    openapi_extra=doc.NOTE_BODY,
    status_code=201,
    responses=doc.answers(doc.ACTED, "The note, in the incident's history.", 400, 401, 403, 404, 413, 422, 429),
)
async def add_note(
    incident_id: str, request: Request, caller: Person, context: Context, service: Served
) -> JSONResponse:
    """An internal note for the team: ``{"text": "..."}``. Never posted anywhere; kept in the history."""
    body = await json_object(request, context, frozenset({"text"}), 'send {"text": "what the team should know"}')
    text = body.get("text")
    if not isinstance(text, str):
        raise BadAction(f'send {{"text": "..."}}: the note as text, up to {NOTE_LIMIT:,} characters')
    result = await run_in_threadpool(service.add_note, incident_id, AddNote(_actor(caller), text))
    answer = await _answer(service, incident_id, result, caller, "note")
    answer.status_code = 201
    return answer
