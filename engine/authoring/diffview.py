"""A behavioural diff told three ways: text for a terminal, JSON for scripts, and Markdown for a pull request's
comment or a job summary. All three say the same things in the same order: the totals, then each changed incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.authoring.behaviour import Summary
from engine.authoring.comparison import IncidentDiff, Moved, Opening
from engine.authoring.replay import Notice
from engine.playbook import format_duration

__all__ = ["diff_json", "diff_markdown", "diff_text"]


def _when(at: datetime) -> str:
    return at.strftime("%a %d %b %H:%M UTC")


def _shift(by: timedelta) -> str:
    seconds = by.total_seconds()
    return f"{format_duration(abs(by))} {'later' if seconds > 0 else 'earlier'}"


def _notice(notice: Notice) -> str:
    what = notice.event if notice.event else f"{notice.kind} on {notice.clock}"
    return f"{notice.role} ({what}, {_when(notice.at)})"


def _grouped(what: str, notices: Sequence[Notice]) -> list[str]:
    """One line per notification, or per run of one step's repeats (the same role, clock and step)."""
    runs: dict[tuple[str, str, str, int, str], list[Notice]] = {}
    for notice in notices:
        runs.setdefault((notice.role, notice.clock, notice.kind, notice.step, notice.event or ""), []).append(notice)
    lines = []
    for run in runs.values():
        if len(run) == 1:
            lines.append(f"{what}: {_notice(run[0])}")
            continue
        first, last = run[0], run[-1]
        about = first.event if first.event else f"{first.kind} on {first.clock}"
        lines.append(f"{len(run)} x {what}: {first.role} ({about}, {_when(first.at)} to {_when(last.at)})")
    return lines


def _grouped_moves(moves: Sequence[Moved]) -> list[str]:
    runs: dict[tuple[str, str, str, int, str, timedelta], list[Moved]] = {}
    for move in moves:
        notice = move.new
        runs.setdefault((notice.role, notice.clock, notice.kind, notice.step, notice.event or "", move.by), []).append(
            move
        )
    lines = []
    for run in runs.values():
        count = f"{len(run)} x " if len(run) > 1 else ""
        lines.append(f"{count}notification moved: {_notice(run[0].new)}, {_shift(run[0].by)}")
    return lines


def _counted(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _lines(diff: IncidentDiff) -> list[str]:
    """What changed for one incident, one line each, in words."""
    found: list[str] = []
    if diff.opening == Opening.NOT:
        found.append(f"would not open under {diff.playbook} v{diff.new_version} (its applies_to no longer matches)")
    elif diff.opening == Opening.OTHER:
        found.append(f"would open under another playbook: {diff.other_playbook}")
    if diff.new_severity is not None and diff.new_severity != diff.old_severity:
        found.append(f"severity {diff.old_severity} -> {diff.new_severity}")
    if diff.new_state is not None and diff.new_state != diff.old_state:
        found.append(f"final state {diff.old_state} -> {diff.new_state}")
    found += [f"refused now: {r.trigger} by {r.person} at {_when(r.at)}: {r.message}" for r in diff.now_refused]
    found += [f"allowed now: {r.trigger} by {r.person} at {_when(r.at)}" for r in diff.now_allowed]
    found += [f"breach added: {clock}" for clock in diff.breaches_added]
    found += [f"breach removed: {clock}" for clock in diff.breaches_removed]
    found += _grouped("notification added", diff.notices_added)
    found += _grouped("notification removed", diff.notices_removed)
    found += _grouped_moves(diff.notices_moved)
    found += [line + " (no one holds the role, no channel set)" for line in _grouped("reaches nobody", diff.unreached)]
    if diff.stopped_early:
        found.append("the new replay stopped at its limit of deadlines")
    return found


def _totals(summary: Summary) -> list[tuple[str, str]]:
    rows = [
        ("incidents replayed", str(summary.incidents)),
        ("changed", str(summary.changed)),
        ("determinism failures", str(summary.nondeterministic)),
    ]
    optional = [
        ("ran under another version (not checked)", str(summary.unchecked) if summary.unchecked else ""),
        ("cannot be replayed", str(len(summary.unreadable)) if summary.unreadable else ""),
        ("would not open", str(summary.would_not_open) if summary.would_not_open else ""),
        ("would open under another playbook", _counted(summary.other_playbook)),
        ("severity changed", str(summary.severity_changed) if summary.severity_changed else ""),
        ("final state changed", str(summary.state_changed) if summary.state_changed else ""),
        ("actions refused now", _counted(summary.now_refused)),
        ("actions allowed now", _counted(summary.now_allowed)),
        ("breaches added", _counted(summary.breaches_added)),
        ("breaches removed", _counted(summary.breaches_removed)),
        ("notifications added", _counted(summary.notices_added)),
        ("notifications removed", _counted(summary.notices_removed)),
        ("notifications earlier", _moved(summary.notices_earlier, summary.earlier_seconds)),
        ("notifications later", _moved(summary.notices_later, summary.later_seconds)),
        ("notifications reaching nobody", _counted(summary.unreached)),
    ]
    return rows + [(name, value) for name, value in optional if value]


def _moved(counter: Counter[str], seconds: Counter[str]) -> str:
    """Each role's count, with how far its notifications moved on average."""
    parts = []
    for role, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        average = timedelta(seconds=seconds[role] // max(count, 1))
        parts.append(f"{role} {count}" + (f" (on average {format_duration(average)})" if average else ""))
    return ", ".join(parts)


def _heading(diff: IncidentDiff) -> str:
    return f"{diff.id} ({diff.playbook} v{diff.old_version} -> v{diff.new_version}, {diff.old_severity})"


def _more(summary: Summary, shown: int) -> int:
    return summary.changed - shown


def diff_text(summary: Summary, title: str) -> str:
    out = [title, ""]
    width = max(len(name) for name, _ in _totals(summary))
    out += [f"  {name:<{width}}  {value}" for name, value in _totals(summary)]
    for diff in summary.failures:
        out += ["", f"DETERMINISM {_heading(diff)}"] + [f"  {why}" for why in diff.determinism or ()]
    for item, why in summary.unreadable:
        out += ["", f"UNREADABLE {item}: {why}"]
    for diff in summary.details:
        out += ["", _heading(diff)] + [f"  {line}" for line in _lines(diff)]
    if _more(summary, len(summary.details)) > 0:
        out += ["", f"... and {_more(summary, len(summary.details))} more changed incidents (see --format json)"]
    if not summary.incidents and not summary.unreadable:
        out += ["", "No recorded incident ran under these playbooks (by their ids): nothing to replay."]
    elif not summary.changed and not summary.nondeterministic:
        out += ["", "No recorded incident would have gone differently."]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def diff_markdown(summary: Summary, title: str, *, limit: int = 50) -> str:
    """For a pull request: the totals as a table, the determinism failures, then each changed incident folded."""
    out = [f"### {title}", "", "| | |", "|---|---|"]
    out += [f"| {name} | {_cell(value)} |" for name, value in _totals(summary)]
    if summary.failures:
        out += ["", "**Determinism failures**: replaying the old playbook does not reproduce these recordings.", ""]
        for diff in summary.failures[:limit]:
            out.append(f"- `{diff.id}`: " + "; ".join(_cell(why) for why in diff.determinism or ()))
    if summary.unreadable:
        out += ["", "**Cannot be replayed**", ""] + [f"- `{item}`: {_cell(why)}" for item, why in summary.unreadable]
    if summary.details:
        out += ["", "<details><summary>Changed incidents</summary>", ""]
        for diff in summary.details[:limit]:
            out += [f"**{_cell(_heading(diff))}**", ""] + [f"- {_cell(line)}" for line in _lines(diff)] + [""]
        if _more(summary, min(limit, len(summary.details))) > 0:
            out += [f"… and {_more(summary, min(limit, len(summary.details)))} more changed incidents.", ""]
        out.append("</details>")
    elif not summary.incidents and not summary.unreadable:
        out += ["", "No recorded incident ran under these playbooks (by their ids): nothing to replay."]
    elif not summary.nondeterministic:
        out += ["", "No recorded incident would have gone differently."]
    return "\n".join(out) + "\n"


def _notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "role": notice.role,
        "clock": notice.clock,
        "kind": notice.kind,
        "step": notice.step,
        "repetition": notice.repetition,
        "event": notice.event,
        "at": notice.at.isoformat(),
    }


def _incident_json(diff: IncidentDiff) -> dict[str, Any]:
    return {
        "id": diff.id,
        "playbook": diff.playbook,
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "opening": diff.opening,
        "other_playbook": diff.other_playbook,
        "severity": {"old": diff.old_severity, "new": diff.new_severity},
        "state": {"old": diff.old_state, "new": diff.new_state},
        "now_refused": [_refusal(r) for r in diff.now_refused],
        "now_allowed": [_refusal(r) for r in diff.now_allowed],
        "breaches": {"added": list(diff.breaches_added), "removed": list(diff.breaches_removed)},
        "notifications": {
            "added": [_notice_json(n) for n in diff.notices_added],
            "removed": [_notice_json(n) for n in diff.notices_removed],
            "moved": [
                {**_notice_json(m.new), "was_at": m.old.at.isoformat(), "by_seconds": m.by.total_seconds()}
                for m in diff.notices_moved
            ],
            "reaching_nobody": [_notice_json(n) for n in diff.unreached],
        },
        "determinism": None if diff.determinism is None else list(diff.determinism),
    }


def _refusal(refusal: Any) -> dict[str, Any]:
    return {
        "trigger": refusal.trigger,
        "at": refusal.at.isoformat(),
        "person": refusal.person,
        "reason": refusal.reason,
        "message": refusal.message,
    }


def diff_json(summary: Summary, playbooks: Sequence[dict[str, str]]) -> dict[str, Any]:
    return {
        "playbooks": list(playbooks),
        "totals": {
            "incidents": summary.incidents,
            "changed": summary.changed,
            "determinism_failures": summary.nondeterministic,
            "unchecked": summary.unchecked,
            "unreadable": len(summary.unreadable),
            "would_not_open": summary.would_not_open,
            "other_playbook": dict(summary.other_playbook),
            "severity_changed": summary.severity_changed,
            "state_changed": summary.state_changed,
            "now_refused": dict(summary.now_refused),
            "now_allowed": dict(summary.now_allowed),
            "breaches_added": dict(summary.breaches_added),
            "breaches_removed": dict(summary.breaches_removed),
            "notifications_added": dict(summary.notices_added),
            "notifications_removed": dict(summary.notices_removed),
            "notifications_earlier": dict(summary.notices_earlier),
            "notifications_later": dict(summary.notices_later),
            "earlier_seconds": dict(summary.earlier_seconds),
            "later_seconds": dict(summary.later_seconds),
            "reaching_nobody": dict(summary.unreached),
        },
        "determinism_failures": [_incident_json(diff) for diff in summary.failures],
        "unreadable": [{"id": item, "why": why} for item, why in summary.unreadable],
        "incidents": [_incident_json(diff) for diff in summary.details],
        "incidents_left_out": max(0, summary.changed - len(summary.details)),
    }
