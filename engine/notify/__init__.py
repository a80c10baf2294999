"""Notifications: the outbox delivered to each role's channels (log, webhook, Slack, email), at least once, each
with a stable idempotency key, retried with backoff and jitter, dead-lettered after a limit."""

from engine.notify._channels import Channel, DeliveryError, EmailChannel, LogChannel, SlackChannel, WebhookChannel
from engine.notify._dispatcher import Dispatcher, RetryPolicy
from engine.notify._message import Message, compose

__all__ = [
    "Channel",
    "DeliveryError",
    "Dispatcher",
    "EmailChannel",
    "LogChannel",
    "Message",
    "RetryPolicy",
    "SlackChannel",
    "WebhookChannel",
    "compose",
]
