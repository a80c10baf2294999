"""The daemon's worker loops: the scheduler, which fires due deadlines, and the courier, which delivers the outbox.

The scheduler sleeps until the earliest pending deadline (or until woken by an intake or an action that may have
brought one forward), fires what is due through the service, a batch a transaction and batch after batch while
more are due, and sleeps again; deadlines live in the store, not in timers, so a restart loses none and fires
overdue ones at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from engine.notify import Dispatcher
from engine.service import Service, SimulatedClock
from engine.store import StoreError

__all__ = ["ClockFollower", "Courier", "Scheduler"]

#: The scheduler looks again at least this often, in case another process wrote a deadline to the store.
_IDLE_LOOK = timedelta(seconds=30)
#: About how long the scheduler spends on one batch of due deadlines (it ends the batch with the deadline that runs
#: past it): a mention or an action that comes meanwhile waits about this long for the store.
_BATCH_TIME = 0.010
#: The scheduler's pause between two batches of due deadlines: a mention or an action waiting for the store takes
#: it in that moment, before the next batch does.
_BETWEEN_BATCHES = 0.0002
#: The courier looks again at least this often (a retry may fall due; a `calmly outbox retry` may have run).
_COURIER_LOOK = timedelta(seconds=5)
#: How often a simulated clock on a shared store looks whether another daemon moved it.
_CLOCK_LOOK = timedelta(seconds=0.2)
#: How long the scheduler and the courier wait, claiming nothing, while the daemon's clock is too far from the
#: database's (they are woken as soon as it is back within the limit).
_HELD_BACK = timedelta(seconds=5)


def _always() -> bool:
    return True


_log = structlog.get_logger("calmly.daemon")


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


class _Budget:
    """Says enough once ``seconds`` have passed since it was first asked, which is after a batch's first deadline:
    the time a batch spends firing, not the time it waited for the store."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._ends: float | None = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if self._ends is None:
            self._ends = now + self._seconds
        return now >= self._ends


class Scheduler(_Loop):
    """Fires due deadlines through the service; sleeps until the earliest pending one or until woken."""

    def __init__(
        self,
        service: Service,
        clock: Callable[[], datetime],
        simulated: bool,
        on_fired: Callable[[], None] = lambda: None,
        claims: Callable[[], bool] = _always,
    ) -> None:
        super().__init__("scheduler", _IDLE_LOOK, simulated)
        self._service = service
        self._on_fired = on_fired
        #: Whether it may claim due deadlines now (not while the daemon's clock is too far from the database's).
        self._claims = claims
        self._clock = clock
        self._plan = threading.Lock()
        #: When it will look next, unwoken; None while it looks (or on a simulated clock): any new deadline wakes it.
        self._looks_at: datetime | None = None

    def armed(self, at: datetime) -> bool:
        """A deadline due ``at`` was committed: wake up for it (and say so), unless the scheduler looks by then
        anyway (most mentions arm deadlines hours after the earliest one, and need no turn of the scheduler)."""
        with self._plan:
            if self._looks_at is not None and at >= self._looks_at:
                return False
        self.wake()
        return True

    def _turn(self) -> float:
        with self._plan:
            self._looks_at = None
        if not self._claims():
            return _HELD_BACK.total_seconds()
        pause = self._fire()
        if not self._simulated:
            with self._plan:
                self._looks_at = self._clock() + timedelta(seconds=pause)
        return pause

    def _fire(self) -> float:
        fired_now = self._service.fire_due(enough=_Budget(_BATCH_TIME))
        if fired_now:
            self._on_fired()  # notifications are waiting in the outbox
        # Each fired deadline is measured and logged by the service, as it is when the simulated clock is moved.
        earliest, now = self._service.next_due(), self._clock()
        if fired_now and earliest is not None and earliest <= now:
            # More are due than one batch holds: the next batch at once, on a simulated clock too.
            return _BETWEEN_BATCHES
        return self._until(earliest, now)


class Courier(_Loop):
    """Routes the outbox to each role's channels and delivers what is due. Sending happens outside any
    transaction; each outcome is recorded after."""

    def __init__(self, dispatcher: Dispatcher, simulated: bool, claims: Callable[[], bool] = _always) -> None:
        super().__init__("courier", _COURIER_LOOK, simulated)
        self._dispatcher = dispatcher
        self._claims = claims

    def _turn(self) -> float:
        if not self._claims():
            return _HELD_BACK.total_seconds()
        routed = self._dispatcher.route()
        outcomes = self._dispatcher.deliver_due()
        if routed or outcomes:
            return 0.0  # there may be more
        return self._until(self._dispatcher.next_due(), self._dispatcher.now())


class ClockFollower(_Loop):
    """Keeps a simulated clock in step with the one every daemon on a shared store has: each turn it publishes this
    daemon's time (the store keeps the latest) and takes the latest, waking the loops when it moved this one."""

    def __init__(
        self,
        clock: SimulatedClock,
        shared_time: Callable[[datetime], datetime],
        on_moved: Callable[[], None],
    ) -> None:
        super().__init__("clock", _CLOCK_LOOK, simulated=True)
        self._clock = clock
        self._shared_time = shared_time
        self._on_moved = on_moved

    def _turn(self) -> float:
        if self._clock.catch_up(self._shared_time(self._clock.now())):
            self._on_moved()
        return _CLOCK_LOOK.total_seconds()
