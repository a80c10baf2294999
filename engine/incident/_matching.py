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

__all__ = ["JoinInto", "NoMatch", "OpenUnder", "Route", "joins", "match_playbook", "route"]


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
    """Whether a mention belongs to an open incident: the same thread, or the same author soon after.

    Authors are compared by :func:`handle_key`: ``@Zed`` and ``zed`` are one author."""
    if book.is_final(incident.state) or mention.channel != incident.channel:
        return False
    if mention.thread_id is not None and mention.thread_id == incident.thread_id:
        return True
    window = book.playbook.applies_to.join_window
    if mention.author_key != handle_key(incident.channel, incident.author):
        return False
    return abs(mention.posted_at - incident.last_mention_at) <= window


@dataclass(frozen=True, slots=True)
class JoinInto:
    """The mention joins this open incident."""

    incident: Incident
    book: Rulebook


@dataclass(frozen=True, slots=True)
class OpenUnder:
    """The mention opens an incident under ``book``; ``follows`` is the open incident it would otherwise have
    joined (its playbook has a lower priority), which the new incident is linked to."""

    book: Rulebook
    follows: Incident | None = None


Route = JoinInto | OpenUnder | NoMatch


def _priority(book: Rulebook) -> int:
    return book.playbook.applies_to.priority


def route(mention: Mention, candidates: Sequence[tuple[Incident, Rulebook]], books: Iterable[Rulebook]) -> Route:
    """Where a mention goes, given the open incidents it may join (each with its own rulebook, oldest first) and
    the playbooks loaded now."""
    joinable = [(incident, book) for incident, book in candidates if joins(incident, mention, book)]
    chosen = match_playbook(mention, books)
    if not joinable:
        return chosen if isinstance(chosen, NoMatch) else OpenUnder(chosen)
    if isinstance(chosen, NoMatch):
        return JoinInto(*joinable[0])
    for incident, book in joinable:  # an incident under the very playbook it matches: the follow-up belongs there
        if incident.playbook == chosen.playbook.id:
            return JoinInto(incident, book)
    highest = max(_priority(book) for _, book in joinable)
    if _priority(chosen) > highest:
        return OpenUnder(chosen, follows=joinable[0][0])
    return JoinInto(*next((incident, book) for incident, book in joinable if _priority(book) == highest))
