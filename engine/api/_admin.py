"""The admin routes, for a person with one of the admin roles: reloading the playbooks and roster, and moving the
simulated clock. Each is a router of its own, included only where the daemon has it (a reloader; a simulated
clock), so a daemon without one answers 404 as for any unknown path."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api import _openapi as doc
from engine.api._access import Caller, admin
from engine.api._body import json_body
from engine.api._context import Context
from engine.errors import BadClock, ReloadRefused
from engine.playbook import parse_duration

__all__ = ["MAX_CLOCK_JUMP", "clock_router", "reload_router"]

#: The furthest the simulated clock moves in one request: the longest duration calmly takes (52w), so one move can
#: reach any deadline a playbook sets; a bigger jump is a typo (3000d for 30d) that would fire every one at once.
MAX_CLOCK_JUMP = timedelta(weeks=52)

reload_router = APIRouter(prefix="/v1/admin", tags=["operations"])
clock_router = APIRouter(prefix="/v1/admin", tags=["simulation"])


@reload_router.post(
    "/reload",
    responses=doc.answers(doc.RELOADED, "The playbooks and roster now in force.", 401, 403, 422, 429),
)
async def reload_now(caller: Annotated[Caller, Depends(admin("reloading"))], context: Context) -> JSONResponse:
    """Re-read the playbooks and the roster (as SIGHUP does); needs a person with one of the admin roles.

    Running incidents keep the playbook version they opened under. If anything is invalid, nothing changes
    and every problem is listed (422)."""
    reload = context.reload
    if reload is None:  # pragma: no cover - the router is included only with a reloader
        raise ReloadRefused("this daemon cannot reload")
    outcome = await run_in_threadpool(reload, f"POST /v1/admin/reload by {caller.person}")
    if outcome.problems or outcome.message:
        raise ReloadRefused(outcome.message, details=list(outcome.problems))
    return JSONResponse({"playbooks": list(outcome.playbooks), "people": outcome.people})


@clock_router.post(
    "/clock",
    openapi_extra=doc.CLOCK_BODY,
    responses=doc.answers(
        doc.CLOCK_MOVED, "The clock's time now, and how many deadlines fired.", 400, 401, 403, 413, 422, 429
    ),
)
async def move_clock(
    request: Request, _: Annotated[Caller, Depends(admin("moving the clock"))], context: Context
) -> JSONResponse:
    """Only on a simulated clock: {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}; due deadlines fire.

    Needs a person with one of the admin roles; one request moves it at most 52w (364 days)."""
    simulated = context.simulated
    if simulated is None:  # pragma: no cover - the router is included only on a simulated clock
        raise BadClock("the daemon runs on the system clock")
    body = await json_body(request, context)
    moment: datetime | None = None
    try:
        if isinstance(body, dict) and set(body) == {"advance"}:
            step = parse_duration(str(body["advance"]))
        elif isinstance(body, dict) and set(body) == {"to"}:
            moment = datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("give the time with its zone, such as 2026-11-23T13:00:00Z")
            step = moment - simulated.now()
        else:
            raise BadClock('send {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}')
        if step > MAX_CLOCK_JUMP:
            raise BadClock(
                f"the clock moves at most 52w ({MAX_CLOCK_JUMP.days} days) at once; move it in steps",
                code="clock_jump_too_far",
                details={"max_days": MAX_CLOCK_JUMP.days},
            )
        # "to" is set as given, not as a step from the time read above: on a shared store the clock may have been
        # moved meanwhile by another daemon, and a step would overshoot.
        if moment is None:
            simulated.advance(step)
        else:
            simulated.set(moment)
    except (ValueError, OverflowError) as error:
        raise BadClock(f"cannot move the clock: {error}") from error
    fired = await run_in_threadpool(context.service.fire_due)
    context.wake()  # the scheduler looks again, and the courier delivers what just fell due
    return JSONResponse({"now": simulated.now().isoformat(), "fired": len(fired)})
