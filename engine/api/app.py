"""The HTTP app: FastAPI over the service. Every error is JSON: ``{"error": {"code", "message", "details"}}``.

Answers come after the commit: a mention acknowledged with 200 is in the store. Requests carry a bearer token
(``calmly token issue PERSON``); the person's roles come from the roster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.api._views import details_view, summary_view
from engine.incident import RefusalReason
from engine.playbook import parse_duration
from engine.roster import Roster
from engine.service import NotFound, Service
from engine.store import IncidentFilter
from engine.testing import FakeClock
from engine.tokens import TokenProblem, verify_token

__all__ = ["ApiContext", "create_app"]

_log = structlog.get_logger("calmly.api")

_STATUS = {
    RefusalReason.STALE: 409,
    RefusalReason.ROLE_NOT_ALLOWED: 403,
    RefusalReason.UNKNOWN_ACTION: 404,
}
_MAX_PAGE = 500


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass
class ApiContext:
    """What the app works with; the daemon builds it (and swaps ``roster`` on reload)."""

    service: Service
    roster: Roster
    clock: Callable[[], datetime]
    max_body_bytes: int = 1_048_576
    max_batch: int = 1000
    #: Set when the daemon runs on a simulated clock (demos, tests): POST /v1/admin/clock moves it.
    simulated: FakeClock | None = None
    #: Called after anything that may bring a deadline forward, so the scheduler looks again.
    wake: Callable[[], None] = lambda: None
    ready: Callable[[], bool] = lambda: True


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


async def _json_body(request: Request, context: ApiContext) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > context.max_body_bytes:
        raise ApiError(413, "body_too_large", f"the body is over {context.max_body_bytes:,} bytes; send less at once")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > context.max_body_bytes:
            raise ApiError(
                413, "body_too_large", f"the body is over {context.max_body_bytes:,} bytes; send less at once"
            )
    if not body:
        raise ApiError(400, "empty_body", "the request has no body; send JSON")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f" at line {error.lineno}, column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise ApiError(400, "malformed_json", f"the body is not valid JSON{where}: {error}") from error


def _person(request: Request, context: ApiContext) -> tuple[str, frozenset[str]]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else None
    found = verify_token(context.service.store, presented or None, context.clock())
    if isinstance(found, TokenProblem):
        raise ApiError(401, found.value, found.message)
    return found.person, context.roster.roles_of(found.person)


def _filter(request: Request) -> IncidentFilter:
    query = request.query_params

    def many(name: str) -> tuple[str, ...]:
        return tuple(item for value in query.getlist(name) for item in value.split(",") if item)

    breached = query.get("breached")
    if breached not in (None, "true", "false"):
        raise ApiError(422, "bad_query", "breached must be true or false")
    open_only = query.get("open")
    if open_only not in (None, "true", "false"):
        raise ApiError(422, "bad_query", "open must be true or false")
    limit_text = query.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_PAGE:
        raise ApiError(422, "bad_query", f"limit must be a whole number from 1 to {_MAX_PAGE}")
    return IncidentFilter(
        states=many("state"),
        severities=many("severity"),
        playbooks=many("playbook"),
        breached=None if breached is None else breached == "true",
        open_only=open_only == "true",
        waiting_on=query.get("waiting_on") or None,
        after=query.get("after") or None,
        limit=int(limit_text),
    )


def _mentions_of(body: Any, context: ApiContext) -> list[Any]:
    if isinstance(body, dict) and "mentions" in body and set(body) == {"mentions"}:
        items = body["mentions"]
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    if not isinstance(items, list) or not items:
        raise ApiError(422, "no_mentions", 'send one mention, a list of them, or {"mentions": [...]}')
    if len(items) > context.max_batch:
        raise ApiError(413, "batch_too_large", f"send at most {context.max_batch} mentions at once")
    return items


def create_app(context: ApiContext) -> FastAPI:  # noqa: PLR0915 - the routes, each short, read best together
    app = FastAPI(
        title="calmly",
        version="1",
        description="Incidents from social media complaints, run by playbooks: intake, incidents, actions.",
    )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        return _error(422, "bad_request", "the request is not what this endpoint takes", jsonable(error.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _error(error.status_code, code, str(error.detail))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up and answering."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """The store answers, the playbooks are loaded and the scheduler runs: ready for work."""
        try:
            counts = dict(context.service.store.counts())
        except Exception as error:
            return _error(503, "not_ready", f"the store does not answer: {error}")
        if not context.ready():
            return _error(503, "not_ready", "starting or stopping")
        playbooks = [f"{book.playbook.id} v{book.playbook.version}" for book in context.service.library.current]
        return JSONResponse({"status": "ready", "playbooks": playbooks, **counts})

    @app.post("/v1/mentions", tags=["intake"])
    async def post_mentions(request: Request) -> JSONResponse:
        """One mention, a list, or {"mentions": [...]}. Answered after the commit, with what became of each."""
        await run_in_threadpool(_person, request, context)
        items = _mentions_of(await _json_body(request, context), context)
        from engine.incident import parse_mention  # noqa: PLC0415 - light, and keeps imports of this module few

        invalid = []
        for index, item in enumerate(items):
            parsed = parse_mention(item)
            if isinstance(parsed, list):
                invalid.append(
                    {"index": index, "errors": [{"pointer": e.pointer, "message": e.message} for e in parsed]}
                )
        if invalid:
            count = len(invalid)
            raise ApiError(
                422,
                "invalid_mention",
                f"{count} of {len(items)} mention{'s' if len(items) > 1 else ''} "
                f"{'is' if count == 1 else 'are'} not valid; nothing was recorded",
                invalid,
            )
        results = await run_in_threadpool(context.service.ingest, items)
        context.wake()
        for result in results:
            _log.info("mention", status=result.status, incident_id=result.incident_id, playbook=result.playbook)
        return JSONResponse(
            {
                "results": [
                    {
                        "status": result.status,
                        "incident": result.incident_id,
                        "playbook": result.playbook,
                        **({"message": result.message} if result.message else {}),
                    }
                    for result in results
                ]
            }
        )

    @app.get("/v1/incidents", tags=["incidents"])
    async def list_incidents(request: Request) -> JSONResponse:
        """Incidents, oldest first; filter by state, severity, playbook, breached, open, waiting_on (a role)."""
        await run_in_threadpool(_person, request, context)
        where = _filter(request)
        rows = await run_in_threadpool(context.service.incidents, where)
        following = rows[-1].incident.id if len(rows) == where.limit else None
        return JSONResponse({"incidents": [summary_view(row) for row in rows], "next": following})

    @app.get("/v1/incidents/{incident_id}", tags=["incidents"])
    async def show_incident(incident_id: str, request: Request) -> JSONResponse:
        """State, severity, running clocks and their deadlines, the actions open now, and the full history."""
        await run_in_threadpool(_person, request, context)
        try:
            details = await run_in_threadpool(context.service.incident, incident_id)
        except NotFound as error:
            raise ApiError(404, "unknown_incident", str(error)) from error
        return JSONResponse(details_view(details))

    @app.post("/v1/incidents/{incident_id}/actions/{trigger}", tags=["incidents"])
    async def act(incident_id: str, trigger: str, request: Request) -> JSONResponse:
        """Take an action as the token's person: {"version": N, "fields": {...}}; N is the version you saw."""
        person, roles = await run_in_threadpool(_person, request, context)
        body = await _json_body(request, context)
        if not isinstance(body, dict) or set(body) - {"version", "fields"}:
            raise ApiError(422, "bad_action", 'send {"version": N, "fields": {...}}; N is the version you saw')
        version = body.get("version")
        fields = body.get("fields", {})
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ApiError(422, "missing_version", 'name the version of the incident you saw: {"version": N, ...}')
        if not isinstance(fields, dict):
            raise ApiError(422, "bad_action", "fields must be an object of the fields the action requires")
        log = _log.bind(incident_id=incident_id, trigger=trigger, person=person)
        try:
            result = await run_in_threadpool(
                lambda: context.service.act(
                    incident_id, trigger, person=person, roles=roles, fields=fields, version=version
                )
            )
        except NotFound as error:
            raise ApiError(404, "unknown_incident", str(error)) from error
        if result.refused is not None:
            refused = result.refused
            log.info("action refused", reason=refused.reason.value)
            status = _STATUS.get(refused.reason, 422)
            code = "unknown_action" if refused.reason is RefusalReason.UNKNOWN_ACTION else refused.reason.value
            raise ApiError(status, code, refused.message, {"field": refused.field} if refused.field else None)
        context.wake()
        log.info("action", state=result.incident.state, version=result.incident.revision)
        row = await run_in_threadpool(context.service.store.incident, incident_id)
        summary = summary_view(row) if row is not None else {}
        return JSONResponse({"incident": summary, "history": list(result.history)})

    if context.simulated is not None:
        simulated = context.simulated

        @app.post("/v1/admin/clock", tags=["simulation"])
        async def move_clock(request: Request) -> JSONResponse:
            """Only on a simulated clock: {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}; due deadlines fire."""
            await run_in_threadpool(_person, request, context)
            body = await _json_body(request, context)
            try:
                if isinstance(body, dict) and set(body) == {"advance"}:
                    simulated.advance(parse_duration(str(body["advance"])))
                elif isinstance(body, dict) and set(body) == {"to"}:
                    simulated.set(datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00")))
                else:
                    raise ApiError(422, "bad_clock", 'send {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}')
            except ValueError as error:
                raise ApiError(422, "bad_clock", f"cannot move the clock: {error}") from error
            fired = await run_in_threadpool(context.service.fire_due)
            return JSONResponse({"now": simulated.now().isoformat(), "fired": len(fired)})

    return app


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
