"""Approval from the desk's own forms: a draft reply submitted for approval, and an approver approving it or
returning it with a note.

The same service call as the API's (:mod:`engine.api._approval`), as the signed-in person: each form carries the
session's form token and the revision the page showed, a refusal is shown on the incident page in the rule's own
words (beside the draft form, or in the approval panel), and success goes back to the incident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.api._context import ApiContext, Context
from engine.api._incidents import refusal
from engine.desk._forms import action_forms, fields_from_form
from engine.desk._pages import incident_page_for, page, signed_form
from engine.errors import NotFound
from engine.incident import Actor, DraftReply, DraftStep

__all__ = ["APPROVAL", "router"]

router = APIRouter(include_in_schema=False)

#: Where an approver's refusal is shown: the approval panel (a draft's refusal goes by its action's form).
APPROVAL = "approval"


def _fields(context: ApiContext, incident_id: str, trigger: str, posted: dict[str, str]) -> Any:
    """The draft's reply as the service takes it, read through the action's own form."""
    details = context.service.incident(incident_id)
    incident = details.row.incident
    playbook = context.service.library.by_digest(incident.playbook_digest).playbook
    everyone = frozenset(role for action in details.actions for role in action["by"])
    form = next(
        (form for form in action_forms(details.actions, everyone, incident, playbook) if form.trigger == trigger), None
    )
    return {} if form is None else fields_from_form(form, posted, playbook)


def _route(step: DraftStep) -> Callable[[str, str, Request, ApiContext], Awaitable[Response]]:
    async def decide(incident_id: str, trigger: str, request: Request, context: Context) -> Response:
        signed = await signed_form(request, context)
        if isinstance(signed, Response):
            return signed
        seen, posted = signed
        slot = trigger if step is DraftStep.SUBMIT else APPROVAL

        def work() -> tuple[int, str] | None:
            revision = posted.get("revision", "")
            if not revision.isascii() or not revision.isdigit():
                return 422, "The form lost the incident's revision; open the page again."
            if step is DraftStep.SUBMIT:
                fields = _fields(context, incident_id, trigger, posted)
            else:
                note = posted.get("note", "").strip()
                fields = {"note": note} if note else {}
            command = DraftReply(step, trigger, Actor(seen.person, seen.roles), fields, int(revision))
            result = context.service.draft(incident_id, command)
            if result.refused is not None:
                return refusal(result.refused).status, result.refused.message
            context.wake()
            return None

        try:
            refused = await run_in_threadpool(work)
        except NotFound:
            return page(
                request, "message.html", context, 404, seen=seen, message=f"There is no incident {incident_id}."
            )
        if refused is None:
            return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
        status, words = refused
        return await run_in_threadpool(
            incident_page_for, request, context, seen, incident_id, status, (slot, words), posted
        )

    return decide


for _step, _name in ((DraftStep.SUBMIT, "draft"), (DraftStep.APPROVE, "approve"), (DraftStep.RETURN, "return")):
    router.add_api_route(f"/incidents/{{incident_id}}/actions/{{trigger}}/{_name}", _route(_step), methods=["POST"])
