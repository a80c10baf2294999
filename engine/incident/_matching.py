"""Which playbook a mention opens an incident under, and which open incident a mention joins.

:func:`route` is the one policy both the daemon's intake and ``calmly simulate`` follow: a follow-up joins its
open incident, unless it matches a playbook of higher priority than every incident it could join (an injury claim
after an everyday complaint), when it opens an incident of its own under that playbook, linked to the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.incident._mention import Mention
from engine.incident._record import Incident
from engine.incident._rulebook import Rulebook
from engine.playbook import handle_key

__all__ = ["JoinInto", "Merged", "NoMatch", "OpenUnder", "Route", "belongs", "joins", "match_playbook", "route"]


@dataclass(frozen=True, slots=True)
class NoMatch:
    """No playbook applies: says which were considered, so the operator can tell a gap from a typo."""

    message: str


def match_playbook(mention: Mention, books: Iterable[Rulebook]) -> Rulebook | NoMatch:
    """The applicable playbook with the highest priority (ties: the playbook id first in order, for determinism)."""
    considered = list(books)
    matching = [book for book in considered if book.applies(mention)]
    if not matching:
        names = ", ".join(sorted(book.playbook.id for book in considered)) or "none are loaded"
        return NoMatch(f"no playbook applies to this {mention.channel} mention (playbooks: {names})")
    return min(matching, key=lambda book: (-book.playbook.applies_to.priority, book.playbook.id))


def joins(incident: Incident, mention: Mention, book: Rulebook) -> bool:
    """Whether a mention belongs to an open incident: the same thread, or the same author soon after."""
    return not book.is_final(incident.state) and belongs(incident, mention, book)


def belongs(incident: Incident, mention: Mention, book: Rulebook) -> bool:
    """Whether a mention is about ``incident``, open or closed: on its channel, and in its thread or by its author
    within the join window of its latest mention.

    Authors are compared by :func:`handle_key`: ``@Zed`` and ``zed`` are one author."""
    if mention.channel != incident.channel:
        return False
    if mention.thread_id is not None and mention.thread_id == incident.thread_id:
        return True
    window = book.playbook.applies_to.join_window
    if mention.author_key != handle_key(incident.channel, incident.author):
        return False
    return abs(mention.posted_at - incident.last_mention_at) <= window


@dataclass(frozen=True, slots=True)
class JoinInto:
    """The mention joins this open incident; ``via`` is the closed incident it would have joined, when a merge
    (or a chain of them) closed that one into this."""

    incident: Incident
    book: Rulebook
    via: Incident | None = None


@dataclass(frozen=True, slots=True)
class Merged:
    """A closed incident the mention belongs to (``via``), merged into the open ``incident``, under ``book``."""

    incident: Incident
    book: Rulebook
    via: Incident


@dataclass(frozen=True, slots=True)
class OpenUnder:
    """The mention opens an incident under ``book``; ``follows`` is the open incident it would otherwise have
    joined (its playbook has a lower priority), which the new incident is linked to."""

    book: Rulebook
    follows: Incident | None = None


Route = JoinInto | OpenUnder | NoMatch


def _priority(book: Rulebook) -> int:
    return book.playbook.applies_to.priority


def route(
    mention: Mention,
    candidates: Sequence[tuple[Incident, Rulebook]],
    books: Iterable[Rulebook],
    merged: Sequence[Merged] = (),
) -> Route:
    """Where a mention goes, given the open incidents it may join (each with its own rulebook, oldest first), the
    incidents it would have joined had a merge not closed them (``merged``: each with the open incident it was
    merged into), and the playbooks loaded now.

    An incident a merge leads to is joined as if the mention had been about it, after the ones it joins itself."""
    joinable = [JoinInto(incident, book) for incident, book in candidates if joins(incident, mention, book)]
    direct = {join.incident.id for join in joinable}
    for merge in merged:
        if merge.incident.id not in direct:
            direct.add(merge.incident.id)
            joinable.append(JoinInto(merge.incident, merge.book, merge.via))
    chosen = match_playbook(mention, books)
    if not joinable:
        return chosen if isinstance(chosen, NoMatch) else OpenUnder(chosen)
    if isinstance(chosen, NoMatch):
        return joinable[0]
    for join in joinable:  # an incident under the very playbook it matches: the follow-up belongs there
        if join.incident.playbook == chosen.playbook.id:
            return join
    highest = max(_priority(join.book) for join in joinable)
    if _priority(chosen) > highest:
        return OpenUnder(chosen, follows=joinable[0].incident)
    return next(join for join in joinable if _priority(join.book) == highest)
