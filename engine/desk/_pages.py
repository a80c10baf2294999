"""The desk's pages: sign-in and sign-out, the queue (and its rows alone, for the live page to swap in), the
incident page, and acting on an incident from its forms, all as the signed-in person and through the service.

Every page needs a session (else it sends the person to sign in). Every form post carries the session's form token;
a post without it changes nothing. Refusals are the service's, shown next to the form in the rule's own words.
None of these routes is part of the JSON API's document.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from engine.api._access import client_key
from engine.api._context import ApiContext, Context
from engine.api._incidents import refusal
from engine.api._views import notification_views
from engine.desk._approval import approval
from engine.desk._forms import ActionForm, action_forms, assignees, fields_from_form
from engine.desk._gauge import allowed, gauge
from engine.desk._presence import others_everywhere, others_on, registry_of
from engine.desk._queue import QueueFilters, queue
from engine.desk._session import (
    COOKIE,
    LIFETIME,
    SignInRefused,
    Visitor,
    csrf_matches,
    end_session,
    sign_in,
    sign_in_with_link,
    visitor,
)
from engine.errors import NotFound
from engine.incident import RefusalReason, Refused, money
from engine.playbook import format_duration
from engine.service import IncidentDetails, clock_time, post_view, since_phrase, zone
from engine.store import DeskSession, MentionBody

__all__ = ["CSRF_WORDS", "incident_page_for", "page", "posted_form", "router", "signed_form", "to_signin", "too_large"]

_HERE = Path(__file__).parent
_STATIC = {"desk.css": "text/css", "desk.js": "text/javascript"}

templates = Jinja2Templates(directory=str(_HERE / "templates"))


def _at(moment: datetime | str, now: datetime) -> str:
    """A recorded moment as people read it, against the server's now: ``09:00 UTC``, ``Mon 23 Nov 09:00 UTC``."""
    found = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return clock_time(found, zone("UTC"), now)


def _ago(moment: datetime | str, now: datetime) -> str:
    """``3h ago (09:00 UTC)``: how long ago a post was written, and when."""
    found = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return since_phrase(found, now)


templates.env.globals.update(at=_at, ago=_ago, money=money)
router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, context: ApiContext, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("seen", None)
    return templates.TemplateResponse(
        request, name, {"now": context.clock(), **values}, status_code=status, headers={"Cache-Control": "no-store"}
    )


def to_signin() -> RedirectResponse:
    return RedirectResponse("/signin", status_code=303)


async def posted_form(request: Request, context: ApiContext) -> dict[str, str] | None:
    """The form's text fields; None when the body is over the daemon's cap or its length is not declared (a
    browser always declares it, and the server reads no further than it)."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > context.max_body_bytes:
        return None
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


async def signed_form(request: Request, context: ApiContext) -> tuple[Visitor, dict[str, str]] | Response:
    """The signed-in person and the form they sent from the desk's own page (its form token matches), or the
    answer instead: to sign in, too large, or not from the desk's page."""
    seen = await run_in_threadpool(visitor, request, context)
    if seen is None:
        return to_signin()
    posted = await posted_form(request, context)
    if posted is None:
        return too_large(request, context, seen)
    if not csrf_matches(seen, posted.get("csrf")):
        return page(request, "message.html", context, 403, seen=seen, message=CSRF_WORDS)
    return seen, posted


def too_large(request: Request, context: ApiContext, seen: Visitor | None) -> Response:
    words = f"That form is over {context.max_body_bytes:,} bytes; send less at once."
    return page(request, "message.html", context, 413, seen=seen, message=words)


def _post(record: MentionBody) -> dict[str, Any]:
    """A post as the page shows it; its link only when it is a web address (a ``javascript:`` one in a mention
    must not become a link)."""
    view = post_view(record)
    url = view.get("url")
    web = isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https")
    return {**view, "url": url if web else None}


# --- signing in and out ------------------------------------------------------------------------------------------


@router.get("/signin")
def signin_form(request: Request, context: Context) -> Response:
    return page(request, "signin.html", context)


@router.post("/signin")
async def signin(request: Request, context: Context) -> Response:
    return await _start_session(request, context, "token", sign_in)


@router.get("/signin/link")
def signin_link_form(request: Request, context: Context) -> Response:
    """The page a sign-in link opens: a button that spends its code. Opening the link spends nothing, so a mail
    scanner that follows links does not use it up; and the session starts from the desk's own page."""
    code = request.query_params.get("code", "")
    return page(request, "signin_link.html", context, code=code)


@router.post("/signin/link")
async def signin_link(request: Request, context: Context) -> Response:
    return await _start_session(request, context, "code", sign_in_with_link)


async def _start_session(
    request: Request,
    context: ApiContext,
    field: str,
    starter: Callable[[ApiContext, str], tuple[str, DeskSession] | SignInRefused],
) -> Response:
    """Sign in with what the form's ``field`` holds (a token or a link's code): the budget of the client's address
    first, so guessing is limited, then the session and its cookie, or the sign-in page with the reason."""
    if context.limiter.take(client_key(request)) is not None:
        return page(request, "signin.html", context, 429, error="Too many tries from here; wait a minute.")
    form = await posted_form(request, context)
    if form is None:
        return too_large(request, context, None)
    started = await run_in_threadpool(starter, context, form.get(field, ""))
    if isinstance(started, SignInRefused):
        return page(request, "signin.html", context, started.status, error=started.message)
    return _session_started(request, started[0])


def _session_started(request: Request, session_id: str) -> Response:
    """To the queue, with the new session's cookie."""
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(
        COOKIE,
        session_id,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/signout")
async def signout(request: Request, context: Context) -> Response:
    signed = await signed_form(request, context)
    if isinstance(signed, Response):
        return signed
    seen, _ = signed
    await run_in_threadpool(end_session, context, seen.session_hash)
    if (presence := registry_of(request)) is not None:
        await run_in_threadpool(presence.forget, seen.person)  # signed out: no longer shown on any incident
    answer = to_signin()
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


CSRF_WORDS = "This form was not sent from the desk's own page (or is from an old session); open the page again."


# --- the queue ---------------------------------------------------------------------------------------------------


def _filters(request: Request) -> QueueFilters:
    return QueueFilters.of(dict(request.query_params.items()))


@router.get("/")
def queue_page(request: Request, context: Context) -> Response:
    seen = visitor(request, context)
    if seen is None:
        return to_signin()
    filters = _filters(request)
    now = context.clock()
    rows = queue(context.service, filters, seen, now)
    books = [book.playbook for book in context.service.library.current]
    return page(
        request,
        "queue.html",
        context,
        seen=seen,
        rows=rows,
        filters=filters,
        playbooks=sorted({book.id for book in books}),
        severities=sorted({level for book in books for level in book.severity.levels}),
        states=sorted({state for book in books for state in book.states}),
        roles=sorted({role for book in books for role in book.roles}),
        present=others_everywhere(request, context, seen),
    )


@router.get("/desk/queue-rows")
def queue_rows(request: Request, context: Context) -> Response:
    """The queue's rows alone (the table's body), for the live queue page to swap in."""
    seen = visitor(request, context)
    if seen is None:
        return HTMLResponse("", status_code=401)
    now = context.clock()
    rows = queue(context.service, _filters(request), seen, now)
    present = others_everywhere(request, context, seen)
    rows_page = page(request, "_queue_rows.html", context, seen=seen, rows=rows, now=now, present=present)
    # The page counts down from the server's time; on a simulated clock that moves, this keeps it the server's.
    rows_page.headers["X-Calmly-Now"] = now.isoformat()
    return rows_page


@router.get("/desk/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        return HTMLResponse("Not found", status_code=404)
    return FileResponse(_HERE / "static" / name, media_type=_STATIC[name])


# --- the incident page and acting --------------------------------------------------------------------------------


def _all_forms(details: IncidentDetails, context: ApiContext, roles: frozenset[str]) -> list[ActionForm]:
    incident = details.row.incident
    playbook = context.service.library.by_digest(incident.playbook_digest).playbook
    return action_forms(details.actions, roles, incident, playbook)


def incident_page_for(  # noqa: PLR0917 - the page's parts, each by name
    request: Request,
    context: ApiContext,
    seen: Visitor,
    incident_id: str,
    status: int = 200,
    refusal: tuple[str, str] | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    try:
        details = context.service.incident(incident_id)
    except NotFound:
        return page(request, "message.html", context, 404, seen=seen, message=f"There is no incident {incident_id}.")
    now: datetime = context.clock()
    incident = details.row.incident
    book = context.service.library.by_digest(incident.playbook_digest)
    clocks = [
        {
            "name": clock.name,
            "due_at": clock.due_at,
            "timezone": details.zones.get(clock.name, "UTC"),
            "gauge": gauge(clock, incident, book, now),
            "allowed": allowed(clock, incident, book),
            "breached": clock.name in incident.breached,
            "next_step_at": None if clock.next is None else clock.next.at,
            "paused_at": clock.paused_at,
            "standing": _standing(details.paused.get(clock.name)),
        }
        for clock in incident.clocks
    ]
    playbook = book.playbook
    return page(
        request,
        "incident.html",
        context,
        status,
        seen=seen,
        incident=incident,
        in_team=bool(seen.roles & frozenset(playbook.roles)),
        people=assignees(context.roster.people.values(), playbook),
        approval=approval(incident, playbook, seen.roles),
        told=_told(details),
        final=details.row.final,
        waiting_on=details.row.waiting_on,
        posts=[_post(post) for post in details.mentions],
        clocks=clocks,
        history=[entry for event in details.events for entry in event.history],
        forms=_all_forms(details, context, seen.roles),
        refusal=refusal,
        posted=posted or {},
        present=others_on(request, context, seen, incident_id),
    )


def _told(details: IncidentDetails) -> dict[str, list[dict[str, Any]]]:
    """Each notification's deliveries by its key, for the history entry that sent it: who was told, and how."""
    told: dict[str, list[dict[str, Any]]] = {}
    for view in notification_views(details.deliveries):
        told.setdefault(str(view["key"]), []).append(view)
    return told


@router.get("/incidents/{incident_id}")
def incident_page(incident_id: str, request: Request, context: Context) -> Response:
    seen = visitor(request, context)
    if seen is None:
        return to_signin()
    return incident_page_for(request, context, seen, incident_id)


def _refusal_words(refused: Refused, current: int | None) -> str:
    if refused.reason is RefusalReason.STALE:
        return (
            "Someone else acted on this incident first, so nothing was done. The page now shows where it stands"
            + (f" (revision {current})" if current is not None else "")
            + "; decide again."
        )
    return refused.message


def _act(context: ApiContext, seen: Visitor, incident_id: str, trigger: str, posted: dict[str, str]) -> Any:
    """The action taken through the service, or (status, words) when it is refused or cannot be sent."""
    try:
        details = context.service.incident(incident_id)
    except NotFound:
        return 404, f"There is no incident {incident_id}."
    everyone = frozenset(role for action in details.actions for role in action["by"])
    form = next((form for form in _all_forms(details, context, everyone) if form.trigger == trigger), None)
    revision = posted.get("revision", "")
    if not revision.isascii() or not revision.isdigit():
        return 422, "The form lost the incident's revision; open the page again."
    fields: dict[str, Any] = {}
    if form is not None:
        if form.reply_channel is not None and posted.get("confirm_public") != "yes":
            return 422, f"Tick “Post this reply in public on {form.reply_channel}” to send it; nothing was sent."
        playbook = context.service.library.by_digest(details.row.incident.playbook_digest).playbook
        fields = fields_from_form(form, posted, playbook)
    result = context.service.act(
        incident_id, trigger, person=seen.person, roles=seen.roles, fields=fields, version=int(revision)
    )
    if result.refused is not None:
        status = refusal(result.refused).status  # the API's status for the same refusal
        return status, _refusal_words(result.refused, result.incident.revision)
    context.wake()
    return None


@router.post("/incidents/{incident_id}/actions/{trigger}")
async def act(incident_id: str, trigger: str, request: Request, context: Context) -> Response:
    signed = await signed_form(request, context)
    if isinstance(signed, Response):
        return signed
    seen, posted = signed
    refused = await run_in_threadpool(_act, context, seen, incident_id, trigger, posted)
    if refused is None:
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
    status, words = refused
    return await run_in_threadpool(
        incident_page_for, request, context, seen, incident_id, status, (trigger, words), posted
    )


def _standing(found: tuple[timedelta, timedelta] | None) -> str | None:
    """``1h used, 23h left``: what a clock standing still reads as, in its own counted time."""
    if found is None:
        return None
    used, left = found
    return f"{format_duration(used)} used, {format_duration(max(left, timedelta(0)))} left"
