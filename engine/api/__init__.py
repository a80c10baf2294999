"""The daemon's HTTP API: intake of mentions, incidents to read and act on, health, readiness, metrics, reload."""

from engine.api._context import ApiContext, ReloadOutcome
from engine.api._feed import ChangeFeed, IncidentNotice, PresenceNotice, Subscription
from engine.api.app import create_app

__all__ = [
    "ApiContext",
    "ChangeFeed",
    "IncidentNotice",
    "PresenceNotice",
    "ReloadOutcome",
    "Subscription",
    "create_app",
]
