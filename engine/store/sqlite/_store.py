"""The embedded store: one SQLite file in the data folder, in WAL mode (or one database in memory).

One connection, shared by the daemon's threads under a lock: SQLite takes one writer at a time anyway, and every
write is short (one incident's change). Writes run in ``BEGIN IMMEDIATE`` transactions, so two processes (the
daemon and ``calmly token issue``) never deadlock; ``busy_timeout`` makes the second wait its turn.

The SQL itself lives with its concern (incidents, deadlines, the outbox, mentions, receipts, tokens, playbooks,
figures); this module opens the database, migrates it, runs each unit of work and serves the views.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import StoreUnavailable
from engine.store._migrations import MIGRATIONS
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
from engine.store.sqlite import (
    _deadlines,
    _figures,
    _incidents,
    _mentions,
    _outbox,
    _playbooks,
    _recorded,
    _sessions,
    _tokens,
)
from engine.store.sqlite._receipts import SQLiteReceipts

__all__ = ["DATABASE_NAME", "SQLiteStore"]

DATABASE_NAME = "calmly.sqlite3"
_IN_MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 10_000
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


@dataclass(frozen=True, slots=True)
class _Unit:
    """One transaction's repositories (see :class:`engine.store.UnitOfWork`)."""

    incidents: _incidents.SQLiteIncidents
    events: _incidents.SQLiteEventLog
    deadlines: _deadlines.SQLiteDeadlines
    outbox: _outbox.SQLiteOutbox
    mentions: _mentions.SQLiteMentions
    receipts: SQLiteReceipts
    tokens: _tokens.SQLiteTokens
    sessions: _sessions.SQLiteSessions
    playbooks: _playbooks.SQLitePlaybooks

    @classmethod
    def on(cls, db: sqlite3.Connection) -> _Unit:
        return cls(
            _incidents.SQLiteIncidents(db),
            _incidents.SQLiteEventLog(db),
            _deadlines.SQLiteDeadlines(db),
            _outbox.SQLiteOutbox(db),
            _mentions.SQLiteMentions(db),
            SQLiteReceipts(db),
            _tokens.SQLiteTokens(db),
            _sessions.SQLiteSessions(db),
            _playbooks.SQLitePlaybooks(db),
        )


def _casefold(text: object) -> str | None:
    """Text with case ignored as Python ignores it (``ß`` is ``ss``, ``É`` is ``é``): SQLite's own ``lower`` folds
    ASCII letters only."""
    return text.casefold() if isinstance(text, str) else None


class SQLiteStore:
    """The store in ``folder/calmly.sqlite3`` (created with its schema on first use).

    :meth:`in_memory` makes one that lives only as long as the process: the same SQL over a database in memory,
    for simulations and tests.
    """

    def __init__(self, folder: Path, synchronous: str = "full") -> None:
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous is {synchronous!r}; choose one of {', '.join(_SYNCHRONOUS)}")
        self.folder = folder
        self.path = folder / DATABASE_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(f"cannot open the store at {self.path}: {error}") from error
        self._db = self._connect(str(self.path), synchronous)
        self._lock = threading.RLock()
        self._synchronous = self._syncing = synchronous

    @classmethod
    def in_memory(cls) -> SQLiteStore:
        """A store in memory, with its schema: gone when it is closed or the process ends."""
        store = cls.__new__(cls)
        store.folder = store.path = Path(_IN_MEMORY)
        store._db = store._connect(_IN_MEMORY, "normal")
        store._lock = threading.RLock()
        store._synchronous = store._syncing = "normal"
        store.migrate()
        return store

    def _connect(self, target: str, synchronous: str) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
            db.row_factory = sqlite3.Row
            db.create_function("casefold", 1, _casefold, deterministic=True)
            db.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL at each commit, so what was acknowledged survives a power loss; NORMAL syncs only
            # at checkpoints: never corrupt, and safe through a crash of the process, but the last commits may be
            # lost when the machine loses power.
            db.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[synchronous]}")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        except (OSError, sqlite3.Error) as error:
            raise StoreUnavailable(f"cannot open the store at {self.path}: {error}") from error
        return db

    # --- schema --------------------------------------------------------------------------------------------------

    def migrate(self) -> int:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                done = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
                known = {version for version, _, _ in MIGRATIONS}
                if done - known:
                    raise StoreUnavailable(
                        f"the store at {self.path} has schema version {max(done)}, newer than this calmly knows "
                        f"({max(known)}); upgrade calmly"
                    )
                for version, description, statements in MIGRATIONS:
                    if version in done:
                        continue
                    for statement in statements:
                        self._db.execute(statement)
                    self._db.execute(
                        "INSERT INTO schema_migrations (version, description, applied_at) "
                        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                        (version, description),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return max(known)

    # --- writing -------------------------------------------------------------------------------------------------

    def _sync_for(self, durable: bool) -> None:
        """Sync this commit as configured, or (``durable=False``) at most as NORMAL does.

        In WAL mode a synced commit syncs the whole log, every earlier commit with it, so a commit that was not
        synced is made durable by the next one that is (or by a checkpoint): a power loss can only take a tail of
        bookkeeping commits, never one from before a durable commit.
        """
        wanted = self._synchronous if durable else "normal"
        if wanted != self._syncing:
            self._db.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[wanted]}")
            self._syncing = wanted

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[_Unit]:
        with self._lock:
            self._sync_for(durable)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield _Unit.on(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk, an I/O error) leaves the transaction open: end it, or every later
                # write on this shared connection would fail and reads would show what was never saved.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- views ---------------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentRow | None:
        with self._lock:
            return _incidents.incident_row(self._db, incident_id)

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        with self._lock:
            return _incidents.incident_rows(self._db, where)

    def events(self, incident_id: str) -> list[Event]:
        with self._lock:
            return _incidents.events_of(self._db, incident_id)

    def all_incident_ids(self) -> Iterator[str]:
        with self._lock:
            ids = _incidents.all_incident_ids(self._db)
        yield from ids

    def recorded(
        self, since: datetime | None, until: datetime | None, *, closed_only: bool = True
    ) -> Iterator[RecordedIncident]:
        after = 0
        while True:
            with self._lock:  # held for one page's query: the daemon's writers wait no longer than that
                rows, after = _recorded.recorded_page(self._db, since, until, closed_only, after)
            count = 0
            for recorded in _recorded.grouped(rows):
                count += 1
                yield recorded
            if count < _recorded.PAGE:
                return

    def recorded_pages(
        self, since: datetime | None, until: datetime | None, *, closed_only: bool = True
    ) -> Iterator[tuple[list[tuple[Any, ...]], int]]:
        """The pages :meth:`recorded` reads, each as its raw rows and how many incidents they hold, for
        :func:`~engine.store.sqlite.decode_recorded_rows` to decode elsewhere (a worker process of ``calmly
        diff``): reading stays in one place, decoding goes where the work is."""
        after = 0
        while True:
            with self._lock:
                rows, upto = _recorded.recorded_page(self._db, since, until, closed_only, after)
            count = len({row[0] for row in rows})
            if count:
                yield [tuple(row) for row in rows], count  # plain tuples, which cross to another process
            if count < _recorded.PAGE:
                return
            after = upto

    def recorded_ranges(
        self, since: datetime | None, until: datetime | None, *, closed_only: bool = True
    ) -> Iterator[tuple[_recorded.RecordedRange, int]]:
        """The pages :meth:`recorded` reads, each named by its range of incidents and with how many it holds, for
        :func:`~engine.store.sqlite.read_recorded_range` to read and decode in another process (a worker of
        ``calmly diff``): nothing of a page crosses between processes but its bounds."""
        if self.path == Path(_IN_MEMORY):
            raise ValueError("a store in memory cannot be read from another process")
        with self._lock:
            ranges = list(_recorded.recorded_ranges(self._db, self.path, since, until, closed_only))
        yield from ranges

    def mention(self, channel: str, external_id: str) -> MentionRecord | None:
        with self._lock:
            return _mentions.mention(self._db, channel, external_id)

    def mentions_of(self, incident_id: str) -> list[MentionBody]:
        with self._lock:
            return _mentions.mentions_of(self._db, incident_id)

    def latest_mentions(self, incident_ids: Sequence[str]) -> dict[str, MentionBody]:
        with self._lock:
            return _mentions.latest_mentions(self._db, incident_ids)

    def pending_deadlines(self, incident_id: str) -> list[DueDeadline]:
        with self._lock:
            return _deadlines.pending_of(self._db, incident_id)

    def due(self, now: datetime, limit: int) -> list[DueDeadline]:
        with self._lock:
            return _deadlines.due(self._db, now, limit)

    def earliest_due(self) -> datetime | None:
        with self._lock:
            return _deadlines.earliest_due(self._db)

    def outbox(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        with self._lock:
            return _outbox.outbox_rows(self._db, state, limit)

    def unrouted(self, limit: int) -> list[OutboxRow]:
        return self.outbox("pending", limit)

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        with self._lock:
            return _outbox.due_deliveries(self._db, now, limit)

    def deliveries(self, state: str | None, limit: int) -> list[Delivery]:
        with self._lock:
            return _outbox.deliveries(self._db, state, limit)

    def deliveries_of(self, incident_id: str) -> list[Delivery]:
        with self._lock:
            return _outbox.deliveries_of(self._db, incident_id)

    def earliest_delivery(self) -> datetime | None:
        with self._lock:
            return _outbox.earliest_delivery(self._db)

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            return _tokens.token(self._db, token_hash)

    def desk_session(self, id_hash: str) -> DeskSession | None:
        with self._lock:
            return _sessions.session(self._db, id_hash)

    def playbook(self, digest: str) -> PlaybookRecord | None:
        with self._lock:
            return _playbooks.playbook(self._db, digest)

    def counts(self) -> Mapping[str, int]:
        with self._lock:
            return _figures.counts(self._db)

    def tallies(self) -> list[Tally]:
        with self._lock:
            return _figures.tallies(self._db)
