"""Desk sessions: signing in with a person's token, the session cookie that follows, and who a request is from.

The cookie holds an opaque random id; the store keeps only its hash, with the person, the form token (CSRF) every
form of the session carries, and the expiry. The person's roles are read from the roster at each request, so a
person taken off the roster is signed out at their next request, and a change of roles counts at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from engine.api._context import ApiContext, Context
from engine.errors import Unauthorized
from engine.service import TokenProblem, TokenScope, spend_sign_in_code
from engine.store import DeskSession

__all__ = [
    "COOKIE",
    "LIFETIME",
    "SignInRefused",
    "Visitor",
    "csrf_matches",
    "end_session",
    "sign_in",
    "sign_in_with_link",
    "signed_in",
    "visitor",
]

COOKIE = "calmly_session"
LIFETIME = timedelta(hours=12)

_WORDS = {
    TokenProblem.MISSING: "Paste your token to sign in (your social lead makes one: calmly token issue YOUR-NAME).",
    TokenProblem.MALFORMED: "That is not a calmly token: they start with 'calmly_'. Check what was copied.",
    TokenProblem.UNKNOWN: "That token is not known here. Ask your social lead for a new one.",
    TokenProblem.REVOKED: "That token was revoked. Ask your social lead for a new one.",
    TokenProblem.EXPIRED: "That token has expired. Ask your social lead for a new one.",
}


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person a desk request is from, their roles in the roster now, and their session's form token."""

    person: str
    name: str
    roles: frozenset[str]
    csrf: str
    session_hash: str


@dataclass(frozen=True, slots=True)
class SignInRefused:
    """Why a token does not sign in, in words for the person, and the status the page answers with."""

    message: str
    status: int


def sign_in(context: ApiContext, token: str) -> tuple[str, DeskSession] | SignInRefused:
    """A new session for the token's person (its cookie value and record), or why not."""
    found = context.service.verify_token(token.strip() or None, context.clock())
    if isinstance(found, TokenProblem):
        return SignInRefused(_WORDS[found], 401)
    if context.roster.person(found.person) is None:
        return SignInRefused(f"{found.person} is not in the team's roster, so this token gives no access.", 403)
    if found.scope == TokenScope.INTAKE:
        return SignInRefused(
            "This token only lets a listening tool send mentions; sign in with a token of your own.", 403
        )
    return _start(context, found.person)


def sign_in_with_link(context: ApiContext, code: str) -> tuple[str, DeskSession] | SignInRefused:
    """A new session for the person a one-time sign-in code was issued to (the code is spent), or why not."""
    person = spend_sign_in_code(context.service.store, code.strip(), context.clock())
    if person is None:
        return SignInRefused(
            "This sign-in link was used already or has expired (links last 15 minutes). Sign in with your token, "
            "or ask for a new link.",
            401,
        )
    if context.roster.person(person) is None:
        return SignInRefused(f"{person} is not in the team's roster, so this link gives no access.", 403)
    return _start(context, person)


def _start(context: ApiContext, person: str) -> tuple[str, DeskSession]:
    now = context.clock()
    session_id = secrets.token_urlsafe(32)
    record = DeskSession(_hash(session_id), person, secrets.token_urlsafe(32), now + LIFETIME)
    with context.service.store.write() as tx:
        tx.sessions.forget_expired(now)
        tx.sessions.add(record)
    return session_id, record


def end_session(context: ApiContext, session_hash: str) -> None:
    with context.service.store.write() as tx:
        tx.sessions.end(session_hash)


def visitor(request: Request, context: ApiContext) -> Visitor | None:
    """Who the request is from: None without a live session, or when its person is no longer in the roster (the
    session is ended then)."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    found = context.service.store.desk_session(_hash(session_id))
    if found is None or found.expires_at <= context.clock():
        return None
    member = context.roster.person(found.person)
    if member is None:
        end_session(context, found.id_hash)
        return None
    return Visitor(found.person, member.name or found.person, member.roles, found.csrf, found.id_hash)


def signed_in(request: Request, context: Context) -> Visitor:
    """A dependency: the request's visitor; without a live session, 401 (for what a page fetches, not a page)."""
    seen = visitor(request, context)
    if seen is None:
        raise Unauthorized("sign in to the desk first (GET /signin)", code="not_signed_in")
    return seen


def csrf_matches(seen: Visitor, sent: object) -> bool:
    """Whether a form carried its session's form token (compared in constant time)."""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode("utf-8"), seen.csrf.encode("utf-8"))
