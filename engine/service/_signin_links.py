"""One-time sign-in codes for the desk: ``calmly token issue PERSON --link`` prints a link holding one, and the desk
spends it to start a session, so nobody has to copy a token by hand.

A code is good once and for a short while: the link is sent by email or chat, where it may linger. Only its hash is
kept, as for tokens.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from engine.service._tokens import hash_token
from engine.store import Store

__all__ = ["SIGN_IN_LINK_LIFETIME", "issue_sign_in_code", "spend_sign_in_code"]

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)


def issue_sign_in_code(store: Store, person: str, now: datetime) -> str:
    """A new one-time code for ``person``, good for :data:`SIGN_IN_LINK_LIFETIME`; shown this once."""
    code = secrets.token_urlsafe(32)
    with store.write() as tx:
        tx.sessions.add_link(hash_token(code), person, now + SIGN_IN_LINK_LIFETIME)
    return code


def spend_sign_in_code(store: Store, code: str, now: datetime) -> str | None:
    """The person the code was issued for, if it is unused and unexpired (it is spent now); None otherwise."""
    if not code:
        return None
    with store.write() as tx:
        return tx.sessions.spend_link(hash_token(code), now)
