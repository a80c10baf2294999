"""The daemon: wiring (the only place adapters are built), the scheduler loop, logging and the server.

``calmly serve`` calls :func:`serve`. The scheduler sleeps until the earliest pending deadline (or until woken by
an intake or an action that may have brought one forward), fires what is due through the service, and sleeps
again; deadlines live in the store, not in timers, so a restart loses none and fires overdue ones at once.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from engine.api import ApiContext, ReloadOutcome, create_app
from engine.daemon._config import Config
from engine.daemon._folderlock import FolderInUse, FolderLock
from engine.daemon._redaction import REDACTOR, roster_secrets
from engine.files import load_paths
from engine.notify import Channel, Dispatcher, EmailChannel, LogChannel, SlackChannel, WebhookChannel
from engine.service import InvalidPlaybooks, Library, Roster, Service, SimulatedClock, load_roster
from engine.service._preflight import Resolver, RosterFile, roster_file, system_resolver
from engine.service._preflight import check as check_setup
from engine.store import SQLiteStore, StoreError

__all__ = ["Daemon", "Reloader", "Scheduler", "StartupError", "build", "configure_logging", "serve"]

#: The scheduler looks again at least this often, in case another process wrote a deadline to the store.
_IDLE_LOOK = timedelta(seconds=30)
#: The courier looks again at least this often (a retry may fall due; a `calmly outbox retry` may have run).
_COURIER_LOOK = timedelta(seconds=5)

_log = structlog.get_logger("calmly.daemon")


class StartupError(Exception):
    """The daemon cannot start; the message says what to fix."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def configure_logging(log_format: str, level: str) -> None:
    """structlog to standard error: readable on a terminal, JSON lines otherwise (or as configured).

    The libraries' standard-library loggers (uvicorn's, say) are routed through the same renderer, so every line
    of the log has one shape, and through the same redactor, so no line holds a secret (see
    :mod:`engine.daemon._redaction`).
    """
    json_lines = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    # httpx and httpcore log each request with its full address at INFO and DEBUG, and a Slack address (or a
    # webhook's with a token in it) is a secret: keep them to warnings; the redactor masks what still gets through.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, REDACTOR, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                REDACTOR,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))


class _Loop:
    """One worker thread: it does a turn, then sleeps as long as the turn says or until ``wake()``. It outlives any
    one failure (logged, then tried again shortly) and ``stop()`` lets it finish the turn in hand."""

    def __init__(self, name: str, idle: timedelta, simulated: bool) -> None:
        self._name = name
        self._idle = idle.total_seconds()
        self._simulated = simulated
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"calmly-{name}", daemon=True)
        self.running = False

    def start(self) -> None:
        self.running = True
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Its thread runs (or it was never started, as when the app is built without serving)."""
        return self._thread.ident is None or self._thread.is_alive()

    @property
    def failed(self) -> bool:
        """Started, and its thread has ended without being asked to stop."""
        return not self.alive and not self._stop.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the turn in hand."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.running = False

    def _until(self, earliest: datetime | None, now: datetime) -> float:
        """Seconds to sleep before ``earliest`` (at most the idle look; a simulated clock only moves when told)."""
        if earliest is None or self._simulated:
            return self._idle
        return max(0.0, min((earliest - now).total_seconds(), self._idle))

    def _turn(self) -> float:
        """Do the work that is due; return how long to sleep."""
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self._turn()
            except StoreError as error:  # the store is briefly unavailable: say so, and try again soon
                _log.error(f"{self._name} cannot reach the store", error=str(error))
                pause = 1.0
            except Exception:  # a locked or full database, a bad notification: log it and try again shortly
                _log.exception(f"{self._name} failed; trying again shortly")
                pause = 5.0
            self._wake.wait(pause)
            self._wake.clear()


class Scheduler(_Loop):
    """Fires due deadlines through the service; sleeps until the earliest pending one or until woken."""

    def __init__(
        self,
        service: Service,
        clock: Callable[[], datetime],
        simulated: bool,
        on_fired: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__("scheduler", _IDLE_LOOK, simulated)
        self._service = service
        self._on_fired = on_fired
        self._clock = clock

    def _turn(self) -> float:
        fired_now = self._service.fire_due()
        if fired_now:
            self._on_fired()  # notifications are waiting in the outbox
        # Each fired deadline is measured and logged by the service, as it is when the simulated clock is moved.
        return self._until(self._service.next_due(), self._clock())


class Courier(_Loop):
    """Routes the outbox to each role's channels and delivers what is due. Sending happens outside any
    transaction; each outcome is recorded after."""

    def __init__(self, dispatcher: Dispatcher, simulated: bool) -> None:
        super().__init__("courier", _COURIER_LOOK, simulated)
        self._dispatcher = dispatcher

    def _turn(self) -> float:
        routed = self._dispatcher.route()
        outcomes = self._dispatcher.deliver_due()
        if routed or outcomes:
            return 0.0  # there may be more
        return self._until(self._dispatcher.next_due(), self._dispatcher.now())


def channels_for(roster: Roster, environment: Mapping[str, str]) -> dict[str, Channel]:
    """The delivery channels, built once: the only place they are made."""
    return {
        "log": LogChannel(),
        "webhook": WebhookChannel(environment, system_clock),
        "slack": SlackChannel(environment),
        "email": EmailChannel(roster.smtp, environment),
    }


class Reloader:
    """Re-reads the playbooks and the roster (SIGHUP, POST /v1/admin/reload): all of it takes, or none of it.

    The roster is checked first, then the playbooks are installed (the library keeps its set if any is invalid), and
    only then is the new roster swapped in. Running incidents keep the playbook version they opened under.
    """

    def __init__(
        self,
        config: Config,
        library: Library,
        context: ApiContext,
        clock: Callable[[], datetime],
        resolve: Resolver,
    ) -> None:
        self._config = config
        self._resolve = resolve
        self._library = library
        self._context = context
        self._clock = clock
        self._lock = threading.Lock()

    def __call__(self, asked_by: str) -> ReloadOutcome:
        with self._lock:
            kept = tuple(f"{book.playbook.id} v{book.playbook.version}" for book in self._library.current)
            people = len(self._context.roster.people)
            roster = load_roster(self._config.roster)
            if isinstance(roster, list):
                problems = tuple(_located(problem) for problem in roster)
                _log.error("reload refused: the roster has problems", asked_by=asked_by, problems=list(problems))
                return ReloadOutcome(kept, people, problems, "the roster has problems; nothing was reloaded")
            try:
                books = self._library.install(list(self._config.playbooks), self._clock())
            except InvalidPlaybooks as error:
                problems = tuple(_located(problem) for problem in error.problems)
                _log.error("reload refused: " + error.message, asked_by=asked_by, problems=list(problems))
                return ReloadOutcome(kept, people, problems, f"{error.message}; nothing was reloaded")
            REDACTOR.keep_out(roster_secrets(roster, os.environ))
            self._context.roster = roster
            self._context.checks = setup_findings(self._config, roster, self._resolve)
            loaded = tuple(f"{book.playbook.id} v{book.playbook.version}" for book in books)
            _log.info("reloaded", asked_by=asked_by, playbooks=list(loaded), people=len(roster.people))
            return ReloadOutcome(loaded, len(roster.people))


def _located(problem: Any) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "code": problem.code,
        "message": problem.message,
    }


@dataclass
class Daemon:
    config: Config
    store: SQLiteStore
    service: Service
    scheduler: Scheduler
    context: ApiContext
    courier: Courier | None = None
    reloader: Reloader | None = None


def _roster(config: Config) -> Roster:
    found = load_roster(config.roster)
    if isinstance(found, list):
        lines = [problem.located for problem in found]
        raise StartupError("the roster has problems:\n" + "\n".join(lines))
    return found


def setup_findings(config: Config, roster: Roster, resolve: Resolver) -> tuple[dict[str, Any], ...]:
    """The set-up checks (``calmly check``'s findings about the set), each logged as a warning: none stops the
    daemon, which has refused anything fatal already, but an operator must hear of them at once."""
    read = roster_file(config.roster)
    located = read if isinstance(read, RosterFile) else RosterFile(roster)
    findings = check_setup(load_paths(list(config.playbooks)), located, os.environ, resolve)
    shown = tuple({**_located(finding), "severity": str(finding.severity)} for finding in findings)
    for finding in shown:
        _log.warning("set-up check", **finding)
    return shown


def build(config: Config, simulated_start: datetime | None = None, resolve: Resolver = system_resolver) -> Daemon:
    """Everything the daemon runs, built and checked; nothing is listening yet.

    ``resolve`` looks host names up for the set-up checks (the system's resolver; tests pass one of their own)."""
    simulated = SimulatedClock(simulated_start) if simulated_start is not None else None
    clock = simulated.now if simulated is not None else system_clock
    roster = _roster(config)
    REDACTOR.keep_out([*config.intake_secrets, *roster_secrets(roster, os.environ)])
    try:
        store = SQLiteStore(config.data, config.sqlite_synchronous)
        version = store.migrate()
    except StoreError as error:
        raise StartupError(str(error)) from error
    library = Library(store)
    try:
        books = library.install(list(config.playbooks), clock())
    except InvalidPlaybooks as error:
        store.close()
        raise StartupError(str(error)) from error
    service = Service(store, library, clock)
    # Delivery reads the roster from the API context at each use, so a reload that swaps it there reaches both.
    dispatcher = Dispatcher(store, library, lambda: context.roster, channels_for(roster, os.environ), clock)
    courier = Courier(dispatcher, simulated is not None)
    scheduler = Scheduler(service, clock, simulated is not None, on_fired=courier.wake)

    def wake_both() -> None:
        scheduler.wake()
        courier.wake()

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
        wall_clock=system_clock,
        rate_limit_per_minute=config.rate_limit_per_minute,
        admin_roles=frozenset(config.admin_roles),
    )
    reloader = Reloader(config, library, context, clock, resolve)
    context.reload = reloader
    context.checks = setup_findings(config, roster, resolve)
    _log.info(
        "ready to start",
        data=str(store.path),
        schema_version=version,
        playbooks=[f"{book.playbook.id} v{book.playbook.version}" for book in books],
        people=len(roster.people),
        clock="simulated" if simulated else "system",
        signed_intake=bool(config.intake_secrets),  # whether, never the secrets
        sqlite_synchronous=config.sqlite_synchronous,
        rate_limit_per_minute=config.rate_limit_per_minute,
        **store.counts(),
    )
    return Daemon(config, store, service, scheduler, context, courier, reloader)


def _server(app: Any, config: Config, on_hangup: Callable[[], None] | None = None) -> Any:
    """uvicorn's server, stopping on SIGTERM or SIGINT without killing the process afterwards.

    uvicorn raises the signal again once it has stopped serving, which would end the process before the scheduler
    finishes the deadline in hand and the store is closed; here the signal only asks the server to stop. SIGHUP
    calls ``on_hangup`` (a reload) in a thread of its own, so the server keeps answering meanwhile.
    """
    import uvicorn  # noqa: PLC0415 - only the daemon needs the server

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                _log.info("listening", listen=config.listen, url=f"http://{config.listen}")

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            if on_hangup is not None:
                hangup = on_hangup
                previous[signal.SIGHUP] = signal.signal(
                    signal.SIGHUP,
                    lambda *_: threading.Thread(target=hangup, name="calmly-reload", daemon=True).start(),
                )
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    settings = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    return Server(settings)


def serve(config: Config, simulated_start: datetime | None = None) -> int:
    """Run until SIGTERM or SIGINT: finish the requests and the deadline in hand, then stop."""

    try:
        lock = FolderLock.take(config.data)  # before the store opens: a second daemon must not even migrate it
    except FolderInUse as error:
        raise StartupError(str(error)) from error
    except OSError as error:
        raise StartupError(f"cannot lock the data folder {config.data}: {error}") from error
    try:
        daemon = build(config, simulated_start)
    except BaseException:
        lock.release()
        raise
    app = create_app(daemon.context)
    gc.collect()
    gc.freeze()  # what start-up built lives as long as the process: keep the collector from walking it again

    def hang_up() -> None:  # SIGHUP: reload; the outcome is logged either way
        if daemon.reloader is not None:
            daemon.reloader("SIGHUP")

    server = _server(app, config, hang_up)
    daemon.scheduler.start()
    if daemon.courier is not None:
        daemon.courier.start()
    try:
        server.run()
    except SystemExit:  # uvicorn gives up when it cannot listen (and has said why)
        _log.error("cannot listen", listen=config.listen, hint="is calmly already running? choose another --listen")
        return 1
    finally:
        daemon.scheduler.stop()
        if daemon.courier is not None:
            daemon.courier.stop()
        daemon.store.close()
        lock.release()
        _log.info("stopped")
    return 0 if server.started else 1  # not started: the address was taken (uvicorn has said so)
