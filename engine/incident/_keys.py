"""How clocks and their deadlines are named: a clock's id and a deadline's key, each built and read in one place.

Their text forms are what the store keeps and what people and receivers see (events, deadlines, notifications,
JSON), so they never change: a state's limit is ``limit:<state>``, a promise's clock ``promise:<promise id>`` and a
target is its own name; a deadline's key is
``<incident>/<clock>/<run>/<step or breach>/<repetition>``. State and target names are lower-case letters, digits
and underscores (the schema), so neither holds a ``/`` or a ``:``, and a promise's id is ``<offer kind>-<number>``;
an incident id may hold either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from engine.playbook import LIMIT_CLOCK, PROMISE_CLOCK

__all__ = ["ClockId", "ClockKind", "DeadlineKey", "event_key"]

_LIMIT_PREFIX = LIMIT_CLOCK + ":"
_PROMISE_PREFIX = PROMISE_CLOCK + ":"
_BREACH = "breach"


class ClockKind(enum.StrEnum):
    """A state's time limit, an end-to-end target that runs across states, or the time to deliver a promise."""

    LIMIT = LIMIT_CLOCK
    TARGET = "target"
    PROMISE = PROMISE_CLOCK


@dataclass(frozen=True, slots=True)
class ClockId:
    """Which clock: a state's limit (``name`` is the state), a target (``name`` is the target's) or a promise's
    (``name`` is the promise's id)."""

    kind: ClockKind
    name: str

    @classmethod
    def limit(cls, state: str) -> ClockId:
        return cls(ClockKind.LIMIT, state)

    @classmethod
    def target(cls, name: str) -> ClockId:
        return cls(ClockKind.TARGET, name)

    @classmethod
    def promise(cls, promise_id: str) -> ClockId:
        return cls(ClockKind.PROMISE, promise_id)

    @classmethod
    def parse(cls, text: str) -> ClockId:
        """The clock a text form names: ``limit:<state>``, ``promise:<promise id>`` or a target's name."""
        if text.startswith(_LIMIT_PREFIX):
            return cls(ClockKind.LIMIT, text[len(_LIMIT_PREFIX) :])
        if text.startswith(_PROMISE_PREFIX):
            return cls(ClockKind.PROMISE, text[len(_PROMISE_PREFIX) :])
        return cls(ClockKind.TARGET, text)

    @property
    def offer_kind(self) -> str | None:
        """The kind of offer a promise's clock counts for (its id is ``<kind>-<number>``); None for other clocks."""
        return self.name.rpartition("-")[0] if self.kind is ClockKind.PROMISE else None

    @staticmethod
    def is_promise(text: str) -> bool:
        """Whether a clock's text form is a promise's: asked on every clock at every move, so without a parse."""
        return text.startswith(_PROMISE_PREFIX)

    @property
    def escalation_kind(self) -> str:
        """What an escalation step's ``clocks`` filter names this clock by: ``limit``, ``promise`` or the target's
        name."""
        return self.name if self.kind is ClockKind.TARGET else self.kind.value

    def __str__(self) -> str:
        if self.kind is ClockKind.TARGET:
            return self.name
        return f"{self.kind.value}:{self.name}"


class DeadlineKey(NamedTuple):
    """One pending deadline: stable across retries and restarts, so a deadline that fires twice is one deadline.

    ``run`` is the clock's epoch (the incident's revision when the clock started), ``step`` the escalation step's
    index or -1 for the bare breach. A named tuple, not a dataclass: the runtime makes keys on every command, and
    builds their text through :meth:`text` without making one at all.
    """

    incident: str
    clock: ClockId
    run: int
    step: int
    repetition: int

    @staticmethod
    def text(incident: str, clock: str, run: int, step: int, repetition: int) -> str:
        """The text form of a key, from a clock's text form: what :meth:`__str__` gives, without building a key."""
        return f"{incident}/{clock}/{run}/{_BREACH if step < 0 else step}/{repetition}"

    @classmethod
    def parse(cls, text: str) -> DeadlineKey | None:
        """The key a text form holds, or None when it is not one (read from the right: ids may hold ``/``)."""
        parts = text.rsplit("/", 4)
        if len(parts) != 5:
            return None
        incident, clock, run, step, repetition = parts
        if not (incident and clock and _is_count(run) and _is_count(repetition)):
            return None
        if step == _BREACH:
            index = -1
        elif _is_count(step):
            index = int(step)
        else:
            return None
        return cls(incident, ClockId.parse(clock), int(run), index, int(repetition))

    @staticmethod
    def clock_in(text: str, incident: str) -> str | None:
        """The clock's text form in a key of ``incident``'s, or None when the key is not one of its: all a due
        deadline needs to find its clock, read without making a key (the caller compares the whole text after)."""
        head = incident + "/"
        if not text.startswith(head):
            return None
        return text[len(head) :].split("/", 1)[0]

    def __str__(self) -> str:
        return self.text(self.incident, str(self.clock), self.run, self.step, self.repetition)


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdecimal()


def event_key(incident: str, event: str, occasion: str, rule: int) -> str:
    """The key of a notification for an event: ``<incident>/event/<event>/<occasion>/r<rule>``.

    ``occasion`` tells one happening of the event from another (the incident's revision after it, or the clock run
    that breached), ``rule`` is the ``notify_on`` rule's place in the playbook. Stable across retries, like a
    deadline's key, and never read as one: its last part is not a count.
    """
    return f"{incident}/event/{event}/{occasion}/r{rule}"
