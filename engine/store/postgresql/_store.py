"""The shared store: one PostgreSQL database that several daemons use at once, through a pool of connections.

One unit of work is one transaction on one pooled connection, in ``READ COMMITTED`` with explicit locks where
SQLite relied on its single writer (see :mod:`._incidents`, :mod:`._intake` and :mod:`._deliveries`): rows read to
be changed are locked, names looked up before an insert are locked, due work is claimed skipping what another
daemon holds. Each view runs on a connection of its own in autocommit. Migrations run under a transaction advisory
lock, so daemons starting together apply each one once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from engine.errors import StoreError, StoreUnavailable
from engine.store._records import (
    Delivery,
    DeskSession,
    DueDeadline,
    Event,
    IncidentFilter,
    IncidentRow,
    MentionBody,
    MentionRecord,
    OutboxRow,
    PlaybookRecord,
    RecordedIncident,
    Tally,
    TokenRecord,
)
from engine.store.postgresql import _access, _deliveries, _figures, _incidents, _intake
from engine.store.postgresql._connection import Location, locate, mapped_errors, open_pool
from engine.store.postgresql._hints import (
    CHANNEL,
    Beat,
    HintListener,
    PeerHints,
    beat_hint,
    deadline_hint,
    forget_hint,
    incident_hint,
    outbox_hint,
    reload_hint,
)
from engine.store.postgresql._schema import MIGRATIONS

__all__ = ["PostgreSQLStore"]

#: Connections a daemon keeps at most: its HTTP workers, the scheduler and the courier, with a few to spare.
POOL_SIZE = 10
#: How long a request waits for a connection while the server was last found unreachable, in seconds.
_OUTAGE_WAIT_S = 1.0

_MIGRATION_LOCK = "calmly schema migrations"
#: The counters row that holds the shared simulated time, in microseconds since the epoch.
_SHARED_TIME = "simulated clock"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_log = structlog.get_logger("calmly.store")


@dataclass(frozen=True, slots=True)
class _Unit:
    """One transaction's repositories (see :class:`engine.store.UnitOfWork`)."""

    incidents: _incidents.PostgreSQLIncidents
    events: _incidents.PostgreSQLEventLog
    deadlines: _deliveries.PostgreSQLDeadlines
    outbox: _deliveries.PostgreSQLOutbox
    mentions: _intake.PostgreSQLMentions
    receipts: _intake.PostgreSQLReceipts
    tokens: _access.PostgreSQLTokens
    sessions: _access.PostgreSQLSessions
    playbooks: _access.PostgreSQLPlaybooks

    def hints(self, schema: str, origin: str) -> list[str]:
        """What the other daemons should wake up for: the earliest deadline armed, a notification added; and what
        their desks' pages should hear of: each incident saved."""
        found = []
        if self.deadlines.earliest_armed is not None:
            found.append(deadline_hint(self.deadlines.earliest_armed, schema))
        if self.outbox.added:
            found.append(outbox_hint(schema))
        found += [
            incident_hint(schema, origin, incident, state, revision)
            for incident, (state, revision) in self.incidents.saved.items()
        ]
        return found

    @classmethod
    def on(cls, db: psycopg.Connection[Any]) -> _Unit:
        return cls(
            _incidents.PostgreSQLIncidents(db),
            _incidents.PostgreSQLEventLog(db),
            _deliveries.PostgreSQLDeadlines(db),
            _deliveries.PostgreSQLOutbox(db),
            _intake.PostgreSQLMentions(db),
            _intake.PostgreSQLReceipts(db),
            _access.PostgreSQLTokens(db),
            _access.PostgreSQLSessions(db),
            _access.PostgreSQLPlaybooks(db),
        )


class PostgreSQLStore:
    """The store in the database a ``postgresql://`` URL names (its schema made there on :meth:`migrate`).

    The schema lives in the first schema of the connection's ``search_path``: ``?options=-csearch_path%3Dcalmly``
    in the URL keeps it apart from other tables in one database.
    """

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.location: Location = locate(url)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = open_pool(self.location, size=pool_size)
        self._unreachable = False  # whether the last try to reach the server failed (see _connection)
        #: This store's name in its desk hints, so the daemon that wrote one does not hear it again.
        self.origin = secrets.token_hex(6)
        self._schema: str | None = None

    @property
    def path(self) -> str:
        """Where the store is, for messages and logs (host, port and database; never the password)."""
        return f"postgresql://{self.location}"

    # --- schema --------------------------------------------------------------------------------------------------

    def has_schema(self) -> bool:
        """Whether the database holds a store already (its migrations table is there)."""
        with self._connection() as db:
            row = db.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        return bool(row and row[0])

    def migrate(self) -> int:
        known = {version for version, _, _ in MIGRATIONS}
        with self._connection() as db, db.transaction():
            # Held until this transaction ends: a second daemon starting now waits here, then finds them applied.
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_MIGRATION_LOCK,))
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in db.execute("SELECT version FROM schema_migrations").fetchall()}
            if done - known:
                raise StoreUnavailable(
                    f"the store at {self.path} has schema version {max(done)}, newer than this calmly knows "
                    f"({max(known)}); upgrade calmly"
                )
            for version, description, statements in MIGRATIONS:
                if version in done:
                    continue
                for statement in statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)", (version, description)
                )
        return max(known)

    # --- writing -------------------------------------------------------------------------------------------------

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[_Unit]:
        with self._connection() as db, db.transaction():
            if not durable:
                # Bookkeeping that is safe to redo: the commit returns before the server flushes it to disk.
                db.execute("SET LOCAL synchronous_commit = off")
            unit = _Unit.on(db)
            yield unit
            # In the transaction, so other daemons hear it only once it is committed (and never if it is not); one
            # statement for all of them.
            hints = unit.hints(self._schema_of(db), self.origin)
            if hints:
                calls = ", ".join(["pg_notify(%s, %s)"] * len(hints))
                db.execute(f"SELECT {calls}", [value for hint in hints for value in (CHANNEL, hint)])

    def _schema_of(self, db: psycopg.Connection[Any]) -> str:
        """The schema the store's tables are in (the first of the search path), asked once: desk hints name it."""
        if self._schema is None:
            row = db.execute("SELECT current_schema()").fetchone()
            self._schema = str(row[0]) if row and row[0] is not None else ""
        return self._schema

    def tell_beat(self, beat: Beat) -> None:
        """A presence beat of this daemon's page, for the other daemons' desks: a hint, lost if the database does
        not answer now (the page beats again within seconds)."""
        self._tell(lambda schema: beat_hint(schema, self.origin, beat))

    def tell_forget(self, person: str) -> None:
        """The person signed out of this daemon's desk: the other daemons' desks stop showing them too."""
        self._tell(lambda schema: forget_hint(schema, self.origin, person))

    def tell_reload(self) -> None:
        """This daemon's reload took: the other daemons reload their own files too."""
        self._tell(lambda schema: reload_hint(schema, self.origin))

    def _tell(self, hint: Callable[[str], str]) -> None:
        try:
            with self._connection() as db:
                db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, hint(self._schema_of(db))))
        except StoreError as error:
            _log.warning("a desk hint was not sent; the other daemons' pages catch up", error=str(error)[:200])

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on one pooled connection, below the repositories: for copying a whole store in
        (:mod:`._copy`). Committed when the block ends, rolled back if it raises."""
        with self._connection() as db, db.transaction():
            yield db

    def shared_time(self, at_least: datetime) -> datetime:
        """The simulated time every daemon on this database shares, moved forward to ``at_least`` if it is behind
        (never back): how a demo's clock moved through one daemon reaches the others."""
        micros = int((at_least - _EPOCH) / timedelta(microseconds=1))
        with self._connection() as db:
            row = db.execute(
                "INSERT INTO counters (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value, excluded.value) RETURNING value",
                (_SHARED_TIME, micros),
            ).fetchone()
        return _EPOCH + timedelta(microseconds=int(row[0])) if row else at_least

    def database_time(self) -> datetime:
        """The database server's clock now (``clock_timestamp()``, not the transaction's start): what the daemons'
        own clocks are checked against."""
        with self._connection() as db:
            row = db.execute("SELECT clock_timestamp()").fetchone()
        if row is None or not isinstance(row[0], datetime):
            raise StoreError(f"the database at {self.path} did not tell its time")
        return row[0].astimezone(UTC)

    def listen(
        self,
        on_deadline: Callable[[datetime], Any],
        on_outbox: Callable[[], Any],
        desk: PeerHints | None = None,
    ) -> HintListener:
        """A listener (not started) for the other daemons' hints: see :mod:`._hints`. ``desk`` is told the desk's
        hints, leaving out this store's own (``desk.origin`` is :attr:`origin`)."""
        return HintListener(self.location.url, on_deadline, on_outbox, desk)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        # While the server was last found unreachable, a request waits a moment for a connection rather than the
        # pool's full wait: it is answered 503 at once (and /readyz within a load balancer's check), not after 10 s.
        wait = _OUTAGE_WAIT_S if self._unreachable else None
        try:
            with mapped_errors(self.location), self._pool.connection(timeout=wait) as db:
                self._unreachable = False
                yield db
        except StoreUnavailable:
            self._unreachable = True
            raise

    # --- views ---------------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentRow | None:
        with self._connection() as db:
            return _incidents.incident_row(db, incident_id)

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        with self._connection() as db:
            return _incidents.incident_rows(db, where)

    def events(self, incident_id: str) -> list[Event]:
        with self._connection() as db:
            return _incidents.events_of(db, incident_id)

    def all_incident_ids(self) -> Iterator[str]:
        with self._connection() as db:
            ids = _incidents.all_incident_ids(db)
        yield from ids

    def recorded(
        self, since: datetime | None, until: datetime | None, *, closed_only: bool = True
    ) -> Iterator[RecordedIncident]:
        after = 0
        while True:
            with self._connection() as db:  # one connection a page: none is held while the caller works
                rows, after = _figures.recorded_page(db, since, until, closed_only, after)
            count = 0
            for recorded in _figures.grouped(rows):
                count += 1
                yield recorded
            if count < _figures.PAGE:
                return

    def mention(self, channel: str, external_id: str) -> MentionRecord | None:
        with self._connection() as db:
            return _intake.mention(db, channel, external_id)

    def mentions_of(self, incident_id: str) -> list[MentionBody]:
        with self._connection() as db:
            return _intake.mentions_of(db, incident_id)

    def latest_mentions(self, incident_ids: Sequence[str]) -> dict[str, MentionBody]:
        with self._connection() as db:
            return _intake.latest_mentions(db, incident_ids)

    def pending_deadlines(self, incident_id: str) -> list[DueDeadline]:
        with self._connection() as db:
            return _deliveries.pending_of(db, incident_id)

    def due(self, now: datetime, limit: int) -> list[DueDeadline]:
        with self._connection() as db:
            return _deliveries.due(db, now, limit)

    def earliest_due(self) -> datetime | None:
        with self._connection() as db:
            return _deliveries.earliest_due(db)

    def outbox(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        with self._connection() as db:
            return _deliveries.outbox_rows(db, state, limit)

    def unrouted(self, limit: int) -> list[OutboxRow]:
        return self.outbox("pending", limit)

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        with self._connection() as db:
            return _deliveries.due_deliveries(db, now, limit)

    def deliveries(self, state: str | None, limit: int) -> list[Delivery]:
        with self._connection() as db:
            return _deliveries.deliveries(db, state, limit)

    def deliveries_of(self, incident_id: str) -> list[Delivery]:
        with self._connection() as db:
            return _deliveries.deliveries_of(db, incident_id)

    def earliest_delivery(self) -> datetime | None:
        with self._connection() as db:
            return _deliveries.earliest_delivery(db)

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._connection() as db:
            return _access.token(db, token_hash)

    def desk_session(self, id_hash: str) -> DeskSession | None:
        with self._connection() as db:
            return _access.session(db, id_hash)

    def playbook(self, digest: str) -> PlaybookRecord | None:
        with self._connection() as db:
            return _access.playbook(db, digest)

    def counts(self) -> Mapping[str, int]:
        with self._connection() as db:
            return _figures.counts(db)

    def tallies(self) -> list[Tally]:
        with self._connection() as db:
            return _figures.tallies(db)
