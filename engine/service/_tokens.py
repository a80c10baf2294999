"""Bearer tokens: issued once in plain text, kept only as a hash, each naming one person.

A token is ``calmly_`` and 43 URL-safe characters (256 random bits). The store keeps its SHA-256: a leaked database
gives nobody a working token, and a hash of 256 random bits needs no slow hashing to be safe.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from engine.store import Store, TokenRecord

__all__ = ["TOKEN_PREFIX", "TokenProblem", "TokenScope", "hash_token", "issue_token", "revoke_tokens", "verify_token"]

TOKEN_PREFIX = "calmly_"
_LENGTH = len(TOKEN_PREFIX) + 43


class TokenScope(enum.StrEnum):
    """What a token may do. A listening tool gets an intake token: if it leaks, it can only send mentions."""

    FULL = "full"  # everything its person's roles allow
    INTAKE = "intake"  # POST /v1/mentions, nothing else


class TokenProblem(enum.StrEnum):
    MISSING = "missing_token"
    MALFORMED = "malformed_token"
    UNKNOWN = "unknown_token"
    REVOKED = "revoked_token"
    EXPIRED = "expired_token"

    @property
    def message(self) -> str:
        return {
            TokenProblem.MISSING: "send a token: 'Authorization: Bearer <token>' (calmly token issue PERSON makes one)",
            TokenProblem.MALFORMED: "this is not a calmly token (they start with 'calmly_'); check what was copied",
            TokenProblem.UNKNOWN: "this token is not known here; ask for a new one (calmly token issue PERSON)",
            TokenProblem.REVOKED: "this token was revoked; ask for a new one (calmly token issue PERSON)",
            TokenProblem.EXPIRED: "this token has expired; ask for a new one (calmly token issue PERSON)",
        }[self]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    store: Store,
    person: str,
    now: datetime,
    *,
    expires_in: timedelta | None = None,
    label: str | None = None,
    scope: TokenScope = TokenScope.FULL,
) -> str:
    """A new token for ``person``; only its hash is stored, so this is the one time it can be shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = None if expires_in is None else now + expires_in
    with store.write() as tx:
        tx.tokens.add(TokenRecord(hash_token(token), person, now, expires_at, None, label, scope.value))
    return token


class Revoked(NamedTuple):
    """What revoking a person's access ended: their live tokens, and their desk sessions."""

    tokens: int
    sessions: int


def revoke_tokens(store: Store, person: str, now: datetime) -> Revoked:
    """Revoke every live token of ``person`` at once, and end their desk sessions (signed in with a token, or with
    a link not used yet), in one transaction: a person whose access is revoked is signed out everywhere."""
    with store.write() as tx:
        return Revoked(tx.tokens.revoke(person, now), tx.sessions.end_all_of(person))


def verify_token(store: Store, token: str | None, now: datetime) -> TokenRecord | TokenProblem:
    """The token's record when it may be used now, or why not."""
    if not token:
        return TokenProblem.MISSING
    if not token.startswith(TOKEN_PREFIX) or len(token) != _LENGTH:
        return TokenProblem.MALFORMED
    digest = hash_token(token)
    record = store.token(digest)
    if record is None or not hmac.compare_digest(record.hash, digest):
        return TokenProblem.UNKNOWN
    if record.revoked_at is not None:
        return TokenProblem.REVOKED
    if record.expires_at is not None and record.expires_at <= now:
        return TokenProblem.EXPIRED
    return record
