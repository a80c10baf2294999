"""A report as one self-contained HTML page: the figures as tables and the charts embedded as ``data:`` images, with
its style inline and nothing fetched from anywhere, so it can be mailed, archived or opened offline."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from typing import Any

from engine.playbook import AnswerKind
from engine.report._charts import charts
from engine.report._report import Report
from engine.report._tables import (
    STATE_HEAD,
    TARGET_HEAD,
    TIME_HEAD,
    incidents,
    shown_share,
    state_rows,
    target_rows,
    time_rows,
)

__all__ = ["NOTE", "report_html", "report_sections"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1a202c; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; border-bottom: 1px solid #cbd5e0; }
h3 { font-size: 1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; } caption { text-align: left; font-weight: 600; }
th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #e2e8f0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; } .note { color: #4a5568; font-size: 0.9rem; }
"""


def _table(caption: str, head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    if not rows:
        return f"<p>{escape(caption)}: none.</p>"
    heads = "".join(f'<th scope="col">{escape(cell)}</th>' for cell in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{escape(c)}</td>' if i else f"<td>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"


def _times(group: dict[str, Any]) -> str:
    return _table("Response times", ("", *TIME_HEAD[1:]), time_rows(group))


def _targets(group: dict[str, Any]) -> str:
    head = (*TARGET_HEAD[:-2], "late by (median)", "late by (p90)")
    return _table("Targets", head, target_rows(group))


def _others(group: dict[str, Any]) -> str:
    states = state_rows(group)
    escalations = [(item["clock"], item["step"], str(item["sent"])) for item in group["escalations"]]
    reasons = [(reason, str(count)) for reason, count in group["do_not_engage"].items()]
    refusals = [(item["reason"], item["phrase"] or "-", str(item["refused"])) for item in group["refusals"]]
    promises = group["promises"]
    kept = [(verdict, str(promises[verdict])) for verdict in ("made", "kept", "kept_late", "broken", "open")]
    return "".join(
        (
            _table("Time in each state", ("state", *STATE_HEAD[1:]), states),
            _table("Escalations sent", ("clock", "step", "sent"), escalations),
            _table("Do-not-engage reasons", ("reason", "incidents"), reasons),
            _table("Refusals", ("refused by", "house-rule words or reason", "refused"), refusals),
            _table("Promises", ("", "promises"), kept),
        )
    )


def _review(group: dict[str, Any]) -> str:
    review = group["review"]
    parts = [f"<h3>Review</h3><p>{review['reviewed']} reviewed of {review['resolved']} resolved.</p>"]
    if review["never_reviewed"]:
        listed = ", ".join(review["never_reviewed_incidents"])
        parts.append(f"<p>Never reviewed ({review['never_reviewed']}): {escape(listed)}</p>")
    for name, question in review["questions"].items():
        if question["answer"] == AnswerKind.YES_NO:
            parts.append(
                f"<p>{escape(name)}: yes {question['yes']}, no {question['no']} "
                f"({shown_share(question['share_yes'])} yes)</p>"
            )
        elif question["answer"] == AnswerKind.TEXT:
            items = "".join(
                f"<li>{escape(item['incident'])}: {escape(item['answer'])}</li>" for item in question["answers"]
            )
            parts.append(f"<p>{escape(name)}:</p><ul>{items}</ul>" if items else f"<p>{escape(name)}: no answers</p>")
        elif question["answer"] == AnswerKind.CHOICE:
            rows = [(key, str(count)) for key, count in question["answers"].items()]
            parts.append(_table(name, ("answer", "incidents"), rows))
        else:
            parts.append(f"<p>{escape(name)}: median {question['median']}</p>")
    return "".join(parts)


def _group(group: dict[str, Any], title: str) -> str:
    heading = f"<h2>{escape(title)}</h2><p>{incidents(group['incidents'])} ({group['closed']} closed).</p>"
    if not group["incidents"]:
        return heading
    return heading + _times(group) + _targets(group) + _others(group) + _review(group)


def report_sections(report: Report) -> str:
    """The report's charts and tables as an HTML fragment (every value escaped), for a page to place: the
    standalone page below, or the desk's Reports page."""
    drawn = "".join(
        f'<figure><img alt="{escape(chart.title)}: {escape(chart.words)}" '
        f'src="data:image/png;base64,{base64.b64encode(chart.png).decode("ascii")}">'
        f"<figcaption>{escape(chart.title)}</figcaption></figure>"
        for chart in charts(report)
    )
    groups = "".join(_group(group, f"{report.by} {group['key']}") for group in report.groups)
    missing = ""
    if report.missing_playbooks:
        missing = (
            '<p class="note">No playbook source for '
            + escape(", ".join(report.missing_playbooks))
            + ": its incidents are counted without business hours or step thresholds.</p>"
        )
    return f"{missing}{drawn}{_group(report.overall, 'All incidents')}{groups}"


def report_html(report: Report) -> str:
    """The report as one HTML page with its charts embedded."""
    kept = "closed incidents" if report.closed_only else "closed and open incidents"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>calmly report</title><style>{_STYLE}</style></head><body>"
        f"<h1>calmly report</h1><p>{escape(report.period.words())} ({kept}; "
        f'as of {escape(report.as_of.isoformat())}).</p><p class="note">{NOTE}</p>'
        f"{report_sections(report)}</body></html>\n"
    )


#: What the figures' words mean, said once on every page that shows them.
NOTE = (
    "Median: the middle value. p90: nearest rank, the smallest value that 90% do not exceed. Business hours are "
    "counted on the calendar of the playbook version each incident opened under."
)
