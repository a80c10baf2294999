"""What one recorded incident tells a report: its response times, each target's verdict, the time spent in each
state, the escalations sent, the promises, the refusals, the do-not-engage reason and the review answers.

Read from the incident's history (the audit entries the runtime wrote with each command), never by replaying it:
a report over 100,000 incidents reads, it does not recompute. Business hours are counted on the calendar of the
playbook version the incident opened under (its rulebook), where that calendar applies; ``as_of`` is the moment
the report is made, for what is still running.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.incident import ClockId, ClockKind, DeadlineKey, Rulebook, TimeCounter
from engine.playbook import LIFECYCLE, AnswerKind
from engine.report._rulebooks import Figure, Pinned
from engine.store import RecordedIncident

__all__ = ["Case", "Duration", "PromiseOutcome", "PromiseVerdict", "Refusal", "TargetOutcome", "Verdict", "case_of"]

_ACKNOWLEDGED, _RESOLVED = "acknowledged", "resolved"
_REPLY_FIELDS = ("public_reply", "contact_route")
_ZERO = timedelta(0)


class Verdict(enum.StrEnum):
    """How one run of a target ended: met in time, met after its time, missed (its time passed and it was never
    met), stopped without a verdict (a side path before its time), or still running within its time."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    STOPPED = "stopped"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class Duration:
    """A span in calendar time, and in the open hours of the playbook's calendar where one applies (else None)."""

    calendar: timedelta
    business: timedelta | None = None


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    target: str
    verdict: Verdict
    #: How far past its time it was met, stopped or (still running) is now; None when it was not late.
    late_by: timedelta | None = None


class PromiseVerdict(enum.StrEnum):
    """How a promise stands: kept on time, kept after its due time, broken (not kept and past due) or open (not
    kept, not yet due)."""

    KEPT = "kept"
    KEPT_LATE = "kept_late"
    BROKEN = "broken"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class PromiseOutcome:
    kind: str
    verdict: PromiseVerdict
    late_by: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """An action the rules refused and the team may learn from: why, and for a house rule the phrase it stopped."""

    trigger: str
    reason: str
    phrase: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """One incident, as the figures count it."""

    id: str
    playbook: str
    playbook_version: int
    severity: str
    channel: str
    state: str
    final: bool
    opened_at: datetime
    closed_at: datetime | None
    roles: frozenset[str]
    first_response: Duration | None
    resolution: Duration | None
    next_responses: tuple[Duration, ...]
    targets: tuple[TargetOutcome, ...]
    state_time: Mapping[str, timedelta]
    #: Escalations sent, each as (the clock it ran on, the step's words: ``75%``, ``100%`` …).
    escalations: tuple[tuple[str, str], ...]
    do_not_engage: str | None
    refusals: tuple[Refusal, ...]
    promises: tuple[PromiseOutcome, ...]
    resolved: bool
    #: The review's answers by question id, as given; None when it was never reviewed.
    review: Mapping[str, Any] | None
    #: The kind of answer each question of the playbook takes, by id (``yes_no``, ``text`` …), in its order.
    questions: Mapping[str, str]


def _moment(entry: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["at"]))


def _span(start: datetime, end: datetime, counter: TimeCounter | None) -> Duration:
    return Duration(end - start, None if counter is None else counter.elapsed(start, end))


def _replied(details: Mapping[str, Any]) -> bool:
    """Whether a move answered the customer: a public reply or a private contact, or the move into
    ``acknowledged``, which the lifecycle makes the first answer."""
    fields = details.get("fields") or {}
    return any(name in fields for name in _REPLY_FIELDS) or details.get("to") == _ACKNOWLEDGED


class _Targets:
    """Each target's runs, as its history entries tell them: a breach, then met, stopped, or nothing yet."""

    def __init__(self) -> None:
        self.outcomes: list[TargetOutcome] = []
        self._breached: dict[str, datetime] = {}  # clock -> due_at, for a run past its time and not yet over

    def breach(self, clock: str, details: Mapping[str, Any]) -> None:
        self._breached[clock] = datetime.fromisoformat(str(details["due_at"]))

    def ended(self, kind: str, details: Mapping[str, Any], at: datetime) -> None:
        clock = str(details["clock"])
        self._breached.pop(clock, None)
        late_from = datetime.fromisoformat(str(details.get("judged_from") or details["due_at"]))
        late = bool(details.get("late")) and at > late_from
        if kind == "target_met":
            verdict = Verdict.LATE if late else Verdict.ON_TIME
        else:
            verdict = Verdict.MISSED if late else Verdict.STOPPED
        self.outcomes.append(TargetOutcome(clock, verdict, at - late_from if late else None))

    def close(self, until: datetime, running: Iterable[tuple[str, datetime]]) -> tuple[TargetOutcome, ...]:
        """The runs still going at ``until``: missed by now if their time has passed, else running."""
        for clock, due_at in self._breached.items():
            self.outcomes.append(TargetOutcome(clock, Verdict.MISSED, max(until - due_at, _ZERO)))
        for clock, due_at in running:
            if clock not in self._breached:
                late = until > due_at
                verdict = Verdict.MISSED if late else Verdict.RUNNING
                self.outcomes.append(TargetOutcome(clock, verdict, until - due_at if late else None))
        return tuple(self.outcomes)


def _step_words(book: Rulebook | None, step: int) -> str:
    if step < 0:
        return "100%"
    if book is None or step >= len(book.playbook.escalation):
        return f"step {step + 1}"
    return f"{book.playbook.escalation[step].after * 100:g}%"


@functools.lru_cache(maxsize=1024)
def _sent(book: Rulebook | None, clock: str, step: str) -> tuple[str, str] | None:
    """An escalation's clock and step words, from the parts of its key past the incident's id: the same few
    for every incident, so worked out once each."""
    key = DeadlineKey.parse(f"i/{clock}/0/{step}/0")
    return None if key is None else (key.clock.escalation_kind, _step_words(book, key.step))


def _escalation(book: Rulebook | None, details: Mapping[str, Any]) -> tuple[str, str] | None:
    parts = str(details.get("key", "")).rsplit("/", 4)  # read from the right: an incident's id may hold a /
    return None if len(parts) != 5 else _sent(book, parts[1], parts[3])


def _questions(book: Rulebook | None, review: Mapping[str, Any] | None) -> dict[str, str]:
    if book is not None:
        return {question.id: str(question.answer) for question in book.playbook.review_questions}
    guessed: dict[str, str] = {}
    for name, value in (review or {}).items():  # no playbook to ask: judged by the answers themselves
        if isinstance(value, bool) or value in ("yes", "no"):
            guessed[name] = str(AnswerKind.YES_NO)
        elif isinstance(value, int | float):
            guessed[name] = str(AnswerKind.NUMBER)
        else:
            guessed[name] = str(AnswerKind.TEXT)
    return guessed


def _refusal(details: Mapping[str, Any], book: Rulebook | None) -> Refusal:
    reason = str(details.get("reason", ""))
    phrase = details.get("phrase")
    if phrase is None and reason == "house_rule" and book is not None:
        # Entries written before the phrase was kept: the house rules find it again in the refused reply.
        reply = (details.get("fields") or {}).get("public_reply")
        text = reply.get("text") if isinstance(reply, Mapping) else reply
        phrase = book.never_say.find(text) if isinstance(text, str) else None
    return Refusal(str(details.get("trigger", "")), reason, None if phrase is None else str(phrase))


def _promises(recorded: RecordedIncident, as_of: datetime) -> tuple[PromiseOutcome, ...]:
    outcomes = []
    for promise in recorded.incident.promises:
        if promise.kept_at is not None:
            late = promise.kept_at - promise.due_at
            if late > _ZERO:
                outcomes.append(PromiseOutcome(promise.kind, PromiseVerdict.KEPT_LATE, late))
            else:
                outcomes.append(PromiseOutcome(promise.kind, PromiseVerdict.KEPT))
        elif as_of > promise.due_at:
            outcomes.append(PromiseOutcome(promise.kind, PromiseVerdict.BROKEN, as_of - promise.due_at))
        else:
            outcomes.append(PromiseOutcome(promise.kind, PromiseVerdict.OPEN))
    return tuple(outcomes)


class _Walk:
    """One pass over an incident's history, in order, keeping what the figures need."""

    def __init__(self, recorded: RecordedIncident, pinned: Pinned | None) -> None:
        incident = recorded.incident
        self.recorded, self.pinned = recorded, pinned
        self.book = None if pinned is None else pinned.book
        self.opened = incident.opened_at
        self.state, self.since = LIFECYCLE[0], incident.opened_at
        self.state_time: dict[str, timedelta] = {}
        self.first: Duration | None = None
        self.resolution: Duration | None = None
        self.closed_at: datetime | None = None
        self.waiting_since: datetime | None = None  # a follow-up after the first response, not answered yet
        self.next_responses: list[Duration] = []
        self.targets = _Targets()
        self.escalations: list[tuple[str, str]] = []
        self.refusals: list[Refusal] = []
        self.do_not_engage: str | None = None
        self.roles: set[str] = set()

    def counter(self, figure: Figure) -> TimeCounter | None:
        return None if self.pinned is None else self.pinned.counter(figure, self.recorded.incident.severity)

    def walk(self) -> None:
        for event in self.recorded.events:
            if event.kind == "act":
                self.roles.update(str(role) for role in event.command.get("roles", ()))
            for entry in event.history:
                self.entry(entry)

    def entry(self, entry: Mapping[str, Any]) -> None:
        kind = entry.get("kind")
        details: Mapping[str, Any] = entry.get("details") or {}
        if kind in ("transition", "reopened"):
            self.moved(_moment(entry), details, reopened=kind == "reopened")
        elif kind == "mention" and self.first is not None and self.waiting_since is None:
            self.waiting_since = _moment(entry)
        elif kind == "breach" and ClockId.parse(str(details.get("clock", ""))).kind is ClockKind.TARGET:
            self.targets.breach(str(details["clock"]), details)
        elif kind in ("target_met", "target_stopped"):
            self.targets.ended(str(kind), details, _moment(entry))
        elif kind == "escalation":
            sent = _escalation(self.book, details)
            if sent is not None:
                self.escalations.append(sent)
        elif kind == "refused":
            self.refusals.append(_refusal(details, self.book))

    def moved(self, at: datetime, details: Mapping[str, Any], *, reopened: bool) -> None:
        self.state_time[self.state] = self.state_time.get(self.state, _ZERO) + (at - self.since)
        self.state, self.since = str(details["to"]), at
        if reopened:
            return
        if _replied(details) or (self.waiting_since is not None and self.state == _RESOLVED):
            # A follow-up is answered by the next reply, or by resolving the case (as next_response targets end).
            if self.first is None:
                self.first = _span(self.opened, at, self.counter("first"))
            elif self.waiting_since is not None:
                self.next_responses.append(_span(self.waiting_since, at, self.counter("next")))
            self.waiting_since = None
        if self.state == _RESOLVED and self.resolution is None:
            self.resolution = _span(self.opened, at, self.counter("resolution"))
        fields = details.get("fields") or {}
        if "reason" in fields and self.state not in LIFECYCLE:
            self.do_not_engage = str(fields["reason"])
        if self.recorded.final and (self.book.is_final(self.state) if self.book is not None else True):
            self.closed_at = at


def case_of(recorded: RecordedIncident, pinned: Pinned | None, as_of: datetime) -> Case:
    """What ``recorded`` tells the figures, on its own playbook version ``pinned`` (None: not known, so no business
    hours and no step thresholds), as of ``as_of``."""
    walk = _Walk(recorded, pinned)
    walk.walk()
    incident = recorded.incident
    closed_at = walk.closed_at
    if recorded.final and closed_at is None:
        closed_at = walk.since  # a final state entered some other way (a merge): when the last state began
    if not recorded.final:
        walk.state_time[walk.state] = walk.state_time.get(walk.state, _ZERO) + max(as_of - walk.since, _ZERO)
    running = [
        (clock.name, clock.due_at) for clock in incident.clocks if ClockId.parse(clock.name).kind is ClockKind.TARGET
    ]
    review = incident.facts.get("review")
    answers = dict(review) if isinstance(review, Mapping) else None
    return Case(
        id=incident.id,
        playbook=incident.playbook,
        playbook_version=incident.playbook_version,
        severity=incident.severity,
        channel=incident.channel,
        state=incident.state,
        final=recorded.final,
        opened_at=incident.opened_at,
        closed_at=closed_at,
        roles=frozenset(walk.roles),
        first_response=walk.first,
        resolution=walk.resolution,
        next_responses=tuple(walk.next_responses),
        targets=walk.targets.close(closed_at or as_of, running),
        state_time=walk.state_time,
        escalations=tuple(walk.escalations),
        do_not_engage=walk.do_not_engage,
        refusals=tuple(walk.refusals),
        promises=_promises(recorded, closed_at or as_of),
        resolved=walk.resolution is not None,
        review=answers,
        questions=_questions(walk.book, answers),
    )
