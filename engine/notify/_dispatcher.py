"""Delivering the outbox: each notification routed to its roles' destinations, each delivery sent at least once,
retried with exponential backoff and jitter, and given up into the dead-letter list after a limit.

Routing and every outcome are written to the store; the sending itself happens outside any transaction. If the
daemon stops between sending and recording, the delivery is sent again after the restart, with the same
idempotency key, so the receiver can drop the repeat.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from engine.notify._channels import Channel, DeliveryError
from engine.notify._message import compose
from engine.service import Library, PlaybookMissing, Roster, latest_post, metrics
from engine.store import Delivery, Store

__all__ = ["Dispatcher", "RetryPolicy"]

_log = structlog.get_logger("calmly.notify")

#: How many notifications one transaction routes at most: few enough that a mention or an action waiting for the
#: store waits for a short transaction.
_ROUTED_TOGETHER = 25


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (from 1) waits base * 2**(n-1), at most ``cap``, scaled by a random factor from half to whole
    (jitter, so receivers that failed together are not retried together); after ``attempts`` tries it is dead."""

    attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)
    #: How long a claimed delivery is this daemon's to send before another may take it over (it died meanwhile):
    #: longer than any channel's timeout, so a slow send is never sent twice at once.
    lease: timedelta = timedelta(minutes=2)

    def delay(self, attempt: int, jitter: float) -> timedelta:
        wait: timedelta = min(self.cap, self.base * 2 ** (attempt - 1))
        return wait * (0.5 + jitter / 2)


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Delivery
    error: DeliveryError | None
    retry_at: datetime | None
    at: datetime | None = None  # when it was sent (a success), or tried


def _logger(delivery: Delivery) -> structlog.typing.FilteringBoundLogger:
    """The log, bound to what every line about one delivery names."""
    bound: structlog.typing.FilteringBoundLogger = _log.bind(
        key=delivery.outbox_key, destination=delivery.destination, incident_id=delivery.incident_id
    )
    return bound


class Dispatcher:
    def __init__(
        self,
        store: Store,
        library: Library,
        roster: Callable[[], Roster],
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        *,
        policy: RetryPolicy = RetryPolicy(),
        jitter: Callable[[], float] = random.random,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._library = library
        self._roster = roster
        self._channels = channels
        self._clock = clock
        self._wall_clock = wall_clock or clock  # what leases are measured by (see deliver_due)
        self._policy = policy
        self._jitter = jitter

    def route(self, limit: int = 500) -> int:
        """Give each new notification its destinations (from the roster as it is now), several to a transaction
        (:data:`_ROUTED_TOGETHER`): a burst of deadlines puts thousands in the outbox at once."""
        # The outbox's bookkeeping is not flushed commit by commit: lost to a power cut, a routing is redone and a
        # delivery sent again with the same idempotency key, which at-least-once delivery allows.
        roster = self._roster()
        rows = self._store.unrouted(limit)
        for first in range(0, len(rows), _ROUTED_TOGETHER):
            with self._store.write(durable=False) as tx:
                for row in rows[first : first + _ROUTED_TOGETHER]:
                    destinations = roster.destinations([str(role) for role in row.body.get("roles", [])])
                    tx.outbox.route(row.key, [(item.id, item.channel) for item in destinations], self._clock())
        return len(rows)

    def deliver_due(self, limit: int = 100) -> list[Outcome]:
        """Send every delivery that is due, each once; record what became of it."""
        outcomes = []
        roster = self._roster()
        by_id = {}
        sent: list[tuple[Delivery, datetime]] = []
        # Claimed first (with a lease, where several daemons share the store), then sent outside any transaction.
        with self._store.write(durable=False) as tx:
            # The lease is judged by the wall clock: a simulated clock jumps minutes at once, and a lease measured by
            # it would run out while the delivery is still being sent, so another daemon would send it too.
            claimed = tx.outbox.claim(self._clock(), limit, self._policy.lease, self._wall_clock())
        for delivery in claimed:
            roles = [str(role) for role in delivery.body.get("roles", [])]
            if delivery.destination not in by_id:
                by_id.update({item.id: item for item in roster.destinations(roles)})
            outcome = self._deliver(delivery, by_id.get(delivery.destination), roster)
            if outcome.error is None and outcome.at is not None:
                sent.append((delivery, outcome.at))
            outcomes.append(outcome)
        self._record_sent(sent)
        return outcomes

    def _record_sent(self, sent: list[tuple[Delivery, datetime]]) -> None:
        """Record what was sent, all in one unit of work: a burst of deadlines sends thousands. Lost to a crash
        before this commits, they are sent again with the same idempotency keys (at least once)."""
        if not sent:
            return
        with self._store.write(durable=False) as tx:
            for delivery, at in sent:
                tx.outbox.delivered(delivery.outbox_key, delivery.destination, at)
        for delivery, _ in sent:
            metrics.DELIVERIES.labels(channel=delivery.channel, outcome="delivered").inc()
            _logger(delivery).info("delivered", channel=delivery.channel, attempt=delivery.attempts + 1)

    def _deliver(self, delivery: Delivery, destination: object, roster: Roster) -> Outcome:
        now = self._clock()
        log = _logger(delivery)
        try:
            if destination is None:
                raise DeliveryError("the roster no longer has this destination", retryable=False)
            channel = self._channels.get(delivery.channel)
            if channel is None:
                raise DeliveryError(f"no {delivery.channel} channel is set up", retryable=False)
            try:
                book = self._library.by_digest(str(delivery.body.get("playbook_digest", "")))
            except PlaybookMissing as missing:
                raise DeliveryError(str(missing), retryable=False) from missing
            row = self._store.incident(delivery.incident_id)
            link = roster.incident_link.replace("{incident}", delivery.incident_id) if roster.incident_link else None
            posts = self._store.mentions_of(delivery.incident_id)
            message = compose(delivery.body, row, book, now, link, latest=latest_post(posts))
            channel.send(message, getattr(destination, "settings", {}), now)
        except Exception as error:  # a channel's unforeseen failure must not block the deliveries behind it
            if not isinstance(error, DeliveryError):
                # Only the type: a message could quote an address or a secret.
                error = DeliveryError(f"cannot send ({type(error).__name__})", retryable=False)
            attempt = delivery.attempts + 1
            retry = error.retryable and attempt < self._policy.attempts
            retry_at = now + self._policy.delay(attempt, self._jitter()) if retry else None
            with self._store.write(durable=False) as tx:
                tx.outbox.failed(delivery.outbox_key, delivery.destination, error.reason, retry_at, now)
            log.warning(
                "delivery failed",
                reason=error.reason,
                attempt=attempt,
                retry_at=None if retry_at is None else retry_at.isoformat(),
                dead=retry_at is None,
            )
            metrics.DELIVERY_FAILURES.labels(channel=delivery.channel, retryable=str(error.retryable).lower()).inc()
            metrics.DELIVERIES.labels(channel=delivery.channel, outcome="failed" if retry_at else "dead").inc()
            return Outcome(delivery, error, retry_at, now)
        return Outcome(delivery, None, None, now)  # recorded by the caller, with the others sent

    def next_due(self) -> datetime | None:
        return self._store.earliest_delivery()

    def now(self) -> datetime:
        return self._clock()
