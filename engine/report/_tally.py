"""The figures of one group of incidents (a playbook, a severity, a week … or all of them), counted case by case.

A tally keeps only what its figures need (durations as seconds, counts), never the incidents themselves, and gives
its figures as JSON-ready data: the shape ``calmly report --format json`` prints, and every other format reads.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from engine.playbook import AnswerKind
from engine.report._case import Case, Duration, PromiseVerdict, Verdict
from engine.report._stats import median, nearest_rank

__all__ = ["Tally"]

_JUDGED = (Verdict.ON_TIME, Verdict.LATE, Verdict.MISSED)


def _seconds(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), "median_seconds": median(values), "p90_seconds": nearest_rank(values, 90)}


class _Times:
    """Durations in calendar time and, where the playbook's calendar applies, in business hours."""

    def __init__(self) -> None:
        self.calendar: list[float] = []
        self.business: list[float] = []

    def add(self, duration: Duration | None) -> None:
        if duration is None:
            return
        self.calendar.append(duration.calendar.total_seconds())
        if duration.business is not None:
            self.business.append(duration.business.total_seconds())

    def figures(self) -> dict[str, Any]:
        return {"calendar": _seconds(self.calendar), "business_hours": _seconds(self.business)}


class _Target:
    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.late_by: list[float] = []

    def figures(self) -> dict[str, Any]:
        judged = sum(self.verdicts[verdict] for verdict in _JUDGED)
        on_time = self.verdicts[Verdict.ON_TIME]
        return {
            **{verdict.value: self.verdicts[verdict] for verdict in Verdict},
            "breached": self.verdicts[Verdict.LATE] + self.verdicts[Verdict.MISSED],
            "compliance": None if not judged else round(on_time / judged, 4),
            "late_by": _seconds(self.late_by),
        }


class _Question:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.counts: Counter[str] = Counter()
        self.numbers: list[float] = []
        self.texts: list[dict[str, str]] = []


class Tally:
    """The figures of one group, added to one case at a time."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.incidents = 0
        self.closed = 0
        self.first_response = _Times()
        self.resolution = _Times()
        self.next_response = _Times()
        self.targets: defaultdict[str, _Target] = defaultdict(_Target)
        self.state_time: defaultdict[str, list[float]] = defaultdict(list)
        self.escalations: Counter[tuple[str, str]] = Counter()
        self.do_not_engage: Counter[str] = Counter()
        self.refusals: Counter[tuple[str, str]] = Counter()
        self.promises: Counter[tuple[str, str]] = Counter()
        self.promise_late: list[float] = []
        self.resolved = 0
        self.reviewed = 0
        self.never_reviewed: list[str] = []
        self.questions: dict[str, _Question] = {}

    def add(self, case: Case) -> None:
        self.incidents += 1
        self.closed += case.final
        self.first_response.add(case.first_response)
        self.resolution.add(case.resolution)
        for duration in case.next_responses:
            self.next_response.add(duration)
        for outcome in case.targets:
            target = self.targets[outcome.target]
            target.verdicts[outcome.verdict] += 1
            if outcome.late_by is not None and outcome.verdict in (Verdict.LATE, Verdict.MISSED):
                target.late_by.append(outcome.late_by.total_seconds())
        for state, spent in case.state_time.items():
            self.state_time[state].append(spent.total_seconds())
        self.escalations.update(case.escalations)
        if case.do_not_engage is not None:
            self.do_not_engage[case.do_not_engage] += 1
        self.refusals.update((refusal.reason, refusal.phrase or "") for refusal in case.refusals)
        for promise in case.promises:
            self.promises[(promise.kind, promise.verdict)] += 1
            if promise.late_by is not None:
                self.promise_late.append(promise.late_by.total_seconds())
        self._review(case)

    def _review(self, case: Case) -> None:
        self.resolved += case.resolved
        if case.review is None:
            if case.resolved and case.questions:
                self.never_reviewed.append(case.id)
            return
        self.reviewed += 1
        for name, kind in case.questions.items():
            question = self.questions.setdefault(name, _Question(kind))
            if name not in case.review:
                continue
            answer = case.review[name]
            if kind == AnswerKind.YES_NO:
                question.counts["yes" if answer in (True, "yes") else "no"] += 1
            elif kind == AnswerKind.NUMBER and isinstance(answer, int | float):
                question.numbers.append(float(answer))
            elif kind == AnswerKind.CHOICE:
                question.counts[str(answer)] += 1
            elif str(answer).strip():
                question.texts.append({"incident": case.id, "answer": str(answer).strip()})

    def figures(self) -> dict[str, Any]:
        """The group's figures, JSON-ready (durations in seconds; shares from 0 to 1)."""
        return {
            "key": self.key,
            "incidents": self.incidents,
            "closed": self.closed,
            "first_response": self.first_response.figures(),
            "resolution": self.resolution.figures(),
            "next_response": self.next_response.figures(),
            "targets": {name: target.figures() for name, target in sorted(self.targets.items())},
            "time_in_state": {state: _seconds(spent) for state, spent in sorted(self.state_time.items())},
            "escalations": [
                {"clock": clock, "step": step, "sent": sent}
                for (clock, step), sent in sorted(self.escalations.items(), key=_step_order)
            ],
            "do_not_engage": dict(sorted(self.do_not_engage.items(), key=lambda item: (-item[1], item[0]))),
            "refusals": [
                {"reason": reason, "phrase": phrase or None, "refused": count}
                for (reason, phrase), count in sorted(self.refusals.items(), key=lambda item: (-item[1], item[0]))
            ],
            "promises": self._promise_figures(),
            "review": self._review_figures(),
        }

    def _promise_figures(self) -> dict[str, Any]:
        verdicts = tuple(verdict.value for verdict in PromiseVerdict)
        by_kind: defaultdict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(verdicts, 0))
        for (kind, verdict), count in self.promises.items():
            by_kind[kind][verdict] += count
        total = {verdict: sum(row[verdict] for row in by_kind.values()) for verdict in verdicts}
        return {
            "made": sum(total.values()),
            **total,
            "late_by": _seconds(self.promise_late),
            "by_kind": dict(sorted(by_kind.items())),
        }

    def _review_figures(self) -> dict[str, Any]:
        questions: dict[str, Any] = {}
        for name, question in self.questions.items():
            shown: dict[str, Any] = {"answer": question.kind}
            if question.kind == AnswerKind.YES_NO:
                answered = question.counts["yes"] + question.counts["no"]
                shown |= {
                    "yes": question.counts["yes"],
                    "no": question.counts["no"],
                    "share_yes": None if not answered else round(question.counts["yes"] / answered, 4),
                }
            elif question.kind == AnswerKind.CHOICE:
                shown["answers"] = dict(question.counts.most_common())
            elif question.kind == AnswerKind.NUMBER:
                shown["median"] = median(question.numbers)
            else:
                shown["answers"] = question.texts
            questions[name] = shown
        return {
            "resolved": self.resolved,
            "reviewed": self.reviewed,
            "never_reviewed": len(self.never_reviewed),
            "never_reviewed_incidents": self.never_reviewed,
            "questions": questions,
        }


def _step_order(item: tuple[tuple[str, str], int]) -> tuple[str, float, str]:
    (clock, step), _ = item
    number = step.removesuffix("%")
    return clock, float(number) if number.replace(".", "", 1).isdigit() else float("inf"), step
