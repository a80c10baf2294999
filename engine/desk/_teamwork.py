"""Taking, assigning and releasing an incident, and writing an internal note, from the desk's own forms.

The same service calls as the API's (:mod:`engine.api._teamwork`), as the signed-in person: each form carries the
session's form token, a refusal is shown on the incident page in the rule's own words, and success goes back to
the page the form was on (the incident, or the queue for a take from a queue row).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.api._context import ApiContext, Context
from engine.api._incidents import refusal
from engine.desk._pages import incident_page_for, page, signed_form
from engine.desk._session import Visitor
from engine.errors import NotFound
from engine.incident import Actor, AddNote, SetOwner
from engine.service import ActResult

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: What a teamwork form can be refused on, as the page shows it; a note's refusal goes by the note form.
OWNER, NOTE = "owner", "note"


def _owner_command(context: ApiContext, seen: Visitor, what: str, posted: dict[str, str]) -> SetOwner | str:
    me = Actor(seen.person, seen.roles)
    if what == "take":
        return SetOwner(me, me, take_over=False)
    if what == "release":
        return SetOwner(me, None)
    chosen = posted.get("owner", "").strip()
    member = context.roster.person(chosen)
    if member is None:
        return "Choose a person from the list to assign it to." if not chosen else f"{chosen} is not in the roster."
    return SetOwner(me, Actor(member.id, member.roles))


def _done(request: Request, incident_id: str, posted: dict[str, str]) -> Response:
    """Back where the form was: the queue (its filters kept) for a take from a queue row, else the incident."""
    back = posted.get("back", "")
    target = back if back == "/" or back.startswith("/?") else f"/incidents/{incident_id}"
    return RedirectResponse(target, status_code=303)


async def _handle(
    request: Request,
    context: ApiContext,
    incident_id: str,
    slot: str,
    work: Callable[[Visitor, dict[str, str]], ActResult | str],
) -> Response:
    signed = await signed_form(request, context)
    if isinstance(signed, Response):
        return signed
    seen, posted = signed
    try:
        result = await run_in_threadpool(work, seen, posted)
    except NotFound:
        return page(request, "message.html", context, 404, seen=seen, message=f"There is no incident {incident_id}.")
    if isinstance(result, str):
        words, status = result, 422
    elif result.refused is not None:
        words = result.refused.message
        status = refusal(result.refused).status  # the API's status for the same refusal
    else:
        return _done(request, incident_id, posted)
    return await run_in_threadpool(
        incident_page_for, request, context, seen, incident_id, status, (slot, words), posted
    )


def _owner_route(what: str) -> Callable[[str, Request, ApiContext], Awaitable[Response]]:
    async def change(incident_id: str, request: Request, context: Context) -> Response:
        def work(seen: Visitor, posted: dict[str, str]) -> ActResult | str:
            command = _owner_command(context, seen, what, posted)
            return command if isinstance(command, str) else context.service.set_owner(incident_id, command)

        return await _handle(request, context, incident_id, OWNER, work)

    return change


for _what in ("take", "assign", "release"):
    router.add_api_route(f"/incidents/{{incident_id}}/{_what}", _owner_route(_what), methods=["POST"])


@router.post("/incidents/{incident_id}/notes")
async def note(incident_id: str, request: Request, context: Context) -> Response:
    def work(seen: Visitor, posted: dict[str, str]) -> ActResult | str:
        return context.service.add_note(incident_id, AddNote(Actor(seen.person, seen.roles), posted.get("text", "")))

    return await _handle(request, context, incident_id, NOTE, work)
