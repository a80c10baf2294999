"""Figures over recorded incidents: response times, target compliance, escalations, time in each state,
do-not-engage reasons, refusals by house rule, promises and the review's answers, for a period, in all and per
group, as text, JSON, CSV or one HTML page with charts; and the export those reports can also read.

Pure but for reading: the figures come from :class:`~engine.store.RecordedIncident` values (from the store's
:meth:`~engine.store.IncidentViews.recorded`, or :func:`read_export` over an export's lines), and every renderer
returns text. ``as_of`` (the report's moment) is always passed in.
"""

from engine.report._case import Case, Duration, PromiseOutcome, Refusal, TargetOutcome, Verdict, case_of
from engine.report._export import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MASK,
    ExportError,
    decode_incident_lines,
    export_lines,
    incident_lines,
    read_export,
)
from engine.report._page import NOTE, report_html, report_sections
from engine.report._period import Period, PeriodError, iso_week, parse_bound
from engine.report._report import FORMAT_VERSION, Grouping, Report, make_report
from engine.report._rulebooks import Rulebooks
from engine.report._stats import Spread, median, nearest_rank
from engine.report._tables import report_csv, report_text

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "FORMAT_VERSION",
    "MASK",
    "NOTE",
    "Case",
    "Duration",
    "ExportError",
    "Grouping",
    "Period",
    "PeriodError",
    "PromiseOutcome",
    "Refusal",
    "Report",
    "Rulebooks",
    "Spread",
    "TargetOutcome",
    "Verdict",
    "case_of",
    "decode_incident_lines",
    "export_lines",
    "incident_lines",
    "iso_week",
    "make_report",
    "median",
    "nearest_rank",
    "parse_bound",
    "read_export",
    "report_csv",
    "report_html",
    "report_sections",
    "report_text",
]
