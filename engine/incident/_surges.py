"""Surges: a group's incident gathering mentions fast enough for a playbook's ``surges`` rule to fire.

A rule fires when the incident holds ``count`` mentions within ``within`` of its latest one, and, with ``rate``, when
that is ``rate`` times its rate over the ``over`` before the window. It fires once for an incident: it raises the
incident's severity (``raise_to``), asks for a crisis incident under another playbook (``open``, which the service
opens) and tells roles at once (``notify``, the event ``surge``).

Mentions are counted on the incident itself, in steps of time a tenth of the playbook's shortest surge window (a
second at least), kept for as long as the longest rule looks back: a window holds the step of the latest mention and
the whole steps before it that fit, so ``within: 10m`` counts between nine and ten minutes, and never a mention older
than the window. The counts are part of the incident, written with each mention in the same unit of work, so they
survive a restart and a replay of the incident's log counts them again alike. Time is the mentions' ``posted_at``:
a burst replayed from a file surges as it did when it was posted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from engine.incident._keys import event_key
from engine.incident._made import make_audit, make_notify
from engine.incident._mention import Mention
from engine.incident._record import Audit, Effect, Incident, Notify, NotifyKind, OpenCrisis
from engine.playbook import EventKind, SurgeRule, format_duration

__all__ = ["NO_SURGE", "Surge", "SurgeCounter"]

#: A surge window is counted in this many steps.
_STEPS_A_WINDOW = 10
_NO_TIME = timedelta(0)


class _Rule(NamedTuple):
    place: int  # its place in the playbook's surges
    rule: SurgeRule
    window: int  # how many steps the window spans
    baseline: int  # how many steps before the window the baseline spans (0: no rate)


class Surge(NamedTuple):
    """What a mention's arrival made fire: the rules, and the history's words on each."""

    rules: tuple[tuple[int, SurgeRule], ...]  # each with its place in the playbook's surges
    audits: tuple[Effect, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for _, rule in self.rules)

    def raise_to(self, levels: Mapping[str, int], level: str) -> tuple[str, SurgeRule | None]:
        """The higher of ``level`` and the levels the rules raise to, with the rule behind it (None: ``level``)."""
        best, why = level, None
        for _, rule in self.rules:
            if rule.raise_to is not None and levels[rule.raise_to] > levels[best]:
                best, why = rule.raise_to, rule
        return best, why

    def effects(self, incident: Incident, now: datetime) -> list[Effect]:
        """The notifications and crisis incidents the rules ask for, told from ``incident`` as it is after them."""
        found: list[Effect] = []
        for index, rule in self.rules:
            if rule.notify:
                notice = _notice(incident, index, rule, now)
                details = {"key": notice.key, "event": EventKind.SURGE.value, "roles": list(rule.notify), "rule": index}
                found.append(
                    make_audit(now, "notice", f"surge {rule.name}: notify {', '.join(rule.notify)}", details=details)
                )
                found.append(notice)
            if rule.open is not None:
                found.append(OpenCrisis(rule.open, rule.name))
        return found


#: A mention that made no rule fire (or joined an incident of no group, or under a playbook with no surges).
NO_SURGE = Surge((), ())


class SurgeCounter:
    """A playbook's surge rules compiled: the step of time they count in, and how many steps each looks back."""

    __slots__ = ("_rules", "_span", "step")

    def __init__(self, rules: Sequence[SurgeRule]) -> None:
        shortest = min(rule.within for rule in rules)
        #: The step, in whole seconds.
        self.step = max(1, int(shortest.total_seconds()) // _STEPS_A_WINDOW)
        compiled = []
        for index, rule in enumerate(rules):
            window = max(1, int(rule.within.total_seconds()) // self.step)
            baseline = 0 if rule.over is None or rule.rate is None else int(rule.over.total_seconds()) // self.step
            compiled.append(_Rule(index, rule, window, max(baseline, 1) if rule.rate is not None else 0))
        self._rules = tuple(compiled)
        self._span = max(rule.window + rule.baseline for rule in compiled)

    def step_of(self, moment: datetime) -> int:
        return int(moment.timestamp()) // self.step

    def counted(self, incident: Incident, mention: Mention) -> Incident:
        """The incident with one more mention counted, at its posting time; steps too old for any rule dropped."""
        arrivals = incident.arrivals
        step = self.step_of(mention.posted_at)
        latest = max(step, arrivals[-1][0]) if arrivals else step
        oldest = latest - self._span
        if step <= oldest:  # posted before anything a rule still looks at: counted in mention_count only
            return incident
        kept: list[tuple[int, int]] = []
        placed = False
        for at, count in arrivals:
            if at <= oldest:
                continue
            if at == step:
                kept.append((at, count + 1))
                placed = True
                continue
            if at > step and not placed:
                kept.append((step, 1))
                placed = True
            kept.append((at, count))
        if not placed:
            kept.append((step, 1))
        return incident.evolve(arrivals=tuple(kept))

    def arrive(self, incident: Incident, mention: Mention, now: datetime) -> tuple[Incident, Surge]:
        """A mention joins the incident: counted, and the rules it makes fire recorded as fired."""
        counted = self.counted(incident, mention)
        surge = self.fired(counted, now)
        if not surge.rules:
            return counted, surge
        return counted.evolve(surged=(*counted.surged, *surge.names)), surge

    def fired(self, incident: Incident, now: datetime) -> Surge:
        """The rules that hold for the incident's counts and have not fired for it yet."""
        arrivals = incident.arrivals
        if not arrivals:
            return NO_SURGE
        latest = arrivals[-1][0]
        rules: list[tuple[int, SurgeRule]] = []
        audits: list[Effect] = []
        for index, rule, window, baseline in self._rules:
            if rule.name in incident.surged:
                continue
            recent = sum(count for at, count in arrivals if at > latest - window)
            if recent < rule.count:
                continue
            before = sum(count for at, count in arrivals if latest - window - baseline < at <= latest - window)
            if rule.rate is not None and recent * baseline < rule.rate * before * window:
                continue
            rules.append((index, rule))
            audits.append(_audit(index, rule, recent, before, now))
        return Surge(tuple(rules), tuple(audits)) if rules else NO_SURGE


def _audit(index: int, rule: SurgeRule, recent: int, before: int, now: datetime) -> Audit:
    summary = f"surge {rule.name}: {recent} mentions within {format_duration(rule.within)}"
    if rule.rate is not None and rule.over is not None:
        baseline = f"{before} in the {format_duration(rule.over)} before" if before else "none before"
        summary += f" ({baseline}; the rule fires at {rule.rate:g}x the earlier rate)"
    doing = [
        *([f"raise to {rule.raise_to}"] if rule.raise_to else []),
        *([f"open a crisis under {rule.open}"] if rule.open else []),
        *([f"notify {', '.join(rule.notify)}"] if rule.notify else []),
    ]
    summary += ": " + ", ".join(doing)
    details = {"surge": rule.name, "rule": index, "mentions": recent, "within": format_duration(rule.within)}
    if rule.rate is not None:
        details["before"] = before
    return make_audit(now, "surge", summary, details=details)


def _notice(incident: Incident, index: int, rule: SurgeRule, now: datetime) -> Notify:
    """The surge's notification: an event, keyed by the incident and the rule, which fires once for it."""
    return make_notify(
        key=event_key(incident.id, EventKind.SURGE.value, rule.name, index),
        incident=incident.id,
        roles=rule.notify,
        kind=NotifyKind.EVENT,
        clock="",
        state=incident.state,
        severity=incident.severity,
        step=index,  # the rule's place in the playbook's surges (for an event of notify_on, the rule's there)
        repetition=0,
        threshold=0.0,
        scheduled_at=now,
        due_at=now,
        late_by=_NO_TIME,
        event=EventKind.SURGE.value,
    )
