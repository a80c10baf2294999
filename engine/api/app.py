"""The HTTP app: FastAPI over the service. Every error is JSON: ``{"error": {"code", "message", "details"}}``.

Answers come after the commit: a mention acknowledged with 200 is in the store. Requests carry a bearer token
(``calmly token issue PERSON``); the person's roles come from the roster. When intake secrets are configured,
``POST /v1/mentions`` takes a Standard Webhooks signature instead (listening tools sign; they hold no token), and a
``webhook-id`` seen before is refused. Each token (or client address, without one) has a request budget a minute.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api import _openapi as doc
from engine.api._ratelimit import RateLimiter
from engine.api._views import details_view, summary_view
from engine.incident import RefusalReason
from engine.playbook import parse_duration
from engine.service import (
    BadJson,
    NotFound,
    Replayed,
    Roster,
    Service,
    SignatureProblem,
    SimulatedClock,
    TokenProblem,
    TokenScope,
    hash_token,
    lone_surrogate_at,
    metrics,
    read_json,
    verify,
    verify_token,
)
from engine.store import IncidentFilter

__all__ = ["ApiContext", "ReloadOutcome", "create_app"]

_log = structlog.get_logger("calmly.api")

_STATUS = {
    RefusalReason.STALE: 409,
    RefusalReason.ROLE_NOT_ALLOWED: 403,
    RefusalReason.UNKNOWN_ACTION: 404,
}
_MAX_PAGE = 500
#: The furthest the simulated clock moves in one request: the longest duration calmly takes (52w), so one move can
#: reach any deadline a playbook sets; a bigger jump is a typo (3000d for 30d) that would fire every one at once.
MAX_CLOCK_JUMP = timedelta(weeks=52)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did: the playbooks and people now in force, or (``problems``) why the old ones stay."""

    playbooks: tuple[str, ...]
    people: int
    problems: tuple[dict[str, Any], ...] = ()
    message: str = ""


@dataclass
class ApiContext:
    """What the app works with; the daemon builds it (and swaps ``roster`` on reload)."""

    service: Service
    roster: Roster
    clock: Callable[[], datetime]
    max_body_bytes: int = 1_048_576
    max_batch: int = 1000
    #: Set when the daemon runs on a simulated clock (demos, tests): POST /v1/admin/clock moves it.
    simulated: SimulatedClock | None = None
    #: Called after anything that may bring a deadline forward, so the scheduler looks again.
    wake: Callable[[], None] = lambda: None
    ready: Callable[[], bool] = lambda: True
    #: The real time, even on a simulated clock: signatures' timestamps are judged by it.
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: Standard Webhooks secrets for intake; empty: intake takes a bearer token like every other request.
    intake_secrets: Sequence[str] = field(default=(), repr=False)
    #: Requests a minute per token or client address; 0 turns the limit off.
    rate_limit_per_minute: int = 600
    #: Roles whose people may reload (POST /v1/admin/reload).
    admin_roles: frozenset[str] = frozenset({"social_lead"})
    #: Re-reads the playbooks and the roster (the daemon's; the endpoint is absent without it). Its argument says
    #: what asked, for the log.
    reload: Callable[[str], ReloadOutcome] | None = None
    #: The set-up checks' findings, shown in /readyz: worth fixing, never a reason to refuse work.
    checks: Sequence[Mapping[str, Any]] = ()
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.rate_limit_per_minute)


def _error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _raw_body(request: Request, context: ApiContext) -> bytes:
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
    return bytes(body)


def _parse_json(body: bytes) -> Any:
    if not body:
        raise ApiError(400, "empty_body", "the request has no body; send JSON")
    try:
        return read_json(body)
    except BadJson as error:
        status = 400 if error.code == "malformed_json" else 422
        details = {"pointer": error.pointer} if error.pointer is not None else None
        raise ApiError(status, error.code, error.message, details) from error


def _limit(context: ApiContext, key: str) -> None:
    wait = context.limiter.take(key)
    if wait is not None:
        seconds = max(1, int(wait + 0.999))
        raise ApiError(
            429,
            "rate_limited",
            f"more than {context.limiter.per_minute} requests a minute; try again in {seconds}s",
            headers={"Retry-After": str(seconds)},
        )


def _client(request: Request) -> str:
    return f"address:{request.client.host if request.client else 'unknown'}"


async def _json_body(request: Request, context: ApiContext) -> Any:
    return _parse_json(await _raw_body(request, context))


def _person(request: Request, context: ApiContext, *, intake: bool = False) -> tuple[str, frozenset[str]]:
    """The token's person and roles, once the token is good, within its budget, its person is in the roster (as
    it stands since the last reload) and its scope covers the request (``intake``: sending mentions).

    A good token spends its own budget; anything else spends the client address's, so guessing tokens is limited
    too.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else None
    found = verify_token(context.service.store, presented or None, context.clock())
    if isinstance(found, TokenProblem):
        _limit(context, _client(request))
        raise ApiError(401, found.value, found.message)
    _limit(context, "token:" + hash_token(presented or ""))
    member = context.roster.person(found.person)
    if member is None:  # taken off the roster: no reading, no acting, whatever tokens they still hold
        raise ApiError(
            403,
            "not_in_roster",
            f"{found.person} is not in the roster; their tokens give no access (calmly token revoke {found.person})",
        )
    if found.scope == TokenScope.INTAKE and not intake:
        raise ApiError(
            403,
            "intake_only_token",
            "this token can only send mentions (POST /v1/mentions); a person acts with a token of their own",
        )
    return found.person, member.roles


def _admin(roles: frozenset[str], context: ApiContext, doing: str) -> None:
    if not roles & context.admin_roles:
        allowed = ", ".join(sorted(context.admin_roles)) or "none configured"
        raise ApiError(403, "role_not_allowed", f"{doing} needs one of the roles: {allowed}")


def _signed(request: Request, context: ApiContext, body: bytes) -> str:
    """The ``webhook-id`` of a request signed with one of the intake secrets, within the tolerance of now."""
    _limit(context, _client(request))
    found = verify(context.intake_secrets, request.headers, body, context.wall_clock())
    if isinstance(found, SignatureProblem):
        raise ApiError(401, found.value, found.message)
    return found


class _Timing:
    """Observes every request's latency by method, route template and status (pure ASGI: bodies stream through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.REQUEST_LATENCY.labels(scope.get("method", ""), template, str(status)).observe(
                time.perf_counter() - started
            )


class _Unexpected:
    """Answers what nobody foresaw (a bug, a full disk) with the JSON error shape and a 500, and logs it once with
    its stack trace. Pure ASGI, inside the timing, so the 500 is counted too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def sending(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            # Looked up here, not at import: a logger cached before the daemon configured logging would bypass it.
            log = structlog.get_logger("calmly.api")
            log.exception("unexpected error", method=scope.get("method"), path=scope.get("path"))
            if answered:  # too late to answer; the server closes the connection
                raise
            answer = _error(
                500, "internal", "something went wrong inside calmly; the daemon's log says what (ask its operator)"
            )
            await answer(scope, receive, send)


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
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= _MAX_PAGE:
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
    # FastAPIOffline serves /docs and /redoc with the Swagger UI and ReDoc files installed with it, not from a CDN:
    # the pages work on a daemon with no way out to the internet, and load nothing from elsewhere.
    app = FastAPIOffline(
        title="calmly",
        version="1",
        description="Incidents from social media complaints, run by playbooks: intake, incidents, actions.",
        static_url="/docs-assets",
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI would send the document to an online validator
    )
    app.add_middleware(_Unexpected)
    app.add_middleware(_Timing)  # added last, so outermost: it sees the 500 that _Unexpected answers

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, error.message, error.details, error.headers)

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

    @app.get("/readyz", tags=["operations"], responses=doc.answers(doc.READY, "Ready for work.", 503))
    def readyz() -> JSONResponse:
        """The store answers, the playbooks are loaded and the scheduler runs: ready for work."""
        try:
            counts = dict(context.service.store.counts())
        except Exception as error:
            return _error(503, "not_ready", f"the store does not answer: {error}")
        if not context.ready():
            return _error(503, "not_ready", "starting or stopping")
        playbooks = [f"{book.playbook.id} v{book.playbook.version}" for book in context.service.library.current]
        return JSONResponse({"status": "ready", "playbooks": playbooks, **counts, "checks": list(context.checks)})

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
    )
    async def scrape() -> Response:
        """Metrics in Prometheus text format: incidents by state, severity and playbook, breaches, outbox depth,
        deadline lateness, request latency, notification deliveries."""
        text = await run_in_threadpool(metrics.render, context.service.store)
        return Response(text, media_type=metrics.CONTENT_TYPE)

    @app.post(
        "/v1/mentions",
        tags=["intake"],
        openapi_extra=doc.MENTIONS_BODY,
        responses=doc.answers(doc.INTAKE_RESULTS, "What became of each mention.", 400, 401, 409, 413, 422, 429),
    )
    async def post_mentions(request: Request) -> JSONResponse:
        """One mention, a list, or {"mentions": [...]}. Answered after the commit, with what became of each.

        With intake secrets configured, the request is signed (Standard Webhooks) instead of carrying a token."""
        receipt = None
        if context.intake_secrets:
            raw = await _raw_body(request, context)
            receipt = (_signed(request, context, raw), context.wall_clock())
        else:
            await run_in_threadpool(lambda: _person(request, context, intake=True))
            raw = await _raw_body(request, context)
        items = _mentions_of(_parse_json(raw), context)
        try:
            results = await run_in_threadpool(
                lambda: context.service.ingest(items, receipt=receipt, all_or_nothing=True)
            )
        except Replayed as error:
            _log.warning("replayed request refused", webhook_id=receipt[0] if receipt else None)
            raise ApiError(
                409, "replayed_request", "this webhook-id was received already; nothing was recorded again"
            ) from error
        invalid = [
            {"index": index, "errors": [dict(problem) for problem in result.errors]}
            for index, result in enumerate(results)
            if result.status == "invalid"
        ]
        if invalid:
            count = len(invalid)
            raise ApiError(
                422,
                "invalid_mention",
                f"{count} of {len(items)} mention{'s' if len(items) > 1 else ''} "
                f"{'is' if count == 1 else 'are'} not valid; nothing was recorded",
                invalid,
            )
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

    @app.get(
        "/v1/incidents",
        tags=["incidents"],
        responses=doc.answers(doc.INCIDENT_LIST, "A page of incidents, and the next page's after.", 401, 422, 429),
        openapi_extra={
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
                for name, schema, description in (
                    ("state", {"type": "string"}, "States, comma-separated."),
                    ("severity", {"type": "string"}, "Severities, comma-separated."),
                    ("playbook", {"type": "string"}, "Playbook ids, comma-separated."),
                    ("breached", {"enum": ["true", "false"]}, "Only incidents with (or without) a breached clock."),
                    ("open", {"enum": ["true", "false"]}, "Only open incidents."),
                    ("waiting_on", {"type": "string"}, "Incidents a person with this role can act on now."),
                    ("limit", {"type": "integer", "minimum": 1, "maximum": _MAX_PAGE}, "Page size."),
                    ("after", {"type": "string"}, "The next of the previous page."),
                )
            ]
        },
    )
    async def list_incidents(request: Request) -> JSONResponse:
        """Incidents, oldest first; filter by state, severity, playbook, breached, open, waiting_on (a role)."""
        await run_in_threadpool(_person, request, context)
        where = _filter(request)
        rows = await run_in_threadpool(context.service.incidents, where)
        following = rows[-1].incident.id if len(rows) == where.limit else None
        service = context.service
        listed = [summary_view(row, service.clock_zones(row.incident)) for row in rows]
        return JSONResponse({"now": context.clock().isoformat(), "incidents": listed, "next": following})

    @app.get(
        "/v1/incidents/{incident_id}",
        tags=["incidents"],
        responses=doc.answers(doc.INCIDENT, "The incident in full.", 401, 404, 429),
    )
    async def show_incident(incident_id: str, request: Request) -> JSONResponse:
        """State, severity, running clocks and their deadlines, the actions open now, and the full history."""
        await run_in_threadpool(_person, request, context)
        try:
            details = await run_in_threadpool(context.service.incident, incident_id)
        except NotFound as error:
            raise ApiError(404, "unknown_incident", str(error)) from error
        return JSONResponse(details_view(details, context.clock()))

    @app.post(
        "/v1/incidents/{incident_id}/actions/{trigger}",
        tags=["incidents"],
        openapi_extra=doc.ACTION_BODY,
        responses=doc.answers(doc.ACTED, "The incident after the action.", 400, 401, 403, 404, 409, 413, 422, 429),
    )
    async def act(incident_id: str, trigger: str, request: Request) -> JSONResponse:
        """Take an action as the token's person: {"version": N, "fields": {...}}; N is the version you saw."""
        person, roles = await run_in_threadpool(_person, request, context)
        body = await _json_body(request, context)
        if not isinstance(body, dict) or set(body) - {"version", "fields"}:
            raise ApiError(422, "bad_action", 'send {"version": N, "fields": {...}}; N is the version you saw')
        broken = lone_surrogate_at(body)
        if broken is not None:
            raise ApiError(
                422,
                "bad_text",
                f"the text at {broken} holds half of a character (a lone UTF-16 surrogate, as from a cut emoji); "
                "send whole characters",
                {"pointer": broken},
            )
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

    if context.reload is not None:
        reload = context.reload

        @app.post(
            "/v1/admin/reload",
            tags=["operations"],
            responses=doc.answers(doc.RELOADED, "The playbooks and roster now in force.", 401, 403, 422, 429),
        )
        async def reload_now(request: Request) -> JSONResponse:
            """Re-read the playbooks and the roster (as SIGHUP does); needs a person with one of the admin roles.

            Running incidents keep the playbook version they opened under. If anything is invalid, nothing changes
            and every problem is listed (422)."""
            person, roles = await run_in_threadpool(_person, request, context)
            _admin(roles, context, "reloading")
            outcome = await run_in_threadpool(reload, f"POST /v1/admin/reload by {person}")
            if outcome.problems or outcome.message:
                raise ApiError(422, "invalid_reload", outcome.message, list(outcome.problems))
            return JSONResponse({"playbooks": list(outcome.playbooks), "people": outcome.people})

    if context.simulated is not None:
        simulated = context.simulated

        @app.post(
            "/v1/admin/clock",
            tags=["simulation"],
            openapi_extra=doc.CLOCK_BODY,
            responses=doc.answers(
                doc.CLOCK_MOVED, "The clock's time now, and how many deadlines fired.", 400, 401, 403, 413, 422, 429
            ),
        )
        async def move_clock(request: Request) -> JSONResponse:
            """Only on a simulated clock: {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}; due deadlines fire.

            Needs a person with one of the admin roles; one request moves it at most 52w (364 days)."""
            _, roles = await run_in_threadpool(_person, request, context)
            _admin(roles, context, "moving the clock")
            body = await _json_body(request, context)
            try:
                if isinstance(body, dict) and set(body) == {"advance"}:
                    step = parse_duration(str(body["advance"]))
                elif isinstance(body, dict) and set(body) == {"to"}:
                    moment = datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00"))
                    if moment.tzinfo is None:
                        raise ValueError("give the time with its zone, such as 2026-11-23T13:00:00Z")
                    step = moment - simulated.now()
                else:
                    raise ApiError(422, "bad_clock", 'send {"advance": "1h"} or {"to": "2026-11-23T13:00:00Z"}')
                if step > MAX_CLOCK_JUMP:
                    raise ApiError(
                        422,
                        "clock_jump_too_far",
                        f"the clock moves at most 52w ({MAX_CLOCK_JUMP.days} days) at once; move it in steps",
                        {"max_days": MAX_CLOCK_JUMP.days},
                    )
                simulated.advance(step)
            except (ValueError, OverflowError) as error:
                raise ApiError(422, "bad_clock", f"cannot move the clock: {error}") from error
            fired = await run_in_threadpool(context.service.fire_due)
            context.wake()  # the scheduler looks again, and the courier delivers what just fell due
            return JSONResponse({"now": simulated.now().isoformat(), "fired": len(fired)})

    plain = app.openapi

    def openapi() -> dict[str, Any]:
        return doc.secured(plain(), signed_intake=bool(context.intake_secrets))

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's way to extend the document it builds
    return app


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
