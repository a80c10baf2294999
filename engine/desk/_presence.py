"""Who else has an incident open: the presence registry, and the beat an incident page sends it.

An incident page says where its person is (``POST /desk/presence``): ``viewing`` when it opens and every
:data:`BEAT_SECONDS` while it stays open, ``drafting`` with the action's trigger once they type in one of its
forms, ``left`` when the page goes. Each page load names itself, so the ``left`` of a page that another followed (an
action sent, the page back with its answer) does not take its person off. The registry keeps each person's last
beat on each incident and forgets it :data:`EXPIRES_AFTER` later, so a page shut without a word (a laptop closed, a
connection lost) stops being shown within a minute. Every change of who is on an incident is announced through the
change feed; each page's stream then reads who is there now, leaving out the person the page is for. Two people
about to answer one customer see each other before either sends.

The registry is told the time and reads no clock. :class:`MemoryPresence` lives in one daemon's memory; several
daemons over one database each keep one inside a :class:`~engine.desk.SharedPresence` (the same methods,
:class:`PresenceRegistry`), which tells the others every beat and sign-out and hears theirs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.api._context import ApiContext, Context
from engine.desk._session import Visitor, csrf_matches, visitor
from engine.service import Roster

__all__ = [
    "BEAT_SECONDS",
    "EXPIRES_AFTER",
    "Activity",
    "MemoryPresence",
    "Presence",
    "PresenceRegistry",
    "others_everywhere",
    "others_on",
    "registry_of",
    "router",
    "tidy",
]

#: How often an open incident page says it is still open.
BEAT_SECONDS = 20
#: A beat counts this long: two beats missed and a little more, so one slow request does not drop a person.
EXPIRES_AFTER = timedelta(seconds=45)
#: A beat is a few short fields: anything longer is not one.
_LONGEST = 4096
_TRIGGER = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PAGE = re.compile(r"[A-Za-z0-9_-]{0,64}")


class Activity(StrEnum):
    """What a person is doing on an incident: looking at it, or typing in one of its action forms. ``left`` is
    only ever sent: the person is then no longer there."""

    VIEWING = "viewing"
    DRAFTING = "drafting"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Presence:
    """One person on one incident: what they are doing, and for ``drafting`` the action whose form they type in."""

    person: str
    activity: Activity
    trigger: str | None = None


class PresenceRegistry(Protocol):
    """Who is on which incident, from the beats their pages send; an entry lasts :data:`EXPIRES_AFTER` past its
    last beat. Every change of who is on an incident, or of what they do there, is announced (its incident id)."""

    def beat(self, incident: str, presence: Presence, now: datetime, page: str = "") -> None:
        """A beat of the person's page ``page``: they are there, doing ``presence.activity``. ``left`` takes them
        off only when ``page`` is the page that beat last (a page that says it left after its next one opened is
        not heard); a beat without a page always counts."""
        ...

    def forget(self, person: str) -> None:
        """The person signed out or was taken off the roster: gone from every incident at once."""
        ...

    def sweep(self, now: datetime) -> None:
        """Drop the entries whose last beat is too old, announcing the incidents they leave."""
        ...

    def people(self, now: datetime) -> frozenset[str]:
        """Everyone on some incident at ``now``."""
        ...

    def others(self, incident: str, person: str, now: datetime) -> tuple[Presence, ...]:
        """Who else than ``person`` is on the incident at ``now``, by person id."""
        ...

    def around(self, person: str, now: datetime) -> Mapping[str, tuple[Presence, ...]]:
        """For each incident someone else than ``person`` is on at ``now``, who (as :meth:`others` says)."""
        ...


def _nobody_listens(_incident: str) -> None:
    return None


class MemoryPresence:
    """The presence registry of one daemon: in its memory, safe to use from any thread. ``announce`` is told the
    id of each incident whose company changed (the change feed's ``publish_presence``), outside the registry's
    lock and after the change."""

    def __init__(
        self, announce: Callable[[str], None] = _nobody_listens, expires_after: timedelta = EXPIRES_AFTER
    ) -> None:
        self._announce = announce
        self._expires_after = expires_after
        self._lock = threading.Lock()
        #: incident -> person -> (what they do, their last beat, the page it came from)
        self._beats: dict[str, dict[str, tuple[Presence, datetime, str]]] = {}

    def _live(self, beaten: datetime, now: datetime) -> bool:
        return now - beaten < self._expires_after

    def _expire(self, now: datetime) -> set[str]:
        """Under the lock: the old entries dropped; the incidents they were on."""
        changed = set()
        for incident, there in list(self._beats.items()):
            for person, (_, beaten, _page) in list(there.items()):
                if not self._live(beaten, now):
                    del there[person]
                    changed.add(incident)
            if not there:
                del self._beats[incident]
        return changed

    def _tell(self, incidents: Iterable[str]) -> None:
        for incident in sorted(incidents):
            self._announce(incident)

    def beat(self, incident: str, presence: Presence, now: datetime, page: str = "") -> None:
        with self._lock:
            changed = self._expire(now)  # a beat is also a sweep: expiry is noticed whenever anyone is about
            there = self._beats.setdefault(incident, {})
            before = there.get(presence.person)
            if presence.activity is Activity.LEFT:
                if before is not None and (not page or not before[2] or before[2] == page):
                    del there[presence.person]
                    changed.add(incident)
            else:
                there[presence.person] = (presence, now, page)
                if before is None or before[0] != presence:
                    changed.add(incident)
            if not there:
                del self._beats[incident]
        self._tell(changed)

    def forget(self, person: str) -> None:
        with self._lock:
            changed = {incident for incident, there in self._beats.items() if there.pop(person, None) is not None}
            for incident in changed:
                if not self._beats[incident]:
                    del self._beats[incident]
        self._tell(changed)

    def sweep(self, now: datetime) -> None:
        with self._lock:
            changed = self._expire(now)
        self._tell(changed)

    def people(self, now: datetime) -> frozenset[str]:
        with self._lock:
            return frozenset(
                person
                for there in self._beats.values()
                for person, (_, beaten, _page) in there.items()
                if self._live(beaten, now)
            )

    def others(self, incident: str, person: str, now: datetime) -> tuple[Presence, ...]:
        with self._lock:
            there = dict(self._beats.get(incident, {}))
        return tuple(
            presence
            for someone, (presence, beaten, _page) in sorted(there.items())
            if someone != person and self._live(beaten, now)
        )

    def around(self, person: str, now: datetime) -> Mapping[str, tuple[Presence, ...]]:
        with self._lock:
            incidents = list(self._beats)
        found = {incident: self.others(incident, person, now) for incident in incidents}
        return {incident: present for incident, present in found.items() if present}


def tidy(registry: PresenceRegistry, roster: Roster, now: datetime) -> None:
    """The registry as the desk shows it: old beats swept, and anyone no longer in the roster forgotten."""
    registry.sweep(now)
    for person in registry.people(now):
        if roster.person(person) is None:
            registry.forget(person)


# --- on the pages ------------------------------------------------------------------------------------------------


def registry_of(request: Request) -> PresenceRegistry | None:
    """The registry the desk's app was built with (:func:`engine.desk.create_web_app`); None on an app without."""
    found: PresenceRegistry | None = getattr(request.app.state, "presence", None)
    return found


def _shown(present: Iterable[Presence], roster: Roster) -> list[dict[str, str | None]]:
    """Who is there as a page shows them: with their name from the roster; someone no longer in it is not shown."""
    shown: list[dict[str, str | None]] = []
    for presence in present:
        member = roster.person(presence.person)
        if member is None:
            continue
        shown.append(
            {
                "person": presence.person,
                "name": member.name or presence.person,
                "activity": presence.activity.value,
                "trigger": presence.trigger,
            }
        )
    return shown


def others_on(request: Request, context: ApiContext, seen: Visitor, incident: str) -> list[dict[str, str | None]]:
    """Who else than the visitor is on the incident now, as the page shows them."""
    registry = registry_of(request)
    if registry is None:
        return []
    return _shown(registry.others(incident, seen.person, context.clock()), context.roster)


def others_everywhere(request: Request, context: ApiContext, seen: Visitor) -> dict[str, list[dict[str, str | None]]]:
    """For the queue: for each incident someone else is on, who, as the page shows them."""
    registry = registry_of(request)
    if registry is None:
        return {}
    around = registry.around(seen.person, context.clock())
    found = {incident: _shown(present, context.roster) for incident, present in around.items()}
    return {incident: shown for incident, shown in found.items() if shown}


# --- the beat ----------------------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


def _refused(status: int, words: str) -> JSONResponse:
    return JSONResponse({"problem": words}, status_code=status)


def _doing(posted: Mapping[str, str]) -> tuple[Activity, str | None] | str:
    """What the beat says the person does, and on which action's form; or what is wrong with it, in words."""
    activity = posted.get("activity", "")
    if activity not in {kind.value for kind in Activity}:
        return "Say what you are doing on the incident: viewing, drafting or left."
    if activity != Activity.DRAFTING:
        return Activity(activity), None
    trigger = posted.get("trigger", "").strip() or None
    if trigger is not None and _TRIGGER.fullmatch(trigger) is None:
        return "That is not an action of the incident's playbook; open the incident page again."
    return Activity.DRAFTING, trigger


def _beat(  # noqa: PLR0917 - the beat's parts, each by name
    request: Request, context: ApiContext, seen: Visitor, incident: str, doing: tuple[Activity, str | None], page: str
) -> JSONResponse:
    if context.service.store.incident(incident) is None:
        return _refused(404, f"There is no incident {incident!r}; open one from the queue.")
    registry = registry_of(request)
    if registry is None:
        return _refused(404, "This desk does not show who else has an incident open.")
    now = context.clock()
    registry.beat(incident, Presence(seen.person, *doing), now, page)
    tidy(registry, context.roster, now)
    return JSONResponse({"incident": incident, "present": others_on(request, context, seen, incident)})


@router.post("/desk/presence")
async def beat(request: Request, context: Context) -> JSONResponse:
    """An incident page's beat (form fields ``csrf``, ``incident``, ``activity``, ``trigger``, ``page``); the
    answer is who else is on the incident now, as its ``presence`` event would say."""
    seen = await run_in_threadpool(visitor, request, context)
    if seen is None:
        return JSONResponse({"problem": "Sign in to the desk first.", "signed_in": False}, status_code=401)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > _LONGEST:
        return _refused(413, "That is not a beat of the incident page; open the page again.")
    form = await request.form()
    posted = {name: value for name, value in form.items() if isinstance(value, str)}
    if not csrf_matches(seen, posted.get("csrf")):
        return _refused(403, "This was not sent from the desk's own page (or is from an old session); open it again.")
    incident = posted.get("incident", "").strip()
    if not incident:
        return _refused(422, "Say which incident you have open; open it from the queue.")
    doing = _doing(posted)
    if isinstance(doing, str):
        return _refused(422, doing)
    page = posted.get("page", "")
    if _PAGE.fullmatch(page) is None:
        return _refused(422, "That is not a beat of the incident page; open the page again.")
    return await run_in_threadpool(_beat, request, context, seen, incident, doing, page)
