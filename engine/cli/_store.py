"""The store a terminal command works on (``calmly token``, ``calmly outbox``): the SQLite store in a data folder
(``--data``) or a PostgreSQL database (``--store``), opened by the daemon's own bootstrap, closed when the command
ends, however it ends.

Only a command that adds to the store may make one where there is none, and it says where; the others refuse, as
a wrong --data would otherwise show an empty store as if it were the real one. None takes the data folder's lock:
they work beside a running daemon through SQLite's own locking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli._failure import fail

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["store_in"]


@contextmanager
def store_in(data: str, store_url: str | None = None, *, create: bool = False) -> Iterator[Store]:
    """The store in the database ``store_url`` names, or else in the data folder ``data``; a store that cannot be
    opened (or is not there, unless ``create``) ends the command with the reason."""
    from engine.daemon import Config, StartupError, adapters  # noqa: PLC0415 - keeps `calmly validate` quick to start

    try:
        if store_url is not None and not store_url.startswith(("postgresql://", "postgres://")):
            fail("--store is not a PostgreSQL URL; write postgresql://user@host:port/database")
        with adapters(Config(data=Path(data), store=store_url), create=create) as opened:
            if opened.created:
                click.echo(f"calmly: made a new store at {opened.path}", err=True)
            yield opened.store
    except StartupError as error:
        fail(str(error))
