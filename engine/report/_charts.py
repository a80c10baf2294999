"""The report's charts, drawn by matplotlib: trends per week, target compliance per severity, and the distribution
of first-response times. Each is a PNG, returned as bytes, for a page to embed as a ``data:`` URL.

matplotlib draws off screen (its Agg backend, chosen on each figure, never the process's default), and is imported
only when a chart is drawn: ``calmly report --format text`` does not pay for it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from engine.report._report import Report

__all__ = ["Chart", "charts"]

_HOUR = 3600.0
_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096")


class Chart:
    """One drawn chart: its title, the words that say what it shows (the image's alternative text) and the PNG."""

    def __init__(self, title: str, words: str, png: bytes) -> None:
        self.title, self.words, self.png = title, words, png


def _figure(width: float = 8.0, height: float = 3.6) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - only when a chart is drawn
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _whole(axes: Any) -> None:
    """Counts of incidents on an axis: whole numbers only."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _hours(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / _HOUR


def _weeks(report: Report) -> Chart:
    weeks = [week["key"] for week in report.weeks]
    figure = _figure()
    counts, times = figure.subplots(1, 2)
    counts.bar(weeks, [week["incidents"] for week in report.weeks], color=_COLOURS[0])
    counts.set_title("Incidents opened per week")
    counts.set_ylabel("incidents")
    _whole(counts)
    for name, colour, label in (
        ("first_response", _COLOURS[0], "first response"),
        ("resolution", _COLOURS[1], "resolution"),
    ):
        times.plot(
            weeks,
            [_hours(week[name]["calendar"]["median_seconds"]) for week in report.weeks],
            marker="o",
            color=colour,
            label=f"median {label}",
        )
    times.set_title("Median response times per week")
    times.set_ylabel("hours")
    times.legend(loc="best", fontsize="small")
    for axes in (counts, times):
        axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    words = "; ".join(
        f"{week['key']}: {week['incidents']} incidents, median first response "
        f"{_words_hours(week['first_response']['calendar']['median_seconds'])}"
        for week in report.weeks
    )
    return Chart("Trends per week", words or "no incidents", _png(figure))


def _words_hours(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds / _HOUR:.1f} h"


def _compliance(report: Report) -> Chart:
    severities = [row["key"] for row in report.severities]
    targets = sorted({name for row in report.severities for name in row["targets"]})
    figure = _figure()
    axes = figure.subplots()
    width = 0.8 / max(len(targets), 1)
    for index, target in enumerate(targets):
        shares = [_percent(row["targets"].get(target, {}).get("compliance")) for row in report.severities]
        places = [position + index * width for position in range(len(severities))]
        bars = axes.bar(places, shares, width=width, label=target, color=_COLOURS[index % len(_COLOURS)])
        # Each bar says its share, and a target never judged at a level says so, rather than looking like 0%.
        axes.bar_label(
            bars, labels=["-" if math.isnan(share) else f"{share:.0f}%" for share in shares], fontsize="small"
        )
    axes.set_xticks([position + width * (len(targets) - 1) / 2 for position in range(len(severities))], severities)
    axes.set_xlim(-width, len(severities) - 1 + width * len(targets))
    axes.set_ylim(0, 110)
    axes.set_ylabel("met on time (%)")
    axes.set_title("Target compliance per severity")
    if targets:
        axes.legend(loc="best", fontsize="small")
    words = "; ".join(
        f"{row['key']}: "
        + ", ".join(f"{name} {_words_share(item['compliance'])}" for name, item in row["targets"].items())
        for row in report.severities
    )
    return Chart("Compliance per severity", words or "no targets ran", _png(figure))


def _percent(share: float | None) -> float:
    return float("nan") if share is None else share * 100


def _words_share(share: float | None) -> str:
    return "not judged" if share is None else f"{share * 100:.0f}%"


def _distribution(seconds: Sequence[float]) -> Chart:
    figure = _figure()
    axes = figure.subplots()
    hours = [value / _HOUR for value in seconds]
    if hours:
        axes.hist(hours, bins=min(30, max(5, len(hours) // 3)), color=_COLOURS[0])
    axes.set_xlabel("hours from opening to the first response")
    axes.set_ylabel("incidents")
    _whole(axes)
    axes.set_title("Distribution of first-response times")
    words = f"{len(hours)} first responses" + (f", from {min(hours):.1f} h to {max(hours):.1f} h" if hours else "")
    return Chart("Distribution of first-response times", words, _png(figure))


def charts(report: Report) -> list[Chart]:
    """The report's charts, in the order a page shows them."""
    return [_weeks(report), _compliance(report), _distribution(report.first_response_seconds)]
