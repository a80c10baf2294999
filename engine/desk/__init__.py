"""The desk: the team's pages in the browser, served by the daemon: sign-in, the queue, the incident page, and the
live channel that keeps them up to date."""

from fastapi import APIRouter, FastAPI

from engine.api import ApiContext, create_app
from engine.desk._drafts import router as drafts_router
from engine.desk._live import HEARTBEAT_SECONDS, LocalFeed, live_router
from engine.desk._pages import router as pages_router
from engine.desk._session import signed_in
from engine.desk._teamwork import router as teamwork_router

__all__ = ["HEARTBEAT_SECONDS", "LocalFeed", "create_web_app", "desk_routers", "live_router", "pages_router"]


def desk_routers() -> list[APIRouter]:
    """The desk's routers, for the app to include: its pages, its drafts checked as they are typed, taking and
    noting, and its live channel."""
    return [pages_router, drafts_router, teamwork_router, live_router(signed_in)]


def create_web_app(context: ApiContext) -> FastAPI:
    """The daemon's whole web app: the JSON API under /v1 and the desk's pages at /, on one service."""
    return create_app(context, pages=desk_routers())
