"""The daemon's work, without HTTP or threads: take mentions, let people act, fire due deadlines, rebuild incidents.

Each change is the pure runtime's ``step`` plus one unit of work in the store: the command appended to the
incident's event log, the incident's row, its deadlines armed or cancelled, its notifications put in the outbox.
The time comes from the ``clock`` passed in, so tests and simulations drive it by hand. The policies live beside
this class, one concern each: intake (:mod:`engine.service._intake`), applying a step
(:mod:`engine.service._applying`), firing due deadlines in batches (:mod:`engine.service._firing`) and replaying
the log (:mod:`engine.service._replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from engine.errors import Conflict, NotFound, Replayed
from engine.incident import (
    Act,
    Actor,
    AddNote,
    DraftReply,
    Incident,
    Mention,
    RefusalReason,
    Refused,
    Rulebook,
    SetOwner,
    filled_replies,
    mend_mention,
    standing,
    step,
)
from engine.service import metrics
from engine.service._applying import apply_step, available_actions
from engine.service._firing import DEADLINE_BATCH, fire_batch
from engine.service._intake import intake, parse_mentions
from engine.service._library import Library
from engine.service._moments import clock_zone_name
from engine.service._outcomes import ActResult, Change, FiredDeadline, IncidentDetails, IntakeResult, IntakeStatus
from engine.service._replay import rebuild
from engine.service._signing import TOLERANCE as SIGNATURE_TOLERANCE
from engine.service._tokens import TokenProblem, verify_token
from engine.store import (
    AttemptCommand,
    EventKind,
    IncidentFilter,
    IncidentRow,
    Store,
    Tally,
    TokenRecord,
    UnitOfWork,
    encode_command,
    plain,
)

__all__ = ["Replies", "Sent", "Service"]


_log = structlog.get_logger("calmly.service")


@dataclass(frozen=True, slots=True)
class Sent:
    """One request's mentions, as :meth:`Service.ingest` takes them."""

    items: Sequence[Any]
    receipt: tuple[str, datetime] | None = None
    all_or_nothing: bool = False


@dataclass(frozen=True, slots=True)
class Replies:
    """An action's replies from the playbook, filled in for one incident; ``required``: a public reply for it must
    be one of them, word for word."""

    trigger: str
    texts: tuple[str, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class _Parsed:
    items: list[Any]
    parsed: list[Mention | IntakeResult]
    receipt: tuple[str, datetime] | None
    now: datetime


#: How many times a unit of work of intake is tried when another daemon's crosses it (see ingest_together).
_INTAKE_ATTEMPTS = 3
#: Refusals kept in the incident's history as attempts that changed nothing, so the team can learn from them: the
#: rules' own verdicts on what someone tried. A stale revision, a field left blank or a mistyped action is not one.
LEARNED_FROM = frozenset({RefusalReason.HOUSE_RULE, RefusalReason.WRONG_CHANNEL, RefusalReason.ROLE_NOT_ALLOWED})


def _record_attempt(tx: UnitOfWork, incident: Incident, command: Act, refused: Refused, now: datetime) -> None:
    """The refused action in the incident's log and history; the incident's row stays as it was."""
    attempt = AttemptCommand(command.trigger, command.actor, command.fields, refused.reason.value, refused.message)
    entry = {
        "at": now.isoformat(),
        "kind": "refused",
        "summary": f"{command.trigger} refused, nothing changed: {refused.message}",
        "actor": command.actor.person,
        "details": {
            "trigger": command.trigger,
            "reason": refused.reason.value,
            "field": refused.field,
            "fields": plain(dict(command.fields)),
            # The house rule's phrase that stopped it, as the playbook writes it: what a report of refusals counts.
            **({} if refused.phrase is None else {"phrase": refused.phrase}),
        },
    }
    tx.events.append(
        incident.id,
        at=now,
        kind=EventKind.ATTEMPT.value,
        actor=command.actor.person,
        playbook_digest=incident.playbook_digest,
        command=encode_command(attempt),
        history=(entry,),
    )


def _observe(fired: FiredDeadline) -> None:
    """A fired deadline, measured and logged: here, so every path that fires deadlines is counted the same."""
    metrics.DEADLINE_LATENESS.observe(max(0.0, fired.late_by.total_seconds()))
    _log.info(
        "deadline fired",
        incident_id=fired.incident_id,
        key=fired.key,
        due_at=fired.due_at.isoformat(),
        late_ms=round(fired.late_by.total_seconds() * 1000),
        notified=[",".join(notice["roles"]) for notice in fired.notified],
    )


def _merged_into_unknown(tx: UnitOfWork, command: Act | SetOwner | AddNote | DraftReply) -> Refused | None:
    """An action that merges the incident into another must name one the store has (the runtime sees one incident
    at a time, so this is the service's to check)."""
    if not isinstance(command, Act):
        return None
    target = command.fields.get("merged_into")
    if not isinstance(target, str) or tx.incidents.get(target) is not None:
        return None
    return Refused(
        RefusalReason.INVALID_FIELD,
        f"merged_into is {target!r}, but there is no such incident; give the id of the incident this one "
        "duplicates, as the queue shows it (such as inc-12)",
        "merged_into",
    )


class Service:
    """Mentions in, actions in, deadlines fired: every change one transaction (the deadlines of a batch share
    one), every answer after the commit.

    ``on_change`` is told each change once it is committed, in the order they were made. ``measured`` False
    leaves fired deadlines out of the process's metrics and log: a simulation's deadlines are not the daemon's.
    """

    def __init__(
        self,
        store: Store,
        library: Library,
        clock: Callable[[], datetime],
        *,
        on_change: Callable[[Change], None] | None = None,
        measured: bool = True,
    ) -> None:
        self.store = store
        self.library = library
        self.clock = clock
        self._on_change = on_change
        self._measured = measured

    def _tell(self, changes: Sequence[Change]) -> None:
        if self._on_change is not None:
            for change in changes:
                self._on_change(change)

    # --- mentions ----------------------------------------------------------------------------------------------

    def ingest(
        self, items: Sequence[Any], *, receipt: tuple[str, datetime] | None = None, all_or_nothing: bool = False
    ) -> list[IntakeResult]:
        """Each mention opens an incident, joins one, is a duplicate, is ignored (no playbook applies) or is
        invalid. Valid ones are committed together before this returns; invalid ones change nothing. With
        ``all_or_nothing``, one invalid mention means nothing is recorded: the others come back ``not_recorded``.

        ``receipt`` is a signed request's ``webhook-id`` and the wall-clock time it came (signatures are judged by
        the wall clock, even when the daemon runs on a simulated one): it is remembered in the same transaction,
        and :class:`Replayed` is raised (nothing written) when it was taken already.
        """
        outcome = self.ingest_together([Sent(items, receipt, all_or_nothing)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def ingest_together(self, requests: Sequence[Sent]) -> list[list[IntakeResult] | Exception]:
        """Several requests' mentions, each taken as :meth:`ingest` takes them, in one unit of work: one commit
        for all (a daemon under a surge groups the requests that came while the last commit was being written).
        Each request's outcome is its results, or :class:`Replayed` for a signed one whose ``webhook-id`` was taken
        already: then the others are taken again without it, each in a unit of work of its own. Any other error
        (the store unavailable) is raised, and nothing of any of them is written."""
        outcomes: list[list[IntakeResult] | Exception] = []
        pending: list[tuple[int, _Parsed]] = []
        for index, sent in enumerate(requests):
            taken = self._parsed(sent)
            outcomes.append(taken if isinstance(taken, list) else [])
            if isinstance(taken, _Parsed):
                pending.append((index, taken))
        if not pending:
            return outcomes
        changes: list[Change] = []
        try:
            for attempt in range(1, _INTAKE_ATTEMPTS + 1):
                changes = []
                try:
                    with self.store.write() as tx:
                        for index, taken in pending:
                            outcomes[index] = self._recorded(tx, taken, changes)
                    break
                except Conflict:
                    # Another daemon's unit of work crossed this one (a deadlock between their locks, which a
                    # batch takes mention by mention): nothing was written, and intake has no version to go
                    # stale, so the same mentions are taken again rather than refused.
                    if attempt == _INTAKE_ATTEMPTS:
                        raise
        except Replayed as error:
            if len(pending) == 1:
                outcomes[pending[0][0]] = error
                return outcomes
            for index, _ in pending:  # the replay undid the unit of work: each alone now
                outcomes[index] = self.ingest_together([requests[index]])[0]
            return outcomes
        self._tell(changes)
        return outcomes

    def _parsed(self, sent: Sent) -> _Parsed | list[IntakeResult]:
        """The request's mentions mended and read, at the moment they came; or, for an all-or-nothing request
        with an invalid one, what to answer without writing anything."""
        now = self.clock()
        # Kept as mended (a cut emoji's lone surrogate replaced, and the repair noted): what the store can hold.
        items = [mend_mention(item) for item in sent.items]
        parsed = parse_mentions(items, now)
        if sent.all_or_nothing and any(isinstance(entry, IntakeResult) for entry in parsed):
            return [
                entry if isinstance(entry, IntakeResult) else IntakeResult(IntakeStatus.NOT_RECORDED)
                for entry in parsed
            ]
        return _Parsed(items, parsed, sent.receipt, now)

    def _recorded(self, tx: UnitOfWork, taken: _Parsed, changes: list[Change]) -> list[IntakeResult]:
        if taken.receipt is not None:
            webhook_id, received_at = taken.receipt
            if not tx.receipts.take(webhook_id, received_at, received_at - 2 * SIGNATURE_TOLERANCE):
                raise Replayed(webhook_id)
        results: list[IntakeResult] = []
        for item, entry in zip(taken.items, taken.parsed, strict=True):
            if isinstance(entry, IntakeResult):
                results.append(entry)
            else:
                results.append(intake(tx, self.library, entry, item, now=taken.now, changes=changes))
        return results

    # --- actions -----------------------------------------------------------------------------------------------

    def act(
        self,
        incident_id: str,
        trigger: str,
        *,
        person: str,
        roles: frozenset[str],
        fields: Mapping[str, Any],
        version: int | None,
        name: str | None = None,
    ) -> ActResult:
        """Take a playbook action, or the built-in ``deliver`` of a playbook with an offers catalogue, as ``person``
        (``name`` is theirs in the roster: what a contact naming the agent is checked against)."""
        return self._apply(incident_id, Act(trigger, Actor(person, roles, name), dict(fields), version))

    # --- the team's own records: ownership and notes -----------------------------------------------------------

    def set_owner(self, incident_id: str, command: SetOwner) -> ActResult:
        """Take, assign or release an incident: recorded in its history, not a change of state."""
        return self._apply(incident_id, command)

    def add_note(self, incident_id: str, command: AddNote) -> ActResult:
        """An internal note in the incident's history, for the team alone."""
        return self._apply(incident_id, command)

    # --- approval: a draft reply submitted, approved or returned ---------------------------------------------------

    def draft(self, incident_id: str, command: DraftReply) -> ActResult:
        """A draft reply for an action that needs approval, or an approver's decision on it: recorded in the
        history, not a change of state."""
        return self._apply(incident_id, command)

    def replies(self, incident_id: str, trigger: str) -> Replies:
        """The playbook's replies for ``trigger``, filled in for the incident, and whether its replies must be one
        of them. :class:`NotFound` for an unknown incident or an action its playbook does not have."""
        row = self.store.incident(incident_id)
        if row is None:
            raise NotFound(f"there is no incident {incident_id}")
        incident = row.incident
        book = self.library.by_digest(incident.playbook_digest)
        if trigger not in book.triggers:
            actions = ", ".join(sorted(book.triggers))
            raise NotFound(f"{book.playbook.id} has no action {trigger!r} ({actions})", code="unknown_action")
        transitions = [transition for transition in book.playbook.transitions if transition.trigger == trigger]
        required = any(book.playbook.templates_required(transition) for transition in transitions)
        return Replies(trigger, filled_replies(incident, trigger, book), required)

    def _apply(self, incident_id: str, command: Act | SetOwner | AddNote | DraftReply) -> ActResult:
        """A person's command on an incident, through the runtime, in one unit of work. A refusal the team can
        learn from (:data:`LEARNED_FROM`) is kept as an attempt that changed nothing; one that changes nothing (a
        release of what nobody has) writes nothing."""
        now = self.clock()
        changes: list[Change] = []
        with self.store.write() as tx:
            incident = tx.incidents.get(incident_id)
            if incident is None:
                raise NotFound(f"there is no incident {incident_id}")
            outcome = step(incident, command, now, self.library.by_digest(incident.playbook_digest))
            if isinstance(outcome, Refused):
                if isinstance(command, Act) and outcome.reason in LEARNED_FROM:
                    _record_attempt(tx, incident, command, outcome, now)
                return ActResult(incident, outcome)
            if not outcome.effects:  # already so: nothing to write
                return ActResult(incident)
            unknown = _merged_into_unknown(tx, command)
            if unknown is not None:
                return ActResult(incident, unknown)
            history = apply_step(
                tx,
                self.library,
                outcome,
                previous=incident,
                command=command,
                actor=command.actor.person,
                now=now,
                changes=changes,
            )
        self._tell(changes)
        return ActResult(outcome.incident, None, history)

    # --- deadlines ---------------------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        return self.store.earliest_due()

    def fire_due(self, limit: int = DEADLINE_BATCH, *, enough: Callable[[], bool] | None = None) -> list[FiredDeadline]:
        """The deadlines due by now, up to ``limit`` (the earliest first), fired together in one transaction (see
        :mod:`engine.service._firing`), each saying how late it fired. More may be due: call again for them.

        ``enough``, asked after each deadline, ends the batch early when it says so: the scheduler bounds a
        batch's time with it, so that mentions and actions waiting for the store are not held up long."""
        now = self.clock()
        earliest = self.store.earliest_due()
        if earliest is None or earliest > now:
            return []  # nothing due: no transaction, since every mention and action wakes the scheduler
        changes: list[Change] = []
        # Not flushed on its own: lost to a power cut, the deadlines are still pending and fire again with the
        # same keys, so their notifications are the same ones; the next durable commit flushes them anyway.
        with self.store.write(durable=False) as tx:
            fired = fire_batch(tx, self.library, now, limit, changes, enough=enough)
        if self._measured:  # committed: count each, whichever path fired it (the scheduler, a clock moved)
            for done in fired:
                _observe(done)
        self._tell(changes)
        return fired

    # --- reading -----------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentDetails:
        row = self.store.incident(incident_id)
        if row is None:
            raise NotFound(f"there is no incident {incident_id}")
        book = self.library.by_digest(row.incident.playbook_digest)
        actions = () if row.final else available_actions(book, row.incident)
        return IncidentDetails(
            row,
            tuple(self.store.pending_deadlines(incident_id)),
            tuple(self.store.events(incident_id)),
            actions,
            tuple(self.store.mentions_of(incident_id)),
            self.clock_zones(row.incident),
            tuple(self.store.deliveries_of(incident_id)),
            _paused(book, row.incident, self.clock()),
        )

    def clock_zones(self, incident: Incident) -> dict[str, str]:
        """The time zone of each of the incident's running clocks, under the playbook version it runs."""
        playbook = self.library.by_digest(incident.playbook_digest).playbook
        return {clock.name: clock_zone_name(playbook, clock.name, incident.severity) for clock in incident.clocks}

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        return self.store.incidents(where)

    def incident_row(self, incident_id: str) -> IncidentRow | None:
        """The incident's row alone (its summary), without its log, deadlines and mentions."""
        return self.store.incident(incident_id)

    def counts(self) -> Mapping[str, int]:
        """How many incidents (open and all), deadlines and notifications wait: for readiness and logs."""
        return self.store.counts()

    def tallies(self) -> list[Tally]:
        """Incidents by playbook, state and severity, and how many breached: for ``/metrics``."""
        return self.store.tallies()

    def verify_token(self, token: str | None, now: datetime) -> TokenRecord | TokenProblem:
        """The token's record when it may be used now, or why not."""
        return verify_token(self.store, token, now)

    # --- the log is the truth ----------------------------------------------------------------------------------

    def rebuild(self, incident_id: str) -> Incident:
        """The incident replayed from its event log through the runtime: what its row must equal."""
        return rebuild(self.store, self.library, incident_id)


def _paused(book: Rulebook, incident: Incident, now: datetime) -> dict[str, tuple[timedelta, timedelta]]:
    """The time counted and left of each of the incident's clocks that stand still (read as of their pause)."""
    found = {}
    for clock in incident.clocks:
        where = standing(book, clock, incident.severity, now) if clock.paused else None
        if where is not None:
            found[clock.name] = where
    return found
