"""The promise ledger: each offer made under a playbook's offers catalogue becomes a promise with its own clock, kept
when someone records it delivered with the built-in ``deliver`` action.

A promise's clock counts the kind's ``deliver_within`` from the moment of the offer and escalates by the playbook's
steps like any other clock (a step's ``clocks`` names them ``promise``); it runs across states until the promise is
kept. While a promise is open the incident cannot be resolved or closed: the practice is to deliver on the promise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from engine.incident._clocks import deadline_key, start_clock
from engine.incident._keys import ClockId
from engine.incident._made import make_arm, make_audit, make_cancel, make_stepped
from engine.incident._moments import iso, minute
from engine.incident._offers import money
from engine.incident._record import (
    Act,
    ClockState,
    Effect,
    Incident,
    Promise,
    RefusalReason,
    Refused,
    Stepped,
)
from engine.incident._rulebook import Rulebook
from engine.incident._standing import standing
from engine.playbook import DELIVER, LIFECYCLE, format_duration

__all__ = ["blocked_by_promises", "deliver", "due_as_clocked", "make_promises", "takes_deliver"]

_RESOLVED = LIFECYCLE[4]
_DELIVER_KEYS = frozenset({"promise", "note"})


def takes_deliver(act: Act, book: Rulebook) -> bool:
    """Whether ``act`` is the built-in deliver: a playbook with an offers catalogue has it (a check keeps any
    transition from taking its name)."""
    return act.trigger == DELIVER and bool(book.offer_kinds)


def _what(promise: Promise, book: Rulebook) -> str:
    amount = "" if promise.amount is None else f" of {money(promise.amount, promise.currency)}"
    return f"{promise.kind}{amount}"


def blocked_by_promises(incident: Incident, destination: str, book: Rulebook) -> Refused | None:
    """A refusal when ``destination`` resolves or closes the incident while a promise is still open."""
    if destination != _RESOLVED and not book.is_final(destination):
        return None
    waiting = incident.open_promises
    if not waiting:
        return None
    listed = "; ".join(
        f"{promise.id} ({_what(promise, book)}, promised by {promise.promised_by}, due {minute(promise.due_at)})"
        for promise in waiting
    )
    return Refused(
        RefusalReason.OPEN_PROMISE,
        f"the incident cannot move to {destination} while a promise is open: {listed}; deliver on it first, "
        f"then record it with {DELIVER!r} and a note",
    )


def make_promises(
    incident: Incident, offers: Any, act: Act, now: datetime, book: Rulebook, *, severity: str, revision: int
) -> tuple[tuple[Promise, ...], tuple[ClockState, ...], list[Effect]]:
    """The promises an accepted offer (one, or a list) makes at ``severity``, their clocks (started now, as run
    ``revision``) and the effects: each one's first deadline armed, and a history entry."""
    items: Sequence[Mapping[str, Any]] = offers if isinstance(offers, list) else [offers]
    promises: list[Promise] = []
    clocks: list[ClockState] = []
    effects: list[Effect] = []
    for number, item in enumerate(items, start=len(incident.promises) + 1):
        kind = item["kind"]
        plan = book.promise_plan(kind, severity)
        if plan is None:  # pragma: no cover - the checks require a time to deliver at every level
            continue
        _, counter, schedule = plan
        contact = act.fields.get("contact")
        promise_id = f"{kind}-{number}"
        clock = start_clock(f"promise:{promise_id}", revision, schedule, counter, now)
        promise = Promise(
            id=promise_id,
            kind=kind,
            promised_by=act.actor.person,
            promised_at=now,
            due_at=clock.due_at,
            amount=item.get("amount"),
            currency=None
            if item.get("amount") is None or book.playbook.offers is None
            else book.playbook.offers.currency,
            note=item.get("note"),
            contact=contact.strip() if isinstance(contact, str) else None,
        )
        promises.append(promise)
        clocks.append(clock)
        if clock.next is not None:
            effects.append(make_arm(deadline_key(incident.id, clock, clock.next), clock.next.at, clock.name))
        effects.append(
            make_audit(
                now,
                "promise",
                f"promised {promise_id}: {_what(promise, book)}, due {minute(promise.due_at)}",
                act.actor.person,
                {"promise": promise_id, "offer": kind, "amount": promise.amount, "due_at": iso(promise.due_at)},
            )
        )
    return tuple(promises), tuple(clocks), effects


def due_as_clocked(promises: tuple[Promise, ...], clocks: Sequence[ClockState]) -> tuple[Promise, ...]:
    """The promises with the due times their clocks now count to: a raised severity can shorten the time to
    deliver, as it shortens a limit."""
    if not promises:
        return promises
    due = {clock.name: clock.due_at for clock in clocks if ClockId.is_promise(clock.name)}
    return tuple(
        replace(promise, due_at=due[promise.clock])
        if promise.clock in due and due[promise.clock] != promise.due_at
        else promise
        for promise in promises
    )


def _chosen(incident: Incident, wanted: Any) -> Promise | Refused:
    """The open promise a deliver names: by its id, by its kind when one of that kind is open, or the only one."""
    waiting = incident.open_promises
    listing = ", ".join(promise.id for promise in waiting) or "none"
    if wanted is None:
        if len(waiting) == 1:
            return waiting[0]
        return Refused(
            RefusalReason.MISSING_FIELD, f"say which promise was kept: promise is one of {listing}", "promise"
        )
    found = incident.promise(wanted) if isinstance(wanted, str) else None
    if found is None and isinstance(wanted, str):
        of_kind = [promise for promise in waiting if promise.kind == wanted]
        if len(of_kind) == 1:
            found = of_kind[0]
    if found is None:
        return Refused(
            RefusalReason.INVALID_FIELD,
            f"{wanted!r} is not an open promise of this incident (open: {listing})",
            "promise",
        )
    if found.kept_at is not None:
        return Refused(
            RefusalReason.INVALID_FIELD,
            f"{found.id} was delivered already, by {found.kept_by} at {minute(found.kept_at)}",
            "promise",
        )
    return found


def deliver(incident: Incident, act: Act, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Record that an open promise was kept, with a note saying how: its clock stops, and its deadline goes."""
    playbook = book.playbook
    if act.actor.roles.isdisjoint(playbook.roles):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"only {playbook.id}'s team ({', '.join(sorted(playbook.roles))}) may record a promise kept; "
            f"{act.actor.person} has {act.actor.roles_in_words}",
        )
    refused = standing(incident, act.expected_revision, book)
    if refused is not None:
        return refused
    unexpected = sorted(set(act.fields) - _DELIVER_KEYS)
    if unexpected:
        return Refused(
            RefusalReason.UNEXPECTED_FIELD,
            f"{DELIVER!r} does not take {', '.join(unexpected)} (it asks for promise and note)",
            unexpected[0],
        )
    chosen = _chosen(incident, act.fields.get("promise"))
    if isinstance(chosen, Refused):
        return chosen
    note = act.fields.get("note")
    if not isinstance(note, str) or not note.strip():
        return Refused(
            RefusalReason.MISSING_FIELD, f"say how {chosen.id} was delivered: {DELIVER!r} requires a note", "note"
        )
    kept = replace(chosen, kept_at=now, kept_by=act.actor.person, kept_note=note.strip())
    effects: list[Effect] = []
    clocks = []
    for clock in incident.clocks:
        if clock.name != chosen.clock:
            clocks.append(clock)
        elif clock.next is not None:
            effects.append(make_cancel(deadline_key(incident.id, clock, clock.next), clock.name))
    late = now - chosen.due_at
    timing = f"{format_duration(late)} late" if late.total_seconds() > 0 else "on time"
    effects.insert(
        0,
        make_audit(
            now,
            "delivered",
            f"kept {chosen.id} ({_what(chosen, book)}, {timing}): {note.strip()}",
            act.actor.person,
            {
                "promise": chosen.id,
                "offer": chosen.kind,
                "due_at": iso(chosen.due_at),
                "late": late.total_seconds() > 0,
            },
        ),
    )
    changed = incident.evolve(
        promises=tuple(kept if promise.id == chosen.id else promise for promise in incident.promises),
        clocks=tuple(clocks),
        revision=incident.revision + 1,
    )
    return make_stepped(changed, tuple(effects))
