"""The desk's Reports page (``GET /reports``): the figures and charts of ``calmly report`` for a period, read from
the daemon's own store, for anyone signed in.

The period and the grouping come from the page's form (``since``, ``until``, ``by``, ``open``), written as on the
command line; a value that cannot be read is told on the page beside the form (400), as the command would tell it.
The route is a plain function, so it runs in a worker thread: the store is read a page of incidents at a time and
the daemon's writers wait at most one page's query.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.api._context import Context
from engine.desk._pages import page, to_signin
from engine.desk._session import visitor
from engine.report import NOTE, Grouping, Period, PeriodError, Rulebooks, make_report, report_sections

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_GROUPINGS = tuple(grouping.value for grouping in Grouping)
#: The period the page shows when its form gives none: the last 30 days.
_DEFAULT_SPAN = timedelta(days=30)


@router.get("/reports")
def reports_page(request: Request, context: Context) -> Response:
    seen = visitor(request, context)
    if seen is None:
        return to_signin()
    asked = {name: request.query_params.get(name, "").strip() for name in ("since", "until", "by")}
    if not asked["since"] and not asked["until"]:  # the last 30 days unless the form asks otherwise: what a lead
        asked["since"] = (context.clock() - _DEFAULT_SPAN).date().isoformat()  # looks at, and quick to make
    with_open = request.query_params.get("open") == "1"
    values: dict[str, Any] = {
        "seen": seen,
        "asked": asked,
        "with_open": with_open,
        "groupings": _GROUPINGS,
        "note": NOTE,
    }
    if asked["by"] and asked["by"] not in _GROUPINGS:
        problem = f"Group by one of {', '.join(_GROUPINGS)}, not {asked['by']!r}."
        return page(request, "reports.html", context, 400, problem=problem, **values)
    try:
        period = Period.of(asked["since"] or None, asked["until"] or None)
    except PeriodError as error:
        return page(request, "reports.html", context, 400, problem=str(error), **values)
    store = context.service.store
    made = make_report(
        store.recorded(period.since, period.until, closed_only=not with_open),
        Rulebooks.kept_in(store),
        period,
        Grouping(asked["by"]) if asked["by"] else None,
        context.clock(),
        closed_only=not with_open,
    )
    return page(request, "reports.html", context, report=made, sections=report_sections(made), **values)
