"""Who is on which incident across several daemons over one database: each daemon's registry in its own memory,
told the beats of the other daemons' pages as well as its own.

A beat (or a sign-out) on this daemon goes to its own registry and, as a hint, to the other daemons (through the
database: PostgreSQL's NOTIFY); a hint heard from another daemon goes to this registry as if one of its own pages
had beaten, at the time that daemon's clock gave it. Each registry forgets a person :data:`EXPIRES_AFTER` after
their last beat, wherever it was sent, and announces a change to its own pages. A hint that is lost (a daemon that
was not listening) is made good by the next beat of the same page, within :data:`BEAT_SECONDS`; nothing about
presence needs keeping through a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from engine.desk._presence import EXPIRES_AFTER, MemoryPresence, Presence

__all__ = ["SharedPresence"]


class SharedPresence:
    """A :class:`~engine.desk.PresenceRegistry` over the daemon's own :class:`MemoryPresence` that tells each beat
    and sign-out to the other daemons (``tell_beat``, ``tell_forget``) and hears theirs (:meth:`heard_beat`,
    :meth:`heard_forget`, which are not told on again)."""

    def __init__(
        self,
        tell_beat: Callable[[str, Presence, datetime, str], None],
        tell_forget: Callable[[str], None],
        announce: Callable[[str], None],
        expires_after: timedelta = EXPIRES_AFTER,
    ) -> None:
        self._local = MemoryPresence(announce, expires_after)
        self._tell_beat = tell_beat
        self._tell_forget = tell_forget

    def beat(self, incident: str, presence: Presence, now: datetime, page: str = "") -> None:
        self._local.beat(incident, presence, now, page)
        self._tell_beat(incident, presence, now, page)

    def forget(self, person: str) -> None:
        self._local.forget(person)
        self._tell_forget(person)

    def heard_beat(self, incident: str, presence: Presence, at: datetime, page: str = "") -> None:
        """Another daemon's page beat at ``at`` (by that daemon's clock)."""
        self._local.beat(incident, presence, at, page)

    def heard_forget(self, person: str) -> None:
        """The person signed out through another daemon, or was taken off the roster there."""
        self._local.forget(person)

    def sweep(self, now: datetime) -> None:
        self._local.sweep(now)

    def people(self, now: datetime) -> frozenset[str]:
        return self._local.people(now)

    def others(self, incident: str, person: str, now: datetime) -> tuple[Presence, ...]:
        return self._local.others(incident, person, now)

    def around(self, person: str, now: datetime) -> Mapping[str, tuple[Presence, ...]]:
        return self._local.around(person, now)
