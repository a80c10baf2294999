"""The incident routes: a page of incidents, one in full, and an action taken on one as the token's person.

An action names the revision of the incident it was decided on: ``{"revision": N, "fields": {...}}``. Scripts
written before the field had that name send ``{"version": N}``, which is still taken (both, if they differ, are
refused with 422). A stale revision is refused (409) and nothing changes.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api import _openapi as doc
from engine.api._access import Person
from engine.api._body import json_object
from engine.api._context import Context, Served
from engine.api._views import details_view, summary_view
from engine.errors import ActionRefused, BadAction, BadQuery
from engine.incident import RefusalReason, Refused
from engine.store import IncidentFilter

__all__ = ["MAX_PAGE", "refusal", "router"]

_log = structlog.get_logger("calmly.api")

MAX_PAGE = 500
_STATUS = {
    RefusalReason.STALE: 409,
    RefusalReason.ROLE_NOT_ALLOWED: 403,
    RefusalReason.UNKNOWN_ACTION: 404,
    RefusalReason.TAKEN: 409,
}
#: The keys an action's body may hold: ``version`` is the deprecated name of ``revision``.
_ACTION_KEYS = frozenset({"revision", "version", "fields"})
_ACTION_SHAPE = 'send {"revision": N, "fields": {...}}; N is the revision of the incident you saw'

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


def _filter(request: Request, caller: str) -> IncidentFilter:
    query = request.query_params

    def many(name: str) -> tuple[str, ...]:
        return tuple(item for value in query.getlist(name) for item in value.split(",") if item)

    breached = query.get("breached")
    if breached not in (None, "true", "false"):
        raise BadQuery("breached must be true or false")
    open_only = query.get("open")
    if open_only not in (None, "true", "false"):
        raise BadQuery("open must be true or false")
    mine = query.get("mine")
    if mine not in (None, "true", "false"):
        raise BadQuery("mine must be true or false")
    owner = query.get("owner") or None
    if mine == "true" and owner not in (None, caller):
        raise BadQuery(f"mine=true lists {caller}'s incidents; leave out owner={owner}, or mine")
    limit_text = query.get("limit", "50")
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_PAGE:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return IncidentFilter(
        states=many("state"),
        severities=many("severity"),
        playbooks=many("playbook"),
        breached=None if breached is None else breached == "true",
        open_only=open_only == "true",
        waiting_on=query.get("waiting_on") or None,
        channels=many("channel"),
        owner=caller if mine == "true" else owner,
        after=query.get("after") or None,
        limit=int(limit_text),
    )


def _query_parameters() -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
        for name, schema, description in (
            ("state", {"type": "string"}, "States, comma-separated."),
            ("severity", {"type": "string"}, "Severities, comma-separated."),
            ("playbook", {"type": "string"}, "Playbook ids, comma-separated."),
            ("breached", {"enum": ["true", "false"]}, "Only incidents with (or without) a breached clock."),
            ("open", {"enum": ["true", "false"]}, "Only open incidents."),
            ("waiting_on", {"type": "string"}, "Incidents a person with this role can act on now."),
            ("channel", {"type": "string"}, "Channels, comma-separated."),
            ("owner", {"type": "string"}, "Only the incidents this person has (took or was assigned)."),
            ("mine", {"enum": ["true", "false"]}, "Only the incidents the token's person has."),
            ("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page size."),
            ("after", {"type": "string"}, "The next of the previous page."),
        )
    ]


@router.get(
    "",
    responses=doc.answers(doc.INCIDENT_LIST, "A page of incidents, and the next page's after.", 401, 422, 429),
    openapi_extra={"parameters": _query_parameters()},
)
async def list_incidents(request: Request, caller: Person, context: Context, service: Served) -> JSONResponse:
    """Incidents, oldest first; filter by state, severity, playbook, channel, breached, open, waiting_on (a role),
    owner (a person) or mine (the token's person)."""
    where = _filter(request, caller.person)
    rows = await run_in_threadpool(service.incidents, where)
    following = rows[-1].incident.id if len(rows) == where.limit else None
    listed = [summary_view(row, service.clock_zones(row.incident)) for row in rows]
    return JSONResponse({"now": context.clock().isoformat(), "incidents": listed, "next": following})


@router.get("/{incident_id}", responses=doc.answers(doc.INCIDENT, "The incident in full.", 401, 404, 429))
async def show_incident(incident_id: str, _: Person, context: Context, service: Served) -> JSONResponse:
    """State, severity, running clocks and their deadlines, the actions open now, and the full history."""
    details = await run_in_threadpool(service.incident, incident_id)  # NotFound: 404 in the one handler
    return JSONResponse(details_view(details, context.clock()))


def _seen_revision(body: dict[str, Any]) -> int:
    """The revision an action was decided on, under its name or its old one (``version``)."""
    given = [body[name] for name in ("revision", "version") if name in body]
    if not given or any(not isinstance(value, int) or isinstance(value, bool) or value < 0 for value in given):
        raise BadAction(
            'name the revision of the incident you saw: {"revision": N, ...} (a whole number)', code="missing_version"
        )
    if len(set(given)) > 1:
        raise BadAction(
            f"revision is {body['revision']} but version, its old name, is {body['version']}; send revision alone",
            code="revision_mismatch",
        )
    revision: int = given[0]
    return revision


def refusal(refused: Refused) -> ActionRefused:
    """The runtime's refusal as the API's error: its reason the code, its words the message."""
    code = "unknown_action" if refused.reason is RefusalReason.UNKNOWN_ACTION else refused.reason.value
    details = {"field": refused.field} if refused.field else None
    return ActionRefused(refused.message, code=code, status=_STATUS.get(refused.reason, 422), details=details)


@router.post(
    "/{incident_id}/actions/{trigger}",
    openapi_extra=doc.ACTION_BODY,
    responses=doc.answers(doc.ACTED, "The incident after the action.", 400, 401, 403, 404, 409, 413, 422, 429),
)
async def act(  # noqa: PLR0917 - the path's parts and the dependencies, each by name
    incident_id: str, trigger: str, request: Request, caller: Person, context: Context, service: Served
) -> JSONResponse:
    """Take an action as the token's person: {"revision": N, "fields": {...}}; N is the revision you saw.

    Under a playbook with an offers catalogue, the built-in action ``deliver`` records a promise kept:
    {"fields": {"promise": "refund-1", "note": "how it was delivered"}}; see the incident's ``promises``.

    ``version`` is the old name of ``revision`` and still taken; if both are sent they must agree."""
    body = await json_object(request, context, _ACTION_KEYS, _ACTION_SHAPE)
    revision = _seen_revision(body)
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise BadAction("fields must be an object of the fields the action requires")
    log = _log.bind(incident_id=incident_id, trigger=trigger, person=caller.person)
    result = await run_in_threadpool(
        lambda: service.act(
            incident_id,
            trigger,
            person=caller.person,
            roles=caller.roles,
            fields=fields,
            version=revision,
            name=caller.name,
        )
    )
    if result.refused is not None:
        log.info("action refused", reason=result.refused.reason.value)
        raise refusal(result.refused)
    context.wake()
    log.info("action", state=result.incident.state, revision=result.incident.revision)
    row = await run_in_threadpool(service.incident_row, incident_id)
    summary = summary_view(row) if row is not None else {}
    return JSONResponse({"incident": summary, "history": list(result.history)})
