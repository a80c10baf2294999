"""Groups and surges at intake: the open incident of a mention's group, and the crisis incidents a surge opens.

The decisions are the runtime's (:mod:`engine.incident._groups`, :mod:`engine.incident._surges`); this is where they
meet the store, in the caller's unit of work: one index search for the group's incident, and a crisis opened and
linked both ways in the same transaction as the mention that made the surge fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.incident import (
    Audit,
    Incident,
    JoinInto,
    LinkIncident,
    LinkRelation,
    Mention,
    OpenCrisis,
    Rulebook,
    Stepped,
    crisis_key,
    open_incident,
    step,
)
from engine.service._applying import apply_step
from engine.service._library import Library
from engine.service._outcomes import Change
from engine.store import OpenCommand, UnitOfWork

__all__ = ["group_join", "note_missing_crises", "open_crises"]


def group_join(tx: UnitOfWork, library: Library, book: Rulebook, mention: Mention) -> JoinInto | None:
    """The open incident of the mention's group under ``book`` that takes it, if there is one."""
    grouper = book.grouper
    if grouper is None:
        return None
    found = tx.incidents.grouped(grouper.key(mention), grouper.since(mention))
    if found is None:
        return None
    found_book = library.by_digest(found.playbook_digest)
    if found_book.is_final(found.state) or not grouper.takes(found, mention):  # pragma: no cover - the index says
        return None
    return JoinInto(found, found_book)


def _link(
    tx: UnitOfWork,
    library: Library,
    incident: Incident,
    link: LinkIncident,
    *,
    now: datetime,
    changes: list[Change],
) -> Incident:
    """Record a link on ``incident`` (its log too, so a rebuild finds it); the incident as it is after."""
    linked = step(incident, link, now, library.by_digest(incident.playbook_digest))
    if not isinstance(linked, Stepped) or not linked.effects:
        return incident
    apply_step(tx, library, linked, previous=incident, command=link, actor=None, now=now, changes=changes)
    return linked.incident


def note_missing_crises(library: Library, stepped: Stepped, now: datetime) -> Stepped:
    """The step with a word in the history for each crisis its surges ask for under a playbook that is not loaded
    (``calmly check`` reports it as E902): nothing opens, and the team can see why."""
    loaded = {book.playbook.id for book in library.current}
    missing = [ask for ask in stepped.effects if isinstance(ask, OpenCrisis) and ask.playbook not in loaded]
    if not missing:
        return stepped
    notes = tuple(
        Audit(
            now,
            "surge",
            f"surge {ask.surge} could not open a crisis incident: no playbook {ask.playbook} is loaded",
            details={"surge": ask.surge, "playbook": ask.playbook, "opened": False},
        )
        for ask in missing
    )
    return Stepped(stepped.incident, (*stepped.effects, *notes))


def open_crises(
    tx: UnitOfWork,
    library: Library,
    stepped: Stepped,
    mention: Mention,
    raw: Mapping[str, Any],
    *,
    now: datetime,
    changes: list[Change],
) -> Incident:
    """Open the crisis incidents the step's surges ask for, each linked to the group's incident and back, or link
    the crisis already open from the same rule; the group's incident as it is after."""
    incident = stepped.incident
    for ask in stepped.effects:
        if not isinstance(ask, OpenCrisis):
            continue
        chosen = next((book for book in library.current if book.playbook.id == ask.playbook), None)
        if chosen is None:  # told in the history already (see note_missing_crises)
            continue
        key = crisis_key(incident.playbook, ask.surge)
        crisis = tx.incidents.grouped(key, None)
        if crisis is None:
            crisis_id = tx.incidents.new_id()
            opened = open_incident(crisis_id, mention, chosen, now, group=key)
            command = OpenCommand(crisis_id, raw, None, key)
            apply_step(tx, library, opened, previous=None, command=command, actor=None, now=now, changes=changes)
            crisis = opened.incident
        surge_of = LinkIncident(incident.id, incident.playbook, LinkRelation.SURGE_OF)
        _link(tx, library, crisis, surge_of, now=now, changes=changes)
        opened_crisis = LinkIncident(crisis.id, crisis.playbook, LinkRelation.CRISIS)
        incident = _link(tx, library, incident, opened_crisis, now=now, changes=changes)
    return incident
