"""The desk: the team's pages in the browser, served by the daemon: sign-in, the queue, the incident page, and the
live channel that keeps them up to date."""

from engine.desk._live import HEARTBEAT_SECONDS, LocalFeed, live_router

__all__ = ["HEARTBEAT_SECONDS", "LocalFeed", "live_router"]
