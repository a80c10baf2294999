"""The rulebooks of the playbook versions incidents opened under, each loaded once from its kept source.

An incident is pinned to the version (and content digest) it opened under, and the report counts its business
hours on that version's calendar. The sources come from the store's playbook versions or from an export's
``playbook`` lines; a source that is missing or no longer loads leaves its incidents without business hours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from engine.incident import AroundTheClock, BusinessCalendar, Rulebook, TimeCounter
from engine.playbook import load
from engine.store import PlaybookViews

__all__ = ["Figure", "Pinned", "Rulebooks"]

#: The response times whose business hours a report counts: to the first response, to resolution, and each next
#: response after the customer wrote again.
Figure = Literal["first", "resolution", "next"]

_ACKNOWLEDGED, _RESOLVED, _REPLY = "acknowledged", "resolved", "reply"


class Pinned:
    """A playbook version as a report uses it: its rulebook, and the business calendar each response time counts
    on at each severity, worked out once.

    A response time counts on the calendar of the target that measures it (the first target that ends on a reply
    or in ``acknowledged``; the one that ends in ``resolved``; the one that starts on each follow-up). A target
    counted around the clock counts on the playbook's calendar when the playbook defines just one: the team's
    working hours, still worth knowing. Otherwise there are no business hours for it.
    """

    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self._counters: dict[tuple[str, str], TimeCounter | None] = {}
        calendars = list(book.playbook.calendars.values())
        self._only: TimeCounter | None = BusinessCalendar(calendars[0]) if len(calendars) == 1 else None

    def counter(self, figure: Figure, severity: str) -> TimeCounter | None:
        key = (figure, severity)
        if key not in self._counters:
            self._counters[key] = self._find(figure, severity)
        return self._counters[key]

    def _find(self, figure: Figure, severity: str) -> TimeCounter | None:
        for name, target in self.book.playbook.targets.items():
            reaches = set(target.until)
            if target.per_follow_up != (figure == "next"):
                continue
            if figure == "first" and not ({_ACKNOWLEDGED, _REPLY} & reaches):
                continue
            if figure == "resolution" and _RESOLVED not in reaches:
                continue
            limit = self.book.target_limit(name, severity)
            if limit is not None and not isinstance(limit[1], AroundTheClock):
                return limit[1]
            return self._only
        return self._only


class Rulebooks:
    """Rulebooks by digest, from ``source_of(digest) -> (source text, where it was read from) | None``."""

    def __init__(self, source_of: Callable[[str], tuple[str, str] | None]) -> None:
        self._source_of = source_of
        self._books: dict[str, Pinned | None] = {}
        #: Digests whose source could not be had or loaded: named in the report, so a figure is never quietly less.
        self.missing: set[str] = set()

    @classmethod
    def kept_in(cls, store: PlaybookViews) -> Rulebooks:
        """The versions a store keeps (``calmly report --data``, the desk's Reports page)."""

        def source_of(digest: str) -> tuple[str, str] | None:
            record = store.playbook(digest)
            return None if record is None else (record.source, record.path)

        return cls(source_of)

    def get(self, digest: str) -> Pinned | None:
        if digest in self._books:
            return self._books[digest]
        book: Pinned | None = None
        source = self._source_of(digest)
        if source is not None:
            loaded = load(source[0].encode("utf-8"), source[1])
            if loaded.playbook is not None and loaded.playbook.digest == digest:
                book = Pinned(Rulebook(loaded.playbook))
        if book is None:
            self.missing.add(digest)
        self._books[digest] = book
        return book
