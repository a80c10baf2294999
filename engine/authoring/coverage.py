"""Which parts of a playbook its tests exercised, and which none did, each with where it is written.

``calmly test --coverage`` reads what the tests' runs did (their :class:`~engine.authoring.simulation.Trail`) and
lists, per playbook, every item of every kind in :data:`KINDS`: each transition (an action from one state), each
guard (a transition's ``when``), each escalation step, each ``notify_on`` rule, each surge rule, each never_say
phrase, each do-not-engage reason and each reason kept for some roles, covered or not. A kind is one function from
what was exercised to the playbook's items of that kind; a new part of the language is counted by writing one such
function and adding it to :data:`KINDS`.
"""

from __future__ import annotations

import math
import posixpath
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from engine.authoring.simulation import Trail
from engine.authoring.testsuite import FileReport
from engine.incident import Audit, Notify, RefusalReason, guard_view
from engine.incident import guard_said as said
from engine.playbook import LIMIT_CLOCK, EventKind, Marks, Path, Playbook, Position, Requirement, format_duration

__all__ = ["KINDS", "Coverage", "Exercised", "Item", "Kind", "PlaybookCoverage", "coverage_of", "shown"]


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a playbook says that a test can exercise, where it is written, and how often the tests did."""

    kind: str  # the kind's name in KINDS: ``transition``, ``escalation_step`` ...
    name: str  # what it is, in the playbook's own words: ``assess from detected``
    line: int
    column: int
    hits: int  # how many times the tests exercised it
    #: What exercising it means, said of the tests when none did: ``no test took it``.
    missing: str
    #: Details worth showing beside it, a word or a list of words each: the clocks an escalation step applies to
    #: (as its ``clocks`` names them: ``limit`` for every state's limit), the ones it notified on.
    details: tuple[tuple[str, str | tuple[str, ...]], ...] = ()

    @property
    def covered(self) -> bool:
        return self.hits > 0


@dataclass(frozen=True, slots=True)
class Exercised:
    """What a kind function reads: the playbook, where each part of it is written, and what the tests did."""

    playbook: Playbook
    marks: Marks
    trail: Trail

    def at(self, path: Path) -> Position:
        """Where the document holds ``path`` (the nearest enclosing node when it is written more briefly, as a
        single ``from: detected`` for ``from: [detected]``)."""
        return self.marks.value(path)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of item: its name (as JSON gives it), how a sentence names one and many, its function, and
    whether a sentence quotes an item's name (a phrase)."""

    name: str
    noun: str
    label: str
    items: Callable[[Exercised], Iterator[Item]]
    quoted: bool = False


def _item(
    seen: Exercised, kind: str, name: str, path: Path, *, hits: int, missing: str, **details: str | tuple[str, ...]
) -> Item:
    pos = seen.at(path)
    return Item(kind, name, pos.line, pos.column, hits, missing, tuple(details.items()))


def _transitions(seen: Exercised) -> Iterator[Item]:
    """Each (action, from-state) pair the playbook allows: taken when a test's action moved an incident by it."""
    taken = Counter(
        (effect.details.get("trigger"), effect.details.get("from"))
        for effect in seen.trail.effects
        if isinstance(effect, Audit) and effect.kind == "transition"
    )
    listed: set[tuple[str, str]] = set()
    for index, transition in enumerate(seen.playbook.transitions):
        for position, source in enumerate(transition.sources):
            pair = (transition.trigger, source)
            if pair in listed:  # a pair written twice runs by one rule; count it once, where it is first written
                continue
            listed.add(pair)
            name = f"{transition.trigger} from {source} (to {transition.dest})"
            path = ("transitions", index, "from", position)
            yield _item(seen, "transition", name, path, hits=taken[pair], missing="no test took it")


def _guards(seen: Exercised) -> Iterator[Item]:
    """Each transition's ``when``: exercised when tests saw it both let an incident through (its transition taken)
    and keep one out (the action refused by guards from a state it leaves, or taken there by another transition:
    guards from one state cannot overlap, so another way taken is this one's guard not holding)."""
    refused = Counter(
        (action, refusal.state) for action, refusal in seen.trail.refusals if refusal.reason is RefusalReason.GUARD
    )
    taken: Counter[tuple[Any, Any, str]] = Counter()
    for effect in seen.trail.effects:
        if isinstance(effect, Audit) and effect.kind == "transition":
            taken[(effect.details.get("trigger"), effect.details.get("from"), repr(effect.details.get("when")))] += 1
    for index, transition in enumerate(seen.playbook.transitions):
        if transition.when is None:
            continue
        mine = repr(guard_view(transition.when))
        held = kept_out = 0
        for source in transition.sources:
            kept_out += refused[(transition.trigger, source)]
            for (trigger, origin, when), count in taken.items():
                if trigger == transition.trigger and origin == source:
                    if when == mine:
                        held += count
                    else:
                        kept_out += count
        lacking = [
            what for what, count in (("let an incident through", held), ("keep one out", kept_out)) if count == 0
        ]
        ways = f"{transition.trigger} from {', '.join(transition.sources)} (to {transition.dest})"
        name = f"{ways} when {said(transition.when)}"
        missing = f"no test saw it {' or '.join(lacking)}"
        path = ("transitions", index, "when")
        details = {"let_through": str(held), "kept_out": str(kept_out)}
        yield _item(seen, "guard", name, path, hits=0 if lacking else held + kept_out, missing=missing, **details)


def _escalation_steps(seen: Exercised) -> Iterator[Item]:
    """Each escalation step: exercised when it notified someone in a test, on any of the clocks it applies to."""
    notified: dict[int, Counter[str]] = {}
    for effect in seen.trail.effects:
        if isinstance(effect, Notify) and effect.event is None:
            notified.setdefault(effect.step, Counter())[effect.clock] += 1
    for index, step in enumerate(seen.playbook.escalation):
        repeat = f", then every {format_duration(step.repeat_every)}" if step.repeat_every else ""
        name = f"step {index + 1} (at {step.after:.0%}{repeat}: {', '.join(step.notify)})"
        clocks = (LIMIT_CLOCK, *seen.playbook.targets) if step.clocks is None else step.clocks
        details: dict[str, str | tuple[str, ...]] = {"clocks": clocks}
        if step.severities is not None:
            details["severities"] = step.severities
        on = notified.get(index, Counter())
        if on:
            details["notified_on"] = tuple(sorted(on))
        if step.description:
            details["description"] = step.description
        missing = "no test saw it notify anyone"
        path = ("escalation", index)
        yield _item(seen, "escalation_step", name, path, hits=sum(on.values()), missing=missing, **details)


def _event_rules(seen: Exercised) -> Iterator[Item]:
    """Each ``notify_on`` rule: exercised when its event happened in a test as its filters say, and it notified."""
    told = Counter(
        effect.step
        for effect in seen.trail.effects
        if isinstance(effect, Notify) and effect.event and effect.event != EventKind.SURGE.value
    )
    for index, rule in enumerate(seen.playbook.notify_on):
        narrowed = [
            f"{key} {', '.join(values)}"
            for key, values in (("states", rule.states), ("severities", rule.severities), ("clocks", rule.clocks))
            if values is not None
        ]
        name = f"{index + 1} ({rule.event.value}{': ' + '; '.join(narrowed) if narrowed else ''})"
        details: dict[str, str | tuple[str, ...]] = {"notify": rule.notify}
        if rule.description:
            details["description"] = rule.description
        missing = "no test saw its event happen"
        yield _item(seen, "event_rule", name, ("notify_on", index), hits=told[index], missing=missing, **details)


def _never_say(seen: Exercised) -> Iterator[Item]:
    """Each never_say phrase: exercised when a test saw a reply refused for saying it."""
    refused = Counter(
        refusal.phrase for _, refusal in seen.trail.refusals if refusal.reason is RefusalReason.HOUSE_RULE
    )
    for index, phrase in enumerate(seen.playbook.house_rules.never_say):
        path = ("house_rules", "never_say", index)
        missing = "no test saw a reply refused for saying it"
        yield _item(seen, "never_say", phrase, path, hits=refused[phrase], missing=missing)


def _do_not_engage_reasons(seen: Exercised) -> Iterator[Item]:
    """Each do-not-engage reason: exercised when a test's action gave it and was taken."""
    field = Requirement.REASON.value
    given = Counter(
        effect.details["fields"][field]
        for effect in seen.trail.effects
        if isinstance(effect, Audit) and effect.kind == "transition" and field in effect.details.get("fields", {})
    )
    for index, reason in enumerate(seen.playbook.house_rules.do_not_engage_reasons):
        path = ("house_rules", "do_not_engage_reasons", index)
        missing = "no test's action gave it as its reason"
        yield _item(seen, "do_not_engage_reason", reason, path, hits=given[reason], missing=missing)


def _reasons_by_role(seen: Exercised) -> Iterator[Item]:
    """Each do-not-engage reason kept for some roles (``by``): exercised when a test saw another role refused it."""
    refused = Counter(
        refusal.phrase
        for _, refusal in seen.trail.refusals
        if refusal.reason is RefusalReason.ROLE_NOT_ALLOWED and refusal.field == Requirement.REASON.value
    )
    house = seen.playbook.house_rules
    for index, reason in enumerate(house.do_not_engage_reasons):
        roles = house.reason_roles.get(reason)
        if roles is None:
            continue
        path = ("house_rules", "do_not_engage_reasons", index, "by")
        name = f"{reason} (for {', '.join(roles)})"
        missing = "no test saw another role refused it"
        yield _item(seen, "reason_by_role", name, path, hits=refused[reason], missing=missing)


def _surge_rules(seen: Exercised) -> Iterator[Item]:
    """Each surge rule: exercised when it fired in a test (a group's incident gathered mentions fast enough)."""
    fired = Counter(
        effect.details.get("surge")
        for effect in seen.trail.effects
        if isinstance(effect, Audit) and effect.kind == "surge" and "mentions" in effect.details
    )
    for index, rule in enumerate(seen.playbook.surges):
        rate = f" at {rule.rate:g}x the {format_duration(rule.over)} before" if rule.rate and rule.over else ""
        name = f"{rule.name} ({rule.count} within {format_duration(rule.within)}{rate})"
        details: dict[str, str | tuple[str, ...]] = {}
        if rule.description:
            details["description"] = rule.description
        missing = "no test saw it fire"
        yield _item(seen, "surge_rule", name, ("surges", index), hits=fired[rule.name], missing=missing, **details)


#: Every kind of item a coverage report counts, in the order the report lists their figures.
KINDS: tuple[Kind, ...] = (
    Kind("transition", "transition", "transitions", _transitions),
    Kind("guard", "guard", "guards", _guards),
    Kind("escalation_step", "escalation", "escalation steps", _escalation_steps),
    Kind("event_rule", "notify_on rule", "notify_on rules", _event_rules),
    Kind("surge_rule", "surge rule", "surge rules", _surge_rules),
    Kind("never_say", "never_say", "never_say phrases", _never_say, quoted=True),
    Kind("do_not_engage_reason", "do-not-engage reason", "do-not-engage reasons", _do_not_engage_reasons),
    Kind("reason_by_role", "reason kept for some roles", "reasons kept for some roles", _reasons_by_role),
)


def _share(covered: int, total: int) -> float:
    """The share covered, as a percentage; nothing to cover is all of it covered."""
    return 100.0 if total == 0 else covered * 100 / total


@dataclass(frozen=True, slots=True)
class PlaybookCoverage:
    """One playbook's items, in the order they are written, and what its tests covered of them."""

    file: str
    playbook: Playbook
    items: tuple[Item, ...]

    @property
    def covered(self) -> int:
        return sum(1 for item in self.items if item.covered)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> float:
        return _share(self.covered, self.total)

    def of_kind(self, kind: str) -> tuple[int, int]:
        """(covered, total) among the items of one kind."""
        items = [item for item in self.items if item.kind == kind]
        return sum(1 for item in items if item.covered), len(items)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Every playbook the tests ran, and the figures over all of them."""

    playbooks: tuple[PlaybookCoverage, ...]

    @property
    def covered(self) -> int:
        return sum(playbook.covered for playbook in self.playbooks)

    @property
    def total(self) -> int:
        return sum(playbook.total for playbook in self.playbooks)

    @property
    def percent(self) -> float:
        return _share(self.covered, self.total)

    def meets(self, minimum: float) -> bool:
        """Whether the share covered is at least ``minimum`` percent (compared exactly, not as rounded)."""
        return self.covered * 100 >= minimum * self.total


def shown(value: float, places: int = 0) -> str:
    """A percentage for people, to ``places`` decimals: rounded down, so that 99.6% never reads as all of it,
    nor 79.96% as the 80% it falls short of."""
    scale = 10**places
    return f"{math.floor(value * scale) / scale:.{places}f}%"


def coverage_of(reports: Sequence[FileReport]) -> Coverage:
    """The coverage of every playbook the reports' tests ran, each once however many test files name it."""
    found: dict[FilePath, tuple[str, Playbook, Marks, Trail]] = {}
    for report in reports:
        loaded = report.loaded
        if report.playbook is None or loaded is None or loaded.playbook is None or loaded.marks is None:
            continue
        key = FilePath(report.playbook).resolve()
        if key not in found:
            found[key] = (loaded.source, loaded.playbook, loaded.marks, Trail())
        found[key][3].extend(report.trail)
    playbooks = []
    for source, playbook, marks, trail in found.values():
        seen = Exercised(playbook, marks, trail)
        items = [item for kind in KINDS for item in kind.items(seen)]
        items.sort(key=lambda item: (item.line, item.column))
        # Named as a path the author can open: tests/../playbooks/x.yaml is playbooks/x.yaml.
        playbooks.append(PlaybookCoverage(posixpath.normpath(source), playbook, tuple(items)))
    return Coverage(tuple(playbooks))
