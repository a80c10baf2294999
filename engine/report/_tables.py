"""A report as text tables for people and as CSV for spreadsheets; JSON is :meth:`Report.as_json` itself.

The CSV is long: one row per figure, ``group,figure,value``, the figure named by its path in the JSON report
(``first_response.calendar.median_seconds``, ``targets.first_response.compliance``), so every figure the JSON holds
is a row, and a spreadsheet's filter picks what it needs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from engine.playbook import AnswerKind, format_duration
from engine.report._report import Report

__all__ = [
    "STATE_HEAD",
    "TARGET_HEAD",
    "TIME_HEAD",
    "incidents",
    "report_csv",
    "report_text",
    "shown_duration",
    "shown_share",
    "state_rows",
    "target_rows",
    "time_rows",
]


def shown_duration(seconds: float | None) -> str:
    """A duration as a playbook writes one (``1h20m``), to the second; ``-`` for none."""
    if seconds is None:
        return "-"
    return format_duration(timedelta(seconds=round(seconds))) if round(seconds) else "0s"


def incidents(count: int) -> str:
    return f"{count} incident{'' if count == 1 else 's'}"


def shown_share(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def _table(rows: Sequence[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


#: The heads of the tables the text and the page both show, each beside the function giving its rows.
TIME_HEAD = ("response times", "count", "median", "p90", "median (business hours)", "p90 (business hours)")
TARGET_HEAD = ("target", "on time", "late", "missed", "stopped", "running", "compliance", "late by: median", "p90")
STATE_HEAD = ("time in state", "incidents", "median", "p90")


def time_rows(group: dict[str, Any]) -> list[tuple[str, ...]]:
    """First response, resolution and next response: how many, median and p90, in calendar and business hours."""
    rows: list[tuple[str, ...]] = []
    for name, label in (
        ("first_response", "first response"),
        ("resolution", "resolution"),
        ("next_response", "next response"),
    ):
        calendar, business = group[name]["calendar"], group[name]["business_hours"]
        rows.append(
            (
                label,
                str(calendar["count"]),
                shown_duration(calendar["median_seconds"]),
                shown_duration(calendar["p90_seconds"]),
                shown_duration(business["median_seconds"]),
                shown_duration(business["p90_seconds"]),
            )
        )
    return rows


def target_rows(group: dict[str, Any]) -> list[tuple[str, ...]]:
    """Each target's runs by verdict, its compliance and how late the late ones were."""
    return [
        (
            name,
            str(target["on_time"]),
            str(target["late"]),
            str(target["missed"]),
            str(target["stopped"]),
            str(target["running"]),
            shown_share(target["compliance"]),
            shown_duration(target["late_by"]["median_seconds"]),
            shown_duration(target["late_by"]["p90_seconds"]),
        )
        for name, target in group["targets"].items()
    ]


def state_rows(group: dict[str, Any]) -> list[tuple[str, ...]]:
    """How long incidents stayed in each state: how many, median and p90."""
    return [
        (state, str(spread["count"]), shown_duration(spread["median_seconds"]), shown_duration(spread["p90_seconds"]))
        for state, spread in group["time_in_state"].items()
    ]


def _times(group: dict[str, Any]) -> list[str]:
    return _table([TIME_HEAD, *time_rows(group)])


def _targets(group: dict[str, Any]) -> list[str]:
    if not group["targets"]:
        return ["  targets: none ran"]
    return _table([TARGET_HEAD, *target_rows(group)])


def _states(group: dict[str, Any]) -> list[str]:
    rows = state_rows(group)
    return _table([STATE_HEAD, *rows]) if rows else []


def _counted(group: dict[str, Any]) -> list[str]:
    lines = []
    if group["escalations"]:
        rows = [("escalations sent", "step", "sent")]
        rows += [(item["clock"], item["step"], str(item["sent"])) for item in group["escalations"]]
        lines += _table(rows)
    else:
        lines.append("  escalations sent: none")
    reasons = ", ".join(f"{reason} {count}" for reason, count in group["do_not_engage"].items())
    lines.append(f"  do not engage: {reasons or 'none'}")
    if group["refusals"]:
        rows = [("refused by", "house-rule words or reason", "refused")]
        rows += [
            (item["reason"], "-" if item["phrase"] is None else repr(item["phrase"]), str(item["refused"]))
            for item in group["refusals"]
        ]
        lines += _table(rows)
    else:
        lines.append("  refusals: none")
    promises = group["promises"]
    lines.append(
        f"  promises: {promises['made']} made, {promises['kept']} kept, {promises['kept_late']} kept late, "
        f"{promises['broken']} broken, {promises['open']} open"
    )
    return lines


def _review(group: dict[str, Any]) -> list[str]:
    review = group["review"]
    lines = [f"  review: {review['reviewed']} reviewed of {review['resolved']} resolved"]
    if review["never_reviewed"]:
        lines.append(
            f"    never reviewed ({review['never_reviewed']}): {', '.join(review['never_reviewed_incidents'])}"
        )
    for name, question in review["questions"].items():
        if question["answer"] == AnswerKind.YES_NO:
            answered = question["yes"] + question["no"]
            lines.append(f"    {name}: yes {question['yes']} of {answered} ({shown_share(question['share_yes'])})")
        elif question["answer"] == AnswerKind.NUMBER:
            lines.append(f"    {name}: median {question['median']}")
        elif question["answer"] == AnswerKind.CHOICE:
            lines.append(f"    {name}: " + ", ".join(f"{key} {count}" for key, count in question["answers"].items()))
        else:
            lines.append(f"    {name}:")
            lines += [f"      {item['incident']}: {item['answer']}" for item in question["answers"]]
    return lines


def _group(group: dict[str, Any], title: str) -> list[str]:
    lines = [f"{title}: {incidents(group['incidents'])} ({group['closed']} closed)"]
    if not group["incidents"]:
        return lines
    return [*lines, *_times(group), *_targets(group), *_states(group), *_counted(group), *_review(group), ""]


def report_text(report: Report) -> str:
    """The report as text: the whole period, then each group."""
    kept = "closed incidents" if report.closed_only else "closed and open incidents"
    lines = [f"calmly report: {report.period.words()} ({kept}; as of {report.as_of.isoformat()})"]
    lines.append("median: the middle value; p90: nearest rank (the smallest value 90% do not exceed)")
    if report.missing_playbooks:
        lines.append(
            "no playbook source for digest "
            + ", ".join(report.missing_playbooks)
            + ": its incidents are counted without business hours or step thresholds"
        )
    lines.append("")
    lines += _group(report.overall, "all")
    for group in report.groups:
        lines += _group(group, f"{report.by} {group['key']}")
    return "\n".join(lines).rstrip() + "\n"


def _flat(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flat(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flat(item, f"{path}[{index}]")
    else:
        yield path, value


def report_csv(report: Report) -> str:
    """The report as CSV: a header, then ``group,figure,value`` for every figure of every group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", "figure", "value"])
    for group in (report.overall, *report.groups):
        key = group["key"] if group is report.overall else f"{report.by}={group['key']}"
        for figure, value in _flat({name: item for name, item in group.items() if name != "key"}, ""):
            writer.writerow([key, figure, "" if value is None else value])
    return out.getvalue()
