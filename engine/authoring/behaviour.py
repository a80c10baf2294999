"""The behavioural diff of many recorded incidents: each compared (see :mod:`engine.authoring.comparison`) and the
totals counted, in this process or over a pool of processes, one chunk of incidents at a time.

Work crosses to the pool as playbook texts (each worker loads and compiles them once) and chunks of incidents as the
reader gives them (or a store's raw rows, which the worker decodes), and comes back as partial totals merged in the
order the chunks were read: the serial and parallel paths give the same result.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from engine.authoring.comparison import IncidentDiff, Opening, Pair, compare
from engine.authoring.replay import ReplayError
from engine.incident import Rulebook
from engine.playbook import load
from engine.store import RecordedIncident

__all__ = ["DETAILS", "Chunk", "PlaybookText", "Summary", "diff_chunks", "diff_incidents", "pairs_of"]

#: How many changed incidents (and determinism failures) a summary keeps in full; the rest are counted.
DETAILS = 500


@dataclass(frozen=True, slots=True)
class PlaybookText:
    """One playbook's old and new source, and where each was read from (a path, or ``REV:path``)."""

    old: str
    old_source: str
    new: str
    new_source: str


def pairs_of(texts: Sequence[PlaybookText], reachable: frozenset[str] | None) -> dict[str, Pair]:
    """The pairs by the old playbook's id; the texts must load (the caller reported their problems)."""
    news: list[Rulebook] = []
    olds: list[Rulebook] = []
    for text in texts:
        old, new = load(text.old, text.old_source).playbook, load(text.new, text.new_source).playbook
        if old is None or new is None:
            raise ValueError(f"{text.old_source} or {text.new_source} does not load")
        olds.append(Rulebook(old))
        news.append(Rulebook(new))
    return {old.playbook.id: Pair(old, new, tuple(news), reachable) for old, new in zip(olds, news, strict=True)}


@dataclass
class Summary:
    """The totals of a diff, and the changed incidents in full (the first :data:`DETAILS`)."""

    incidents: int = 0
    changed: int = 0
    #: Incidents replayed under the old playbook although they ran under another version of it: not checked for
    #: determinism.
    unchecked: int = 0
    nondeterministic: int = 0
    would_not_open: int = 0
    other_playbook: Counter[str] = field(default_factory=Counter)
    severity_changed: int = 0
    state_changed: int = 0
    now_refused: Counter[str] = field(default_factory=Counter)
    now_allowed: Counter[str] = field(default_factory=Counter)
    breaches_added: Counter[str] = field(default_factory=Counter)
    breaches_removed: Counter[str] = field(default_factory=Counter)
    notices_added: Counter[str] = field(default_factory=Counter)
    notices_removed: Counter[str] = field(default_factory=Counter)
    notices_earlier: Counter[str] = field(default_factory=Counter)
    notices_later: Counter[str] = field(default_factory=Counter)
    #: Total seconds by which each role's moved notifications come earlier, and later.
    earlier_seconds: Counter[str] = field(default_factory=Counter)
    later_seconds: Counter[str] = field(default_factory=Counter)
    unreached: Counter[str] = field(default_factory=Counter)
    details: list[IncidentDiff] = field(default_factory=list)
    failures: list[IncidentDiff] = field(default_factory=list)
    #: Incidents whose logs cannot be replayed: (id, why).
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    #: How many changed incidents, and how many failures, this summary keeps in full: a worker's chunk needs no
    #: more of each than the merged summary still lacks, and sending back more would cost more than the replays.
    room: int = DETAILS
    failure_room: int = DETAILS

    def add(self, diff: IncidentDiff) -> None:
        self.incidents += 1
        if diff.determinism is None:
            self.unchecked += 1
        elif diff.determinism:
            self.nondeterministic += 1
            if len(self.failures) < self.failure_room:
                self.failures.append(diff)
        if not diff.changed:
            return
        self.changed += 1
        if len(self.details) < self.room:
            self.details.append(diff)
        if diff.opening == Opening.NOT:
            self.would_not_open += 1
        elif diff.opening == Opening.OTHER:
            self.other_playbook[str(diff.other_playbook)] += 1
        self.severity_changed += diff.new_severity is not None and diff.new_severity != diff.old_severity
        self.state_changed += diff.new_state is not None and diff.new_state != diff.old_state
        self.now_refused.update(refusal.trigger for refusal in diff.now_refused)
        self.now_allowed.update(refusal.trigger for refusal in diff.now_allowed)
        self.breaches_added.update(diff.breaches_added)
        self.breaches_removed.update(diff.breaches_removed)
        self.notices_added.update(notice.role for notice in diff.notices_added)
        self.notices_removed.update(notice.role for notice in diff.notices_removed)
        for moved in diff.notices_moved:
            role = moved.new.role
            seconds = int(moved.by.total_seconds())
            if seconds > 0:
                self.notices_later[role] += 1
                self.later_seconds[role] += seconds
            else:
                self.notices_earlier[role] += 1
                self.earlier_seconds[role] -= seconds
        self.unreached.update(notice.role for notice in diff.unreached)

    def merge(self, other: Summary) -> None:
        """Add the totals of a later chunk."""
        for name in ("incidents", "changed", "unchecked", "nondeterministic", "would_not_open"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.severity_changed += other.severity_changed
        self.state_changed += other.state_changed
        for name in (
            "other_playbook",
            "now_refused",
            "now_allowed",
            "breaches_added",
            "breaches_removed",
            "notices_added",
            "notices_removed",
            "notices_earlier",
            "notices_later",
            "earlier_seconds",
            "later_seconds",
            "unreached",
        ):
            getattr(self, name).update(getattr(other, name))
        self.details.extend(other.details[: max(0, DETAILS - len(self.details))])
        self.failures.extend(other.failures[: max(0, DETAILS - len(self.failures))])
        self.unreadable.extend(other.unreadable)


def _diff_into(summary: Summary, items: Iterable[tuple[str | None, RecordedIncident]], pairs: dict[str, Pair]) -> None:
    for label, recorded in items:
        pair = pairs.get(recorded.incident.playbook)
        if pair is None:
            continue  # an incident of a playbook this diff does not change
        try:
            summary.add(compare(recorded, pair, label=label))
        except (ReplayError, ValueError, KeyError) as error:
            summary.unreadable.append((label or recorded.incident.id, str(error)))


def diff_incidents(
    recorded: Iterable[RecordedIncident | tuple[str, RecordedIncident]],
    pairs: dict[str, Pair],
    on_incident: Callable[[], None] | None = None,
) -> Summary:
    """The diff in this process: each incident (or (label, incident)) of a changed playbook compared."""
    summary = Summary()

    def labelled() -> Iterator[tuple[str | None, RecordedIncident]]:
        for item in recorded:
            yield (None, item) if isinstance(item, RecordedIncident) else item
            if on_incident is not None:
                on_incident()

    _diff_into(summary, labelled(), pairs)
    return summary


# --- the pool ------------------------------------------------------------------------------------------------------

#: A chunk of work: incidents already read, or raw rows and the function that decodes them.
Chunk = tuple[Callable[[Any], Iterable[RecordedIncident]] | None, Any]

_pairs: dict[str, Pair] = {}


def _start(texts: Sequence[PlaybookText], reachable: frozenset[str] | None) -> None:
    global _pairs  # noqa: PLW0603 - one worker process, one set of compiled rulebooks, built once
    _pairs = pairs_of(texts, reachable)
    # What the worker holds for its life (modules, rulebooks, calendars) is left out of the collector's rounds,
    # which then walk only what a page's replays make.
    gc.freeze()


def _work(chunk: Chunk, room: int, failure_room: int) -> Summary:
    decode, payload = chunk
    incidents = payload if decode is None else decode(payload)
    summary = Summary(room=room, failure_room=failure_room)
    _diff_into(summary, ((None, recorded) for recorded in incidents), _pairs)
    return summary


def diff_chunks(
    chunks: Iterable[tuple[Chunk, int]],
    texts: Sequence[PlaybookText],
    reachable: frozenset[str] | None,
    *,
    jobs: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Summary:
    """The diff over a pool of ``jobs`` processes (default: one per core): each (chunk, how many incidents it
    holds) compared in a worker, the totals merged in the order the chunks came. A few chunks at a time are in
    flight, so a year of incidents is never all in memory."""
    workers = jobs or os.cpu_count() or 1
    summary = Summary()
    window: list[tuple[Future[Summary], int]] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_start, initargs=(tuple(texts), reachable)) as pool:
        for chunk, size in chunks:
            rooms = DETAILS - len(summary.details), DETAILS - len(summary.failures)
            window.append((pool.submit(_work, chunk, *rooms), size))
            while len(window) > 2 * workers:
                _merge_first(summary, window, on_progress)
        while window:
            _merge_first(summary, window, on_progress)
    return summary


def _merge_first(
    summary: Summary, window: list[tuple[Future[Summary], int]], on_progress: Callable[[int], None] | None
) -> None:
    future, size = window.pop(0)
    summary.merge(future.result())
    if on_progress is not None:
        on_progress(size)
