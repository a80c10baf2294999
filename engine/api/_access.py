"""Who is asking, as FastAPI dependencies: the bearer token's person and roles (within the request budget, in the
roster, with a scope that covers the route), the admin roles some routes need, and signed intake.

A good token spends its own budget; anything else spends the client address's, so guessing tokens is limited too.
The dependencies that read the store are plain functions: FastAPI runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from engine.api._context import ApiContext, Context
from engine.errors import Forbidden, RateLimited, Unauthorized
from engine.service import SignatureProblem, TokenProblem, TokenScope, hash_token, verify

__all__ = ["Caller", "Person", "admin", "client_key", "current_person", "intake_person", "signed_intake"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The person a request acts as, and their roles in the roster as it stands since the last reload."""

    person: str
    roles: frozenset[str]
    name: str | None = None  # their name in the roster, when it gives one


def _limit(context: ApiContext, key: str, *, intake: bool = False) -> None:
    """Spend one request of ``key``'s budget: intake's own (a listening tool's burst), or everyone else's."""
    limiter = context.intake_limiter if intake else context.limiter
    wait = limiter.take(key)
    if wait is not None:
        advice = f"; send mentions in batches (up to {context.max_batch:,} a request)" if intake else ""
        raise RateLimited(limiter.per_minute, max(1, int(wait + 0.999)), advice)


def client_key(request: Request) -> str:
    """The rate limiter's key for a request with no good token: its client address."""
    return f"address:{request.client.host if request.client else 'unknown'}"


def _caller(request: Request, context: ApiContext, *, intake: bool) -> Caller:
    """The token's person and roles, once the token is good, within its budget, its person is in the roster and
    its scope covers the request (``intake``: sending mentions)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else None
    found = context.service.verify_token(presented or None, context.clock())
    if isinstance(found, TokenProblem):
        _limit(context, client_key(request))
        raise Unauthorized(found.message, code=found.value)
    _limit(context, "token:" + hash_token(presented or ""), intake=intake)
    member = context.roster.person(found.person)
    if member is None:  # taken off the roster: no reading, no acting, whatever tokens they still hold
        raise Forbidden(
            f"{found.person} is not in the roster; their tokens give no access (calmly token revoke {found.person})",
            code="not_in_roster",
        )
    if found.scope == TokenScope.INTAKE and not intake:
        raise Forbidden(
            "this token can only send mentions (POST /v1/mentions); a person acts with a token of their own",
            code="intake_only_token",
        )
    return Caller(found.person, member.roles, member.name)


def current_person(request: Request, context: Context) -> Caller:
    """The caller of any route but intake: an intake-only token is refused here."""
    return _caller(request, context, intake=False)


def intake_person(request: Request, context: ApiContext) -> Caller:
    """The caller of intake: any good token of a person in the roster, intake-only ones too."""
    return _caller(request, context, intake=True)


Person = Annotated[Caller, Depends(current_person)]


def admin(doing: str) -> Callable[[Caller, ApiContext], Caller]:
    """A dependency: the caller, if they hold one of the admin roles; ``doing`` names the work in the refusal."""

    def admitted(caller: Person, context: Context) -> Caller:
        if not caller.roles & context.admin_roles:
            allowed = ", ".join(sorted(context.admin_roles)) or "none configured"
            raise Forbidden(f"{doing} needs one of the roles: {allowed}", code="role_not_allowed")
        return caller

    return admitted


def signed_intake(request: Request, context: ApiContext, body: bytes) -> str:
    """The ``webhook-id`` of a request signed with one of the intake secrets, within the tolerance of now."""
    _limit(context, client_key(request), intake=True)
    found = verify(context.intake_secrets, request.headers, body, context.wall_clock())
    if isinstance(found, SignatureProblem):
        _limit(context, client_key(request))  # a bad signature spends the address's everyday budget: no guessing
        raise Unauthorized(found.message, code=found.value)
    return found
