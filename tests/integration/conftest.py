"""The store backends the store's contract is tested on: SQLite always, PostgreSQL when CALMLY_TEST_POSTGRES_URL
names a database to test in (``.ci/run`` sets it); without it, the PostgreSQL cases skip, saying so.

Each PostgreSQL case gets a schema of its own (``CREATE SCHEMA t_<random>``, reached through the URL's
``search_path``), dropped when it ends, so cases never see one another's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.store import SQLiteStore, Store

POSTGRES_URL_VARIABLE = "CALMLY_TEST_POSTGRES_URL"
SKIP_WITHOUT_POSTGRES = (
    f"the PostgreSQL store's tests need a database: set {POSTGRES_URL_VARIABLE}, such as "
    "postgresql://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)


def postgres_url() -> str:
    """The test database's URL, or a skip saying how to give one."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not url:
        pytest.skip(SKIP_WITHOUT_POSTGRES)
    return url


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A schema of its own in the test database, as a store URL whose ``search_path`` is that schema; dropped after."""
    import psycopg  # noqa: PLC0415 - only the PostgreSQL cases need it

    base = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Backend:
    """Where one test's store lives: :meth:`open` opens a store there (again, as a restarted daemon would)."""

    name: str
    folder: Path
    url: str | None = None
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        store: Store
        if self.url is not None:
            from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415

            store = PostgreSQLStore(self.url, pool_size=4)
        else:
            store = SQLiteStore(self.folder)
        store.migrate()
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test that takes it runs on both backends."""
    if request.param == "sqlite":
        made = Backend("sqlite", tmp_path / "data")
        yield made
        made.close_all()
        return
    with fresh_schema() as url:
        made = Backend("postgresql", tmp_path / "data", url)
        try:
            yield made
        finally:
            made.close_all()
