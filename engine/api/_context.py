"""What the app works with, built by the daemon: the service, the roster, the clocks and the limits; and the
FastAPI dependencies that hand them to a route (the context lives on ``app.state``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from engine.api._feed import ChangeFeed
from engine.api._lane import IntakeLane
from engine.api._ratelimit import RateLimiter
from engine.service import Roster, Service, SimulatedClock

__all__ = ["ApiContext", "Context", "ReloadOutcome", "Served", "get_context", "get_service"]


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
    #: Intake requests a minute per token (or, signed, per client address), apart from the rest: a listening tool
    #: in an outage sends far more than a person clicks. 0 turns the limit off.
    intake_rate_limit_per_minute: int = 36_000
    #: Roles whose people may reload (POST /v1/admin/reload).
    admin_roles: frozenset[str] = frozenset({"social_lead"})
    #: Re-reads the playbooks and the roster (the daemon's; the endpoint is absent without it). Its argument says
    #: what asked, for the log.
    reload: Callable[[str], ReloadOutcome] | None = None
    #: The set-up checks' findings, shown in /readyz: worth fixing, never a reason to refuse work.
    checks: Sequence[Mapping[str, Any]] = ()
    #: Where committed changes go for the pages that update by themselves (the desk); None: nothing listens.
    feed: ChangeFeed | None = None
    #: What /readyz shows of the store under ``details.store``: its kind, and on a shared store the skew between
    #: the daemon's clock and the database's.
    store_details: Callable[[], Mapping[str, Any]] = dict
    #: Why the daemon claims no due work although its store answers (its clock is too far from the database's),
    #: in words; None while nothing holds it back.
    store_problem: Callable[[], str | None] = lambda: None
    limiter: RateLimiter = field(init=False)
    intake_limiter: RateLimiter = field(init=False)
    #: Where intake requests are taken, several to a commit in a surge.
    lane: IntakeLane = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.rate_limit_per_minute)
        self.intake_limiter = RateLimiter(self.intake_rate_limit_per_minute)
        self.lane = IntakeLane(lambda: self.service)


async def get_context(request: Request) -> ApiContext:
    """The context :func:`~engine.api.create_app` put on the app (a coroutine, so FastAPI reads it on the event
    loop rather than handing a thread of its pool the work of reading an attribute)."""
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


async def get_service(context: Context) -> Service:
    return context.service


Served = Annotated[Service, Depends(get_service)]
