"""The routes for operators' probes and scrapers, open to anyone: health, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.api import _openapi as doc
from engine.api._context import Context
from engine.errors import NotReady
from engine.service import metrics

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", responses=doc.answers(doc.READY, "Ready for work.", 503))
def readyz(context: Context) -> JSONResponse:
    """The store answers, the playbooks are loaded, the scheduler runs, and on a shared store the daemon's clock
    agrees with the database's: ready for work."""
    try:
        counts = dict(context.service.counts())
    except Exception as error:  # whatever the store's failure, the answer is the same: not ready
        raise NotReady(f"the store does not answer: {error}", details={"store": "unreachable"}) from error
    if not context.ready():
        raise NotReady("starting or stopping", details={"store": "reachable"})
    problem = context.store_problem()
    if problem is not None:
        raise NotReady(problem, details={"store": "clock_skew", "clock": dict(context.store_details())})
    playbooks = [f"{book.playbook.id} v{book.playbook.version}" for book in context.service.library.current]
    store = dict(context.store_details())
    return JSONResponse(
        {
            "status": "ready",
            "playbooks": playbooks,
            **counts,
            "checks": list(context.checks),
            **({"details": {"store": store}} if store else {}),
        }
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
)
async def scrape(context: Context) -> Response:
    """Metrics in Prometheus text format: incidents by state, severity and playbook, breaches, outbox depth,
    deadline lateness, request latency, notification deliveries."""
    text = await run_in_threadpool(metrics.render, context.service)
    return Response(text, media_type=metrics.CONTENT_TYPE)
