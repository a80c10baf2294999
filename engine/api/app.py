"""The HTTP app: FastAPI over the service, one router per resource. Every error is JSON:
``{"error": {"code", "message", "details"}}``.

Answers come after the commit: a mention acknowledged with 200 is in the store. Requests carry a bearer token
(``calmly token issue PERSON``); the person's roles come from the roster. When intake secrets are configured,
``POST /v1/mentions`` takes a Standard Webhooks signature instead (listening tools sign; they hold no token), and a
``webhook-id`` seen before is refused. Each token (or client address, without one) has a request budget a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from engine.api import _admin, _approval, _incidents, _intake, _operations, _teamwork
from engine.api import _openapi as doc
from engine.api._context import ApiContext, ReloadOutcome
from engine.api._errors import Unexpected, install_handlers
from engine.api._timing import Timing

__all__ = ["ApiContext", "ReloadOutcome", "create_app"]


def create_app(context: ApiContext, *, pages: Sequence[APIRouter] = ()) -> FastAPI:
    """The app over ``context``: its routers (the admin ones where the daemon has what they drive), the error
    handlers, and the OpenAPI document with its security schemes; ``pages`` are more routers on the same app (the
    desk's: :func:`engine.desk.create_web_app` builds the daemon's whole app)."""
    # FastAPIOffline serves /docs and /redoc with the Swagger UI and ReDoc files installed with it, not from a CDN:
    # the pages work on a daemon with no way out to the internet, and load nothing from elsewhere.
    app = FastAPIOffline(
        title="calmly",
        version="1",
        description="Incidents from social media complaints, run by playbooks: intake, incidents, actions.",
        static_url="/docs-assets",
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI would send the document to an online validator
    )
    app.state.context = context
    app.add_middleware(Unexpected)
    app.add_middleware(Timing)  # added last, so outermost: it sees the 500 that Unexpected answers
    install_handlers(app)
    app.include_router(_operations.router)
    app.include_router(_intake.router)
    app.include_router(_incidents.router)
    app.include_router(_teamwork.router)
    app.include_router(_approval.router)
    if context.reload is not None:
        app.include_router(_admin.reload_router)
    if context.simulated is not None:
        app.include_router(_admin.clock_router)
    for router in pages:  # the desk's, which builds on this package and so is handed in rather than imported
        app.include_router(router)

    plain = app.openapi

    def openapi() -> dict[str, Any]:
        return doc.secured(plain(), signed_intake=bool(context.intake_secrets))

    app.openapi = openapi  # type: ignore[method-assign] # FastAPI's way to extend the document it builds
    return app
