"""The daemon's HTTP API: intake of mentions, incidents to read and act on, health, readiness, metrics, reload."""

from engine.api.app import ApiContext, ReloadOutcome, create_app

__all__ = ["ApiContext", "ReloadOutcome", "create_app"]
