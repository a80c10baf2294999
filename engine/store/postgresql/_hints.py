"""Wake-up hints between daemons on one database: a unit of work that armed a deadline or added to the outbox says
so with ``NOTIFY calmly`` in its own transaction (so it is heard only once committed), and each daemon listens on a
connection of its own and wakes its scheduler or its courier.

A hint carries no state: one that is lost (a daemon that was not listening, a connection that dropped) only means
the loop finds the work at its next look, as it would without hints. After each (re)connection both loops are woken
once, for whatever was hinted while nobody listened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog

from engine.store._codec import moment, parse_moment

__all__ = ["CHANNEL", "HintListener", "deadline_hint", "outbox_hint"]

#: The one channel calmly notifies on.
CHANNEL = "calmly"
_DEADLINE = "deadline "
_OUTBOX = "outbox"
#: How long the listener waits for a hint before it looks whether it was asked to stop, in seconds.
_POLL_S = 0.5
#: How long it waits before connecting again after the connection dropped, in seconds.
_RECONNECT_S = 1.0
#: A due time before any other: a deadline hint for it wakes the scheduler whatever it planned.
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)

_log = structlog.get_logger("calmly.store")


def deadline_hint(due_at: datetime) -> str:
    """The hint for a deadline armed due at ``due_at`` (the earliest a unit of work armed)."""
    return f"{_DEADLINE}{moment(due_at)}"


def outbox_hint() -> str:
    return _OUTBOX


class HintListener:
    """``LISTEN calmly`` on a dedicated connection in a thread of its own: ``on_deadline(due_at)`` for each
    deadline hint, ``on_outbox()`` for each outbox hint; ``stop()`` ends it."""

    def __init__(self, url: str, on_deadline: Callable[[datetime], Any], on_outbox: Callable[[], Any]) -> None:
        self._url = url
        self._on_deadline = on_deadline
        self._on_outbox = on_outbox
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calmly-hints", daemon=True)
        #: Set each time it is listening (after a (re)connection): for tests and logs.
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as db:
                    db.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._on_deadline(_LONG_AGO)  # whatever was hinted while nobody listened
                    self._on_outbox()
                    while not self._stop.is_set():
                        for hint in db.notifies(timeout=_POLL_S):
                            self._heard(hint.payload)
            except psycopg.Error as error:  # the database went away: the loops poll meanwhile; listen again later
                self.listening.clear()
                _log.warning("not listening for hints; the loops look by themselves", error=f"{error}".strip()[:200])
                self._stop.wait(_RECONNECT_S)

    def _heard(self, payload: str) -> None:
        if payload.startswith(_DEADLINE):
            try:
                due_at = parse_moment(payload[len(_DEADLINE) :])
            except ValueError:
                return
            self._on_deadline(due_at)
        elif payload == _OUTBOX:
            self._on_outbox()
