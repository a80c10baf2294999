"""The composition root: the only place the adapters (the store, the channels, the clock) are built.

:func:`build` wires everything the daemon runs; :func:`adapters` opens the same store for a terminal command
(``calmly token``, ``calmly outbox``) and closes it when the command is done. Nothing is listening yet: the server
is :mod:`engine.daemon._server`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from engine.api import ApiContext, IncidentNotice
from engine.daemon._channels import channels_for
from engine.daemon._config import Config
from engine.daemon._findings import setup_findings
from engine.daemon._loops import ClockFollower, Courier, Scheduler
from engine.daemon._redaction import REDACTOR, roster_secrets
from engine.daemon._reload import Reloader
from engine.daemon._skew import SkewCheck
from engine.desk import Activity, LocalFeed, MemoryPresence, Presence, PresenceRegistry, SharedPresence
from engine.errors import CalmlyError, StartupError
from engine.incident import ArmDeadline, Notify
from engine.notify import Dispatcher
from engine.playbook import Failed
from engine.service import Change, InvalidPlaybooks, Library, Roster, Service, SimulatedClock, load_roster
from engine.service._preflight import Resolver, system_resolver
from engine.store import SQLiteStore, Store, StoreError
from engine.store.sqlite import DATABASE_NAME

if TYPE_CHECKING:  # psycopg is imported only where a PostgreSQL store is used
    from engine.store.postgresql import Beat, HintListener, PeerHints, PostgreSQLStore

__all__ = ["Adapters", "Daemon", "NoStore", "StartupError", "adapters", "build", "open_adapters", "system_clock"]

_log = structlog.get_logger("calmly.daemon")

#: What asked for a reload that another daemon on the database told of (it is not told on again).
_PEER_RELOAD = "another daemon on the database"


class NoStore(StartupError):
    """The data folder (or the database) holds no store, and the command only reads or changes one: a wrong --data
    or --store would otherwise show an empty store as if it were the real one."""

    code, status = "no_store", 404

    def __init__(self, folder: Path | str) -> None:
        if isinstance(folder, Path):
            message = (
                f"no store in {folder}: is --data right (or CALMLY_DATA)? Give the folder calmly serve uses, or "
                "start the daemon once to make its store there"
            )
        else:
            message = (
                f"no store in the database at {folder}: is --store right (or CALMLY_STORE)? Give the URL calmly "
                "serve uses, or start the daemon once to make its store there"
            )
        super().__init__(message)
        self.folder = folder


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Adapters:
    """What is opened on a data folder (or a database): its store, migrated to this calmly's schema."""

    store: Store
    schema_version: int
    #: The folder (or the database) held no store: opening it made one.
    created: bool
    #: Where the store is, for messages and logs: the SQLite file, or the database's host, port and name.
    path: Path | str


def open_adapters(config: Config, *, create: bool = False) -> Adapters:
    """The store in ``config.data`` (or the database ``config.store`` names), migrated. Only a caller that adds to
    it (``create``) makes one where there is none; the caller closes it (:func:`adapters` does)."""
    if config.store is not None:
        return _open_shared(config.store, create)
    path = config.data / DATABASE_NAME
    existed = path.exists()
    if not existed and not create:
        raise NoStore(config.data)
    try:
        store = SQLiteStore(config.data, config.sqlite_synchronous)
    except StoreError as error:
        raise StartupError(str(error)) from error
    return _migrated(store, created=not existed, path=path)


def _open_shared(url: str, create: bool) -> Adapters:
    """The PostgreSQL store: psycopg is imported only by the commands that use one."""
    from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415 - keeps SQLite's commands quick to start

    try:
        store = PostgreSQLStore(url)
    except StoreError as error:
        raise StartupError(str(error)) from error
    try:
        existed = store.has_schema()
    except StoreError as error:
        store.close()
        raise StartupError(str(error)) from error
    if not existed and not create:
        store.close()
        raise NoStore(str(store.location))
    return _migrated(store, created=not existed, path=store.path)


def _migrated(store: Store, *, created: bool, path: Path | str) -> Adapters:
    try:
        version = store.migrate()
    except StoreError as error:
        store.close()
        raise StartupError(str(error)) from error
    return Adapters(store, version, created=created, path=path)


@contextmanager
def adapters(config: Config, *, create: bool = False) -> Iterator[Adapters]:
    """:func:`open_adapters` for the length of a ``with``: the store is closed however the block ends."""
    opened = open_adapters(config, create=create)
    try:
        yield opened
    finally:
        opened.store.close()


@dataclass
class Daemon:
    config: Config
    store: Store
    service: Service
    scheduler: Scheduler
    context: ApiContext
    courier: Courier | None = None
    reloader: Reloader | None = None
    #: Who has which incident open on the desk (its pages' beats), announced through the same feed.
    presence: PresenceRegistry | None = None
    #: The other daemons' wake-up hints, where the store is shared (PostgreSQL): started and stopped with the loops.
    hints: HintListener | None = None
    #: Where a simulated clock is shared through the store: what keeps this daemon's in step (started with the loops).
    clock_follower: ClockFollower | None = None
    #: On a shared store and the system's clock: the check of this daemon's clock against the database's.
    skew: SkewCheck | None = None


def _roster(config: Config) -> Roster:
    found = load_roster(config.roster)
    if isinstance(found, Failed):
        lines = [problem.located for problem in found.problems]
        raise StartupError("the roster has problems:\n" + "\n".join(lines))
    return found


def build(
    config: Config,
    simulated_start: datetime | None = None,
    resolve: Resolver = system_resolver,
    wall_clock: Callable[[], datetime] = system_clock,
) -> Daemon:
    """Everything the daemon runs, built and checked; nothing is listening yet. The daemon closes its store when
    it stops; if building fails, the store is closed here.

    ``resolve`` looks host names up for the set-up checks (the system's resolver; tests pass one of their own), and
    ``wall_clock`` tells the real time (the system's; tests pass one set off from it)."""
    simulated = SimulatedClock(simulated_start) if simulated_start is not None else None
    roster = _roster(config)
    REDACTOR.keep_out([*config.intake_secrets, *roster_secrets(roster, os.environ)])
    opened = open_adapters(config, create=True)
    try:
        return _wire(config, opened, roster, simulated, resolve, wall_clock)
    except InvalidPlaybooks as error:
        opened.store.close()
        raise StartupError(str(error)) from error
    except BaseException:
        opened.store.close()
        raise


def _shared_presence(store: PostgreSQLStore, feed: LocalFeed) -> SharedPresence:
    """Presence told to and heard from the other daemons on the database, through the store's hints."""
    from engine.store.postgresql import Beat  # noqa: PLC0415 - as in _open_shared

    def tell_beat(incident: str, presence: Presence, at: datetime, page: str) -> None:
        store.tell_beat(Beat(incident, presence.person, presence.activity.value, presence.trigger, page, at))

    return SharedPresence(tell_beat, store.tell_forget, feed.publish_presence)


def _peer_hints(
    store: PostgreSQLStore, feed: LocalFeed, presence: SharedPresence, reload: Callable[[], object]
) -> PeerHints:
    """What the other daemons' hints tell this daemon: their incidents' changes and their pages' beats (for its
    desk), their reloads (for its reloader)."""
    from engine.store.postgresql import PeerHints  # noqa: PLC0415 - as in _open_shared

    def heard_beat(beat: Beat) -> None:
        if beat.activity in {kind.value for kind in Activity}:
            said = Presence(beat.person, Activity(beat.activity), beat.trigger)
            presence.heard_beat(beat.incident, said, beat.at, beat.page)

    def heard_incident(incident: str, state: str, revision: int) -> None:
        feed.relay(IncidentNotice(incident, state, revision))

    def heard_reload() -> None:
        try:
            reload()
        except CalmlyError as error:  # the store went away meanwhile: the next reload (or restart) reads them
            _log.error("reload asked by another daemon failed", error=str(error))

    return PeerHints(store.origin, heard_incident, heard_beat, presence.heard_forget, heard_reload)


def _skew_check(
    config: Config, store: Store, simulated: SimulatedClock | None, wall_clock: Callable[[], datetime]
) -> SkewCheck | None:
    """On a shared store and the system's clock, the check of this daemon's clock against the database's, measured
    once now (a simulated clock is shared through the store and needs none; SQLite is one daemon's)."""
    from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415 - as in _open_shared

    if simulated is not None or not isinstance(store, PostgreSQLStore):
        return None
    check = SkewCheck(store.database_time, wall_clock, timedelta(milliseconds=config.max_clock_skew_ms))
    check.check()
    return check


def _wire(  # noqa: PLR0917 - what the daemon is built from, each by name
    config: Config,
    opened: Adapters,
    roster: Roster,
    simulated: SimulatedClock | None,
    resolve: Resolver,
    wall_clock: Callable[[], datetime],
) -> Daemon:
    """The service, the loops and the API's context over the opened store, each given what it uses."""
    store = opened.store
    clock = simulated.now if simulated is not None else wall_clock
    library = Library(store)
    books = library.install(list(config.playbooks), clock())
    # Every committed change goes to the desk's pages that are listening, in this daemon's memory.
    feed = LocalFeed()

    def committed(change: Change) -> None:
        feed.publish(change)
        # The loops hear of what a change brought: a deadline sooner than the scheduler would look, a notification.
        for effect in change.stepped.effects:
            if isinstance(effect, ArmDeadline):
                scheduler.armed(effect.at)
            elif isinstance(effect, Notify):
                courier.wake()

    service = Service(store, library, clock, on_change=committed)
    presence: PresenceRegistry = MemoryPresence(feed.publish_presence)
    # Delivery reads the roster from the API context at each use, so a reload that swaps it there reaches both.
    channels = channels_for(roster, os.environ, wall_clock)
    dispatcher = Dispatcher(store, library, lambda: context.roster, channels, clock, wall_clock=wall_clock)
    skew = _skew_check(config, store, simulated, wall_clock) if config.store is not None else None
    claims = (lambda: skew.claims) if skew is not None else (lambda: True)
    courier = Courier(dispatcher, simulated is not None, claims)
    scheduler = Scheduler(service, clock, simulated is not None, on_fired=courier.wake, claims=claims)

    def wake_both() -> None:
        scheduler.wake()
        courier.wake()

    if skew is not None:
        skew.on_back = wake_both

    hints = follower = shared_store = None
    if config.store is not None:
        from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415 - as in _open_shared

        if isinstance(store, PostgreSQLStore):
            shared_store = store
            shared = _shared_presence(store, feed)
            presence = shared
            # A reload that took on another daemon: this one reads its own files again (the reloader is made below).
            peers = _peer_hints(store, feed, shared, lambda: reloader(_PEER_RELOAD))
            hints = store.listen(scheduler.armed, courier.wake, peers)
        if simulated is not None and isinstance(store, PostgreSQLStore):
            # One simulated time for every daemon on the database: moved through any, followed by the others.
            simulated.set(store.shared_time(simulated.now()))
            follower = ClockFollower(simulated, store.shared_time, wake_both)

    context = ApiContext(
        service=service,
        roster=roster,
        clock=clock,
        max_body_bytes=config.max_body_bytes,
        max_batch=config.max_batch,
        simulated=simulated,
        wake=wake_both,
        ready=lambda: scheduler.running and not scheduler.failed and not courier.failed,
        intake_secrets=config.intake_secrets,
        wall_clock=wall_clock,
        rate_limit_per_minute=config.rate_limit_per_minute,
        intake_rate_limit_per_minute=config.intake_rate_limit_per_minute,
        admin_roles=frozenset(config.admin_roles),
        feed=feed,
        store_details=lambda: _store_details(opened, simulated, skew),
        store_problem=skew.problem if skew is not None else lambda: None,
    )
    reloader = Reloader(config, library, context, clock, resolve)
    context.reload = reloader
    if shared_store is not None:
        tell = shared_store.tell_reload
        reloader.on_reloaded = lambda asked_by: None if asked_by == _PEER_RELOAD else tell()
    context.checks = setup_findings(config, roster, resolve, library.loaded)
    _log.info(
        "ready to start",
        store=str(opened.path),
        schema_version=opened.schema_version,
        playbooks=[f"{book.playbook.id} v{book.playbook.version}" for book in books],
        people=len(roster.people),
        clock="simulated" if simulated else "system",
        signed_intake=bool(config.intake_secrets),  # whether, never the secrets
        sqlite_synchronous=config.sqlite_synchronous,
        rate_limit_per_minute=config.rate_limit_per_minute,
        intake_rate_limit_per_minute=config.intake_rate_limit_per_minute,
        **({"clock_skew": dict(skew.details())} if skew is not None else {}),
        **service.counts(),
    )
    return Daemon(config, store, service, scheduler, context, courier, reloader, presence, hints, follower, skew)


def _store_details(opened: Adapters, simulated: SimulatedClock | None, skew: SkewCheck | None) -> dict[str, Any]:
    """The store as /readyz shows it: which kind, and on a shared one how far the daemon's clock is from its."""
    shown: dict[str, Any] = {"backend": "postgresql" if isinstance(opened.path, str) else "sqlite"}
    if simulated is not None and isinstance(opened.path, str):
        shown["clock"] = "simulated, shared through the store"
    if skew is not None:
        shown |= skew.details()
    return shown
