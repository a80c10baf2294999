"""Reaching PostgreSQL: a store URL read and checked, the pool of connections opened on it, and psycopg's errors
mapped, in this one place, to the store's own (:class:`engine.errors.StoreUnavailable`, :class:`Conflict`).

A URL that cannot be read is told apart from a server that does not answer: the first is fixed in the URL, the
second by starting the server or reaching it. Neither message shows a password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from engine.errors import Conflict, StoreError, StoreUnavailable

__all__ = ["Location", "is_postgresql_url", "locate", "mapped_errors", "open_pool"]

#: How long reaching the server may take before it counts as unreachable.
_CONNECT_TIMEOUT_S = 5
#: How long a unit of work waits for a free connection of the pool before it is turned away (503).
_POOL_WAIT_S = 10.0
#: A transaction left open this long without a statement is ended by the server: a daemon that hangs while holding
#: row locks (claimed deadlines, an incident) lets go of them.
_IDLE_IN_TRANSACTION_MS = 30_000

#: What a client is told to wait before sending again while the database does not answer.
_RETRY_AFTER_S = "5"

_SCHEMES = ("postgresql://", "postgres://")


def is_postgresql_url(text: str) -> bool:
    return text.startswith(_SCHEMES)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a store URL points, in words fit for a message: never the password."""

    url: str
    host: str
    port: str
    database: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


def locate(url: str) -> Location:
    """Read a store URL (``postgresql://user@host:port/database?options=…``); :class:`StoreUnavailable` saying
    what is wrong with it when it cannot be read."""
    if not is_postgresql_url(url):
        raise StoreUnavailable(
            f"the store URL {_shown(url)!r} is not a PostgreSQL URL; write postgresql://user@host/db"
        )
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise StoreUnavailable(
            f"the store URL {_shown(url)!r} cannot be read: {_first_line(error).replace(url, _shown(url))}; "
            "check its spelling "
            "(postgresql://user@host:port/database)"
        ) from error
    host = str(parts.get("host") or "localhost")
    return Location(url, host, str(parts.get("port") or "5432"), str(parts.get("dbname") or parts.get("user") or ""))


def _shown(url: str) -> str:
    """The URL with any password blanked out."""
    scheme, sep, rest = url.partition("://")
    credentials, at, where = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{where}"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"SET idle_in_transaction_session_timeout = {_IDLE_IN_TRANSACTION_MS}")
    conn.execute("SET TIME ZONE 'UTC'")


def open_pool(location: Location, *, size: int) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool of up to ``size`` connections, opened once one connection has shown the server answers."""
    try:
        first = psycopg.connect(location.url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(_unreachable(location, error)) from error
    first.close()
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        location.url,
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT_S},
        configure=_configure,
        check=ConnectionPool.check_connection,
        timeout=_POOL_WAIT_S,
        name="calmly",
        open=False,
    )
    try:
        pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S * 2)
    except PoolTimeout as error:
        pool.close()
        raise StoreUnavailable(_unreachable(location, error)) from error
    return pool


def _unreachable(location: Location, error: BaseException) -> str:
    return (
        f"cannot reach the database at {location.host}:{location.port}: {_first_line(error)}; "
        "check the URL and that the server runs"
    )


@contextmanager
def mapped_errors(location: Location) -> Iterator[None]:
    """psycopg's errors as the store's: a lost or refused connection is :class:`StoreUnavailable` (503: try again
    later), a change that crossed another (a deadlock, a serialisation failure) is :class:`Conflict` (nothing was
    written), anything else the database refused is :class:`StoreError`."""
    try:
        yield
    except (errors.DeadlockDetected, errors.SerializationFailure, errors.LockNotAvailable) as error:
        crossed = f"the change crossed another one at the same moment ({_first_line(error)}); send it again"
        raise Conflict(crossed) from error
    except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as error:
        # Nothing was written (the transaction, if any, is lost with its connection): the client may send it again.
        raise StoreUnavailable(_unreachable(location, error), headers={"Retry-After": _RETRY_AFTER_S}) from error
    except psycopg.Error as error:
        raise StoreError(f"the database at {location} refused a change: {_first_line(error)}") from error
