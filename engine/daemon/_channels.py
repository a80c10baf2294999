"""The delivery channels the courier sends through, built once from the roster and the environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from engine.notify import Channel, EmailChannel, LogChannel, SlackChannel, WebhookChannel
from engine.service import Roster

__all__ = ["channels_for"]


def channels_for(
    roster: Roster, environment: Mapping[str, str], wall_clock: Callable[[], datetime]
) -> dict[str, Channel]:
    """The delivery channels, built once: the only place they are made.

    A webhook's signature is stamped with ``wall_clock`` (the system's), as a receiver checks it against its own,
    even when the daemon runs on a simulated clock."""
    return {
        "log": LogChannel(),
        "webhook": WebhookChannel(environment, wall_clock),
        "slack": SlackChannel(environment),
        "email": EmailChannel(roster.smtp, environment),
    }
