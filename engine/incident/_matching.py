"""Which playbook a mention opens an incident under, and which open incident a mention joins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.incident._mention import Mention
from engine.incident._record import Incident
from engine.incident._rulebook import Rulebook
from engine.playbook import handle_key

__all__ = ["NoMatch", "joins", "match_playbook"]


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
