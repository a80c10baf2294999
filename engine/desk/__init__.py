"""The desk: the team's pages in the browser, served by the daemon: sign-in, the queue, the incident page, the
live channel that keeps them up to date, who else has an incident open, and the reports."""

from fastapi import APIRouter, FastAPI

from engine.api import ApiContext, create_app
from engine.desk._approving import router as approving_router
from engine.desk._drafts import router as drafts_router
from engine.desk._live import HEARTBEAT_SECONDS, LocalFeed, live_router
from engine.desk._pages import router as pages_router
from engine.desk._presence import Activity, MemoryPresence, Presence, PresenceRegistry
from engine.desk._presence import router as presence_router
from engine.desk._reports import router as reports_router
from engine.desk._session import signed_in
from engine.desk._shared_presence import SharedPresence
from engine.desk._teamwork import router as teamwork_router

__all__ = [
    "HEARTBEAT_SECONDS",
    "Activity",
    "LocalFeed",
    "MemoryPresence",
    "Presence",
    "PresenceRegistry",
    "SharedPresence",
    "create_web_app",
    "desk_routers",
    "live_router",
    "pages_router",
    "presence_router",
]


def desk_routers() -> list[APIRouter]:
    """The desk's routers, for the app to include: its pages, its drafts checked as they are typed, taking and
    noting, approving replies, the beats that say who has an incident open, its live channel, and its reports."""
    return [
        pages_router,
        drafts_router,
        approving_router,
        teamwork_router,
        presence_router,
        live_router(signed_in),
        reports_router,
    ]


def create_web_app(context: ApiContext, presence: PresenceRegistry | None = None) -> FastAPI:
    """The daemon's whole web app: the JSON API under /v1 and the desk's pages at /, on one service. ``presence``
    is the daemon's registry of who has which incident open; without one, the app keeps its own, announcing
    through the context's feed (apps built over one context then each know only their own pages' beats)."""
    app = create_app(context, pages=desk_routers())
    if presence is None:
        feed = context.feed
        presence = MemoryPresence(feed.publish_presence) if feed is not None else MemoryPresence()
    app.state.presence = presence
    return app
