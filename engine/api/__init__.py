"""The daemon's HTTP API: intake of mentions, incidents to read and act on, health and readiness."""

from engine.api.app import ApiContext, create_app

__all__ = ["ApiContext", "create_app"]
