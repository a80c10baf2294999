"""Wake-up hints between daemons on one database: a unit of work that armed a deadline or added to the outbox says
so with ``NOTIFY calmly`` in its own transaction (so it is heard only once committed), and each daemon listens on a
connection of its own and wakes its scheduler or its courier.

Each names the schema it was written in (the first of the search path), so stores that share one database in
schemas of their own wake only their own daemons. A hint carries no state: one that is lost (a daemon that was not
listening, a connection that dropped) only means the loop finds the work at its next look, as it would without
hints. After each (re)connection both loops are woken once, for whatever was hinted while nobody listened.

The other daemons' news goes the same way, on the same connection: for the desk, an incident that opened or changed
(its id, state and revision, told in the transaction that saved it), a presence beat or a sign-out (who, on which
incident, doing what, when); and a reload that took (each daemon then reloads its own files). Each names the schema
it was written in, so stores that share a database in schemas of their own do not hear each other, and the store it
came from (``origin``), so a daemon does not hear its own again: it acted on it already. A payload is a few short
fields, far under NOTIFY's 8000 bytes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog

from engine.store._codec import moment, parse_moment

__all__ = [
    "CHANNEL",
    "Beat",
    "HintListener",
    "PeerHints",
    "beat_hint",
    "deadline_hint",
    "forget_hint",
    "incident_hint",
    "outbox_hint",
    "reload_hint",
]

#: The one channel calmly notifies on.
CHANNEL = "calmly"
_DEADLINE = "deadline "
_OUTBOX = "outbox"
_IN = " in "
_DESK = "desk "
#: How long the listener waits for a hint before it looks whether it was asked to stop, in seconds.
_POLL_S = 0.5
#: How long it waits before connecting again after the connection dropped, in seconds.
_RECONNECT_S = 1.0
#: A due time before any other: a deadline hint for it wakes the scheduler whatever it planned.
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)

_log = structlog.get_logger("calmly.store")


def deadline_hint(due_at: datetime, schema: str) -> str:
    """The hint for a deadline armed due at ``due_at`` (the earliest a unit of work armed) in ``schema``."""
    return f"{_DEADLINE}{moment(due_at)}{_IN}{schema}"


def outbox_hint(schema: str) -> str:
    return f"{_OUTBOX}{_IN}{schema}"


def _scoped(rest: str, schema: str) -> tuple[bool, str]:
    """Whether a wake-up hint's ``rest`` (after its kind) is for ``schema``, and what it says besides. A hint that
    names no schema (from a calmly before they named one, which may be another team's) is not heard: hints are
    only hints, and the loops find the work at their next look."""
    said, _, named = rest.partition(_IN)
    return named == schema, said


@dataclass(frozen=True, slots=True)
class Beat:
    """A presence beat as another daemon's page sent it (see :mod:`engine.desk._presence`), its time by that
    daemon's clock."""

    incident: str
    person: str
    activity: str
    trigger: str | None
    page: str
    at: datetime


def _desk(kind: str, schema: str, origin: str, **fields: Any) -> str:
    return _DESK + json.dumps({"k": kind, "s": schema, "o": origin, **fields}, separators=(",", ":"))


def incident_hint(schema: str, origin: str, incident: str, state: str, revision: int) -> str:
    """The hint for an incident saved (opened or changed) in ``schema`` by the store ``origin``."""
    return _desk("incident", schema, origin, id=incident, state=state, rev=revision)


def beat_hint(schema: str, origin: str, beat: Beat) -> str:
    return _desk(
        "beat",
        schema,
        origin,
        inc=beat.incident,
        who=beat.person,
        act=beat.activity,
        trig=beat.trigger,
        page=beat.page,
        at=moment(beat.at),
    )


def forget_hint(schema: str, origin: str, person: str) -> str:
    return _desk("forget", schema, origin, who=person)


def reload_hint(schema: str, origin: str) -> str:
    """A reload of the playbooks and the roster took on the daemon of store ``origin``."""
    return _desk("reload", schema, origin)


@dataclass(frozen=True, slots=True)
class PeerHints:
    """What a listener tells this daemon of the others: an incident saved (id, state, revision), a presence beat
    of a page, a person signed out, a reload that took. ``origin`` is this daemon's store's, whose own hints are not
    told again."""

    origin: str
    on_incident: Callable[[str, str, int], Any]
    on_beat: Callable[[Beat], Any]
    on_forget: Callable[[str], Any]
    on_reload: Callable[[], Any] = lambda: None


def _peer_heard(desk: PeerHints, schema: str, body: str) -> None:
    """Another daemon's hint told to ``desk``, unless it is from another schema, from this daemon, or not one calmly
    wrote."""
    try:
        said = json.loads(body)
        if not isinstance(said, dict) or said.get("s") != schema or said.get("o") == desk.origin:
            return
        kind = said.get("k")
        if kind == "incident":
            desk.on_incident(str(said["id"]), str(said["state"]), int(said["rev"]))
        elif kind == "beat":
            trigger = said.get("trig")
            beat = Beat(
                str(said["inc"]),
                str(said["who"]),
                str(said["act"]),
                None if trigger is None else str(trigger),
                str(said.get("page", "")),
                parse_moment(str(said["at"])),
            )
            desk.on_beat(beat)
        elif kind == "forget":
            desk.on_forget(str(said["who"]))
        elif kind == "reload":
            desk.on_reload()
    except (ValueError, KeyError, TypeError):  # not a hint this calmly wrote: a hint lost, nothing more
        return


class HintListener:
    """``LISTEN calmly`` on a dedicated connection in a thread of its own: ``on_deadline(due_at)`` for each
    deadline hint, ``on_outbox()`` for each outbox hint, and the desk's hints to ``desk``; ``stop()`` ends it."""

    def __init__(
        self,
        url: str,
        on_deadline: Callable[[datetime], Any],
        on_outbox: Callable[[], Any],
        desk: PeerHints | None = None,
    ) -> None:
        self._url = url
        self._on_deadline = on_deadline
        self._on_outbox = on_outbox
        self._desk = desk
        self._schema = ""
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
                    found = db.execute("SELECT current_schema()").fetchone()
                    self._schema = str(found[0]) if found and found[0] is not None else ""
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
            ours, said = _scoped(payload[len(_DEADLINE) :], self._schema)
            try:
                due_at = parse_moment(said)
            except ValueError:
                return
            if ours:
                self._on_deadline(due_at)
        elif payload.startswith(_OUTBOX):
            ours, said = _scoped(payload[len(_OUTBOX) :], self._schema)
            if ours and not said:
                self._on_outbox()
        elif payload.startswith(_DESK) and self._desk is not None:
            _peer_heard(self._desk, self._schema, payload[len(_DESK) :])
