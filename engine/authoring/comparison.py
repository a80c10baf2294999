"""The behavioural diff of one recorded incident: what the new playbook would have done with it beside what the old
one did, and whether the old one's replay reproduces the recording (determinism).

Two notifications are the same when they tell the same role about the same clock (or event) at the same step and
repetition; one that comes at another time has moved. A role that the roster gives nobody and no channel to is
unreached: the notification would reach nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.authoring.replay import Notice, Refusal, Replay, replay, script
from engine.incident import Incident, Rulebook
from engine.store import RecordedIncident, encode_incident

__all__ = ["IncidentDiff", "Moved", "Opening", "Pair", "compare", "reachable_roles"]


@dataclass(frozen=True, slots=True)
class Pair:
    """The old and new rulebook of one playbook, and every new rulebook a mention could open under instead
    (``candidates``); ``reachable`` is the set of roles someone or some channel answers for under the new roster,
    or None when no roster was given."""

    old: Rulebook
    new: Rulebook
    candidates: Sequence[Rulebook] = ()
    reachable: frozenset[str] | None = None


class Opening:
    """How the recorded opening fares under the new playbook (a plain string in the results)."""

    SAME = "same"
    NOT = "would_not_open"
    OTHER = "other_playbook"


@dataclass(frozen=True, slots=True)
class Moved:
    """A notification that comes at another time: ``by`` is positive when later."""

    old: Notice
    new: Notice

    @property
    def by(self) -> timedelta:
        return self.new.at - self.old.at


@dataclass(frozen=True, slots=True)
class IncidentDiff:
    id: str
    playbook: str
    old_version: int
    new_version: int
    opening: str = Opening.SAME
    #: The playbook it would open under instead, for :attr:`Opening.OTHER`.
    other_playbook: str | None = None
    old_severity: str = ""
    new_severity: str | None = None
    old_state: str = ""
    new_state: str | None = None
    now_refused: tuple[Refusal, ...] = ()
    now_allowed: tuple[Refusal, ...] = ()
    breaches_added: tuple[str, ...] = ()
    breaches_removed: tuple[str, ...] = ()
    notices_added: tuple[Notice, ...] = ()
    notices_removed: tuple[Notice, ...] = ()
    notices_moved: tuple[Moved, ...] = ()
    #: New notifications to roles nobody holds and no channel reaches.
    unreached: tuple[Notice, ...] = ()
    #: Why the old playbook's replay does not reproduce the recording (empty: it does). None: not checked, as the
    #: incident ran under another version than the old playbook.
    determinism: tuple[str, ...] | None = ()
    stopped_early: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.opening != Opening.SAME
            or self.new_severity != self.old_severity
            or self.new_state != self.old_state
            or self.now_refused
            or self.now_allowed
            or self.breaches_added
            or self.breaches_removed
            or self.notices_added
            or self.notices_removed
            or self.notices_moved
            or self.unreached
        )

    @property
    def deterministic(self) -> bool:
        return not self.determinism


def _same(recorded: Incident, replayed: Incident | None) -> bool:
    if replayed is None:
        return False
    return recorded == replayed or encode_incident(recorded) == encode_incident(replayed)


def _determinism(recorded: RecordedIncident, old: Replay) -> tuple[str, ...]:
    """How the old playbook's replay differs from the recording, in words (nothing when it reproduces it)."""
    found: list[str] = []
    if old.incident is None:
        return ("the old playbook does not apply to the recorded opening mention",)
    was, now = recorded.incident, old.incident
    for name in ("state", "severity", "breached", "revision", "clocks", "told", "promises", "facts"):
        if getattr(was, name) != getattr(now, name):
            found.append(f"{name}: recorded {_said(getattr(was, name))}, replayed {_said(getattr(now, name))}")
    if not found and not _same(was, now):
        found.append("the replayed incident's record differs from the recorded one")
    # A refused action's history entry is written by the service, not the runtime: refusals are compared apart.
    history = [
        (entry.get("at"), entry.get("kind"), entry.get("summary"), entry.get("actor"))
        for event in recorded.events
        for entry in event.history
        if entry.get("kind") != "refused"
    ]
    if history != list(old.history):
        at = next((i for i, (a, b) in enumerate(zip(history, old.history, strict=False)) if a != b), None)
        at = min(len(history), len(old.history)) if at is None else at
        entry = (history[at:] or old.history[at:])[0]
        found.append(
            f"history: {len(history)} entries recorded, {len(old.history)} replayed; they part at entry {at + 1} "
            f"({entry[1]} at {entry[0]}: {entry[2]})"
        )
    attempts = [(e.command["trigger"], e.at) for e in recorded.events if e.command.get("type") == "attempt"]
    if attempts != [(refusal.trigger, refusal.at) for refusal in old.refusals]:
        found.append(f"refusals: {len(attempts)} recorded, {len(old.refusals)} on replay")
    if old.stopped_early:
        found.append("the replay stopped at its limit of deadlines")
    return tuple(found)


def _said(value: Any) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _notices(old: Sequence[Notice], new: Sequence[Notice]) -> tuple[list[Notice], list[Notice], list[Moved]]:
    before: dict[tuple[str, str, str, int, int, str], list[Notice]] = {}
    for notice in old:
        before.setdefault(notice.identity, []).append(notice)
    added: list[Notice] = []
    moved: list[Moved] = []
    for notice in new:
        waiting = before.get(notice.identity)
        if not waiting:
            added.append(notice)
            continue
        was = waiting.pop(0)
        if was.at != notice.at:
            moved.append(Moved(was, notice))
    removed = [notice for left in before.values() for notice in left]
    removed.sort(key=lambda notice: notice.at)
    return added, removed, moved


def _refusal_keys(refusals: Sequence[Refusal]) -> set[tuple[str, Any, str]]:
    return {(refusal.trigger, refusal.at, refusal.person) for refusal in refusals}


def compare(recorded: RecordedIncident, pair: Pair, *, label: str | None = None) -> IncidentDiff:
    """What ``pair.new`` would have done with ``recorded`` beside what ``pair.old`` does. Raises
    :class:`ReplayError` for a log that cannot be replayed."""
    incident = recorded.incident
    read = script(recorded)  # read once for both replays
    old = replay(read, pair.old)
    checked = incident.playbook_digest == pair.old.playbook.digest
    determinism = _determinism(recorded, old) if checked else None
    head: dict[str, Any] = {
        "id": label or incident.id,
        "playbook": pair.old.playbook.id,
        "old_version": pair.old.playbook.version,
        "new_version": pair.new.playbook.version,
        "old_severity": old.incident.severity if old.incident else incident.severity,
        "old_state": old.incident.state if old.incident else incident.state,
        "determinism": determinism,
    }
    new = old if _same_rules(pair) and old.repeatable else replay(read, pair.new, old.firings)
    if new.incident is None:
        elsewhere = next(
            (book for book in pair.candidates if book is not pair.new and book.applies(read.mention)), None
        )
        if elsewhere is None:
            return IncidentDiff(**head, opening=Opening.NOT, notices_removed=old.notices)
        return IncidentDiff(
            **head, opening=Opening.OTHER, other_playbook=elsewhere.playbook.id, notices_removed=old.notices
        )
    added, removed, moved = _notices(old.notices, new.notices)
    was_breached = old.incident.breached if old.incident else frozenset()
    old_refused, new_refused = _refusal_keys(old.refusals), _refusal_keys(new.refusals)
    unreached: tuple[Notice, ...] = ()
    if pair.reachable is not None:
        unreached = tuple(notice for notice in new.notices if notice.role not in pair.reachable)
    return IncidentDiff(
        **head,
        new_severity=new.incident.severity,
        new_state=new.incident.state,
        now_refused=tuple(r for r in new.refusals if (r.trigger, r.at, r.person) not in old_refused),
        now_allowed=tuple(r for r in old.refusals if (r.trigger, r.at, r.person) not in new_refused),
        breaches_added=tuple(sorted(new.incident.breached - was_breached)),
        breaches_removed=tuple(sorted(was_breached - new.incident.breached)),
        notices_added=tuple(added),
        notices_removed=tuple(removed),
        notices_moved=tuple(moved),
        unreached=unreached,
        stopped_early=new.stopped_early,
    )


def _same_rules(pair: Pair) -> bool:
    """Whether the new playbook is the old one: the same content (its digest), so the same rules compiled. Its replay
    would then do what the old one's did whenever it fires each deadline when the old one's did
    (:attr:`Replay.repeatable`), and is not run again: a playbook ``--from`` a revision that did not change it."""
    return pair.new is pair.old or pair.new.playbook.digest == pair.old.playbook.digest


def reachable_roles(people_roles: Mapping[str, frozenset[str]], channels: Mapping[str, object]) -> frozenset[str]:
    """The roles someone holds or some channel is set for: a notification to any other reaches nobody."""
    held = {role for roles in people_roles.values() for role in roles}
    return frozenset(held | {role for role, entries in channels.items() if entries})
