"""``calmly migrate-store``: a data folder's SQLite store copied into an empty PostgreSQL store, every table's count
checked, then every incident rebuilt from its events and compared with its row, with a progress line on a terminal.

The data folder is locked for the copy, as ``calmly serve`` locks it, so a daemon still running there is found
and named rather than copied from mid-change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli._failure import fail
from engine.cli._options import data_option
from engine.cli._progress import counted, shows_progress

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["migrate_store"]

#: How many incidents that do not rebuild as their rows are named; the count says how many there are in all.
_NAMED = 10


@click.command("migrate-store")
@data_option
@click.option(
    "--store",
    "store_url",
    envvar="CALMLY_STORE",
    metavar="URL",
    required=True,
    help="The PostgreSQL store to copy into, postgresql://user@host:port/database: empty (env CALMLY_STORE).",
)
def migrate_store(data: str, store_url: str) -> None:
    """Copy the SQLite store in --data into an empty PostgreSQL store (--store), and check the copy.

    Stop the daemon first. Every table is copied in one transaction, which commits only when every count agrees;
    then every incident is rebuilt from its events and compared with its row. Start the daemons with --store after.
    """
    from engine.daemon import Config, FolderInUse, FolderLock, NoStore, StartupError, adapters  # noqa: PLC0415
    from engine.errors import StoreError  # noqa: PLC0415
    from engine.store.postgresql import PostgreSQLStore, copy_sqlite_store  # noqa: PLC0415
    from engine.store.sqlite import DATABASE_NAME  # noqa: PLC0415

    folder = Path(data)
    if not (folder / DATABASE_NAME).exists():  # before the lock, which would make the folder of a mistyped --data
        fail(str(NoStore(folder)))
    try:
        lock = FolderLock.take(folder)
    except FolderInUse as error:
        fail(f"{error}; stop it before copying its store")
    try:
        with adapters(Config(data=folder)) as source:  # migrated first: the copy reads this calmly's schema
            total = source.store.counts()["incidents"]
        with adapters(Config(store=store_url), create=True) as target:
            assert isinstance(target.store, PostgreSQLStore)
            with _progress("copying", total) as advance:
                copied = copy_sqlite_store(
                    folder / DATABASE_NAME,
                    target.store,
                    on_row=lambda table: advance() if table == "incidents" else None,
                )
            for item in copied:
                click.echo(f"copied {item.copied} {item.table.replace('_', ' ')}")
            wrong = _unlike_their_rows(target.store)
            where = target.path
    except (StartupError, StoreError) as error:
        fail(str(error))
    finally:
        lock.release()
    incidents = next(item.copied for item in copied if item.table == "incidents")
    if wrong:
        named = "\n".join(f"  {line}" for line in wrong[:_NAMED])
        fail(f"{len(wrong)} of {incidents} incidents do not rebuild from their events as their rows:\n{named}")
    click.echo(
        f"rebuilt all {incidents} incidents from their events: each equals its row. The store is in {where}; "
        "start the daemons with --store",
        err=True,
    )


def _unlike_their_rows(store: Store) -> list[str]:
    """Each incident whose events, replayed, do not give its row: by id, with why."""
    from engine.service import Library, PlaybookMissing, Service  # noqa: PLC0415

    service = Service(store, Library(store), lambda: datetime.now(UTC))
    wrong = []
    for incident_id in counted(store.all_incident_ids(), "rebuilding"):
        row = store.incident(incident_id)
        try:
            rebuilt = service.rebuild(incident_id)
        except (ValueError, PlaybookMissing) as error:
            wrong.append(f"{incident_id}: {error}")
            continue
        if row is None or rebuilt != row.incident:
            wrong.append(f"{incident_id}: its events give another incident than its row")
    return wrong


@contextmanager
def _progress(doing: str, total: int) -> Iterator[Callable[[], None]]:
    """An ``advance`` to call once an incident; a bar on a terminal, nothing elsewhere."""
    if not shows_progress():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    columns = (TextColumn(f"{doing} incidents"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task(doing, total=total)
        yield lambda: progress.advance(task)
