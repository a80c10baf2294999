"""A draft checked as it is typed: ``POST /incidents/{id}/actions/{trigger}/check`` runs the form's fields through
the runtime's own ``step`` (the checker a send goes through), commits nothing, and answers the house rule the draft
breaks, in the words a send would be refused in; the page shows them next to the field before anything is sent.

Only house rules are flagged: a field not yet filled in is a draft still being written, not a problem.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api._context import ApiContext, Context
from engine.desk._forms import action_forms, fields_from_form
from engine.desk._session import Visitor, csrf_matches, visitor
from engine.errors import NotFound
from engine.incident import Act, Actor, RefusalReason, Refused, step

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: A draft is a reply, not a document: anything longer is not checked as it is typed (the send still is).
_LONGEST = 65_536


def _problem(context: ApiContext, seen: Visitor, incident_id: str, trigger: str, posted: dict[str, str]) -> str | None:
    try:
        details = context.service.incident(incident_id)
    except NotFound:
        return None
    incident = details.row.incident
    book = context.service.library.by_digest(incident.playbook_digest)
    forms = action_forms(details.actions, seen.roles, incident, book.playbook)
    form = next((form for form in forms if form.trigger == trigger), None)
    if form is None:
        return None
    fields = fields_from_form(form, posted, book.playbook)
    command = Act(trigger, Actor(seen.person, seen.roles, seen.name), fields, incident.revision)
    outcome = step(incident, command, context.clock(), book)
    if isinstance(outcome, Refused) and outcome.reason is RefusalReason.HOUSE_RULE:
        return outcome.message
    return None


@router.post("/incidents/{incident_id}/actions/{trigger}/check")
async def check_draft(incident_id: str, trigger: str, request: Request, context: Context) -> JSONResponse:
    """``{"problem": words}`` when the draft breaks a house rule, ``{"problem": null}`` when it does not."""
    seen = await run_in_threadpool(visitor, request, context)
    if seen is None:
        return JSONResponse({"problem": None, "signed_in": False}, status_code=401)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > _LONGEST:
        return JSONResponse({"problem": None})
    form = await request.form()
    posted = {name: value for name, value in form.items() if isinstance(value, str)}
    if not csrf_matches(seen, posted.get("csrf")):
        return JSONResponse({"problem": None}, status_code=403)
    problem = await run_in_threadpool(_problem, context, seen, incident_id, trigger, posted)
    return JSONResponse({"problem": problem})
