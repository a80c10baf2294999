"""``calmly serve``: the data folder locked, the daemon built, the HTTP server and the loops run until a signal.

SIGTERM or SIGINT stops it gracefully: the requests and the deadline in hand are finished, then the store is
closed and the lock let go. SIGHUP reloads the playbooks and the roster.
"""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import structlog

from engine._compiled import running_compiled
from engine.daemon._bootstrap import StartupError, build
from engine.daemon._config import Config
from engine.daemon._folderlock import FolderInUse, FolderLock
from engine.desk import create_web_app

__all__ = ["serve", "server_settings"]

_log = structlog.get_logger("calmly.daemon")


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
                runtime = "compiled" if running_compiled() else "python"  # which build of the runtime serves
                _log.info("listening", listen=config.listen, url=f"http://{config.listen}", runtime=runtime)

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

    return Server(server_settings(app, config.host, config.port))


def server_settings(app: Any, host: str, port: int) -> Any:
    """The daemon's uvicorn settings for ``app`` on ``host:port`` (the benchmark serves its yardstick with them)."""
    import uvicorn  # noqa: PLC0415 - only the daemon needs the server

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )


def serve(config: Config, simulated_start: datetime | None = None) -> int:
    """Run until SIGTERM or SIGINT: finish the requests and the deadline in hand, then stop."""

    try:
        # Before the store opens: a second daemon must not even migrate it. A shared database takes several
        # daemons, and its migrations take turns under the database's own lock.
        lock = None if config.store is not None else FolderLock.take(config.data)
    except FolderInUse as error:
        raise StartupError(str(error)) from error
    except OSError as error:
        raise StartupError(f"cannot lock the data folder {config.data}: {error}") from error
    try:
        daemon = build(config, simulated_start)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    app = create_web_app(daemon.context, daemon.presence)
    gc.collect()
    gc.freeze()  # what start-up built lives as long as the process: keep the collector from walking it again

    def hang_up() -> None:  # SIGHUP: reload; the outcome is logged either way
        if daemon.reloader is not None:
            daemon.reloader("SIGHUP")

    server = _server(app, config, hang_up)
    daemon.scheduler.start()
    if daemon.courier is not None:
        daemon.courier.start()
    if daemon.hints is not None:
        daemon.hints.start()
    if daemon.clock_follower is not None:
        daemon.clock_follower.start()
    if daemon.skew is not None:
        daemon.skew.start()
    try:
        server.run()
    except SystemExit:  # uvicorn gives up when it cannot listen (and has said why)
        _log.error("cannot listen", listen=config.listen, hint="is calmly already running? choose another --listen")
        return 1
    finally:
        if daemon.hints is not None:
            daemon.hints.stop()
        if daemon.clock_follower is not None:
            daemon.clock_follower.stop()
        if daemon.skew is not None:
            daemon.skew.stop()
        daemon.scheduler.stop()
        if daemon.courier is not None:
            daemon.courier.stop()
        daemon.store.close()
        if lock is not None:
            lock.release()
        _log.info("stopped")
    return 0 if server.started else 1  # not started: the address was taken (uvicorn has said so)
