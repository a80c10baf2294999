"""The daemon's metrics, in one registry of its own, served at ``/metrics`` in Prometheus text format.

Counters and histograms that code observes as it goes (deadline lateness, request latency, notification
deliveries) live here, module-level, so any part of the daemon can import and use them::

    from engine.service import metrics
    metrics.DELIVERIES.labels(channel="slack", outcome="delivered").inc()

Figures that are already in the store (incidents by state, severity and playbook; breached clocks; outbox depth) are
read from it at scrape time by :class:`StoreCollector`, with a few cheap grouped queries, rather than kept in step.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.store import Figures

__all__ = [
    "CONTENT_TYPE",
    "DEADLINE_LATENESS",
    "DELIVERIES",
    "DELIVERY_FAILURES",
    "REGISTRY",
    "REQUEST_LATENCY",
    "StoreCollector",
    "render",
]

#: The exposition format's content type (text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: calmly's own registry: not the library's global one, so nothing else in the process leaks into /metrics.
REGISTRY = CollectorRegistry(auto_describe=True)

DEADLINE_LATENESS = Histogram(
    "calmly_deadline_lateness_seconds",
    "How long after its due time the scheduler fired a deadline.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)

REQUEST_LATENCY = Histogram(
    "calmly_http_request_duration_seconds",
    "HTTP requests by method, route template (such as /v1/incidents/{incident_id}) and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

DELIVERIES = Counter(
    "calmly_notification_deliveries",
    "Notification delivery attempts by channel and outcome (delivered, failed, dead).",
    ["channel", "outcome"],
    registry=REGISTRY,
)

DELIVERY_FAILURES = Counter(
    "calmly_notification_delivery_failures",
    "Failed notification deliveries by channel, and whether they will be retried.",
    ["channel", "retryable"],
    registry=REGISTRY,
)


class StoreCollector(Collector):
    """Incidents, breaches and the outbox, counted in the store when scraped."""

    def __init__(self, store: Figures) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        incidents = GaugeMetricFamily(
            "calmly_incidents", "Incidents by playbook, state and severity.", labels=["playbook", "state", "severity"]
        )
        breached = GaugeMetricFamily(
            "calmly_incidents_breached", "Incidents with at least one breached clock, by playbook.", labels=["playbook"]
        )
        by_playbook: dict[str, int] = {}
        for tally in self._store.tallies():
            incidents.add_metric([tally.playbook, tally.state, tally.severity], tally.incidents)
            by_playbook[tally.playbook] = by_playbook.get(tally.playbook, 0) + tally.breached
        for playbook, count in sorted(by_playbook.items()):
            breached.add_metric([playbook], count)
        counts = self._store.counts()
        outbox = GaugeMetricFamily("calmly_outbox_pending", "Notifications in the outbox not yet delivered.")
        outbox.add_metric([], counts.get("outbox_pending", 0))
        deadlines = GaugeMetricFamily("calmly_deadlines_pending", "Deadlines armed and not yet fired.")
        deadlines.add_metric([], counts.get("pending_deadlines", 0))
        yield from (incidents, breached, outbox, deadlines)


def render(store: Figures) -> bytes:
    """The text of one scrape: the process-wide metrics, then what the store holds now."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(StoreCollector(store))
    return generate_latest(REGISTRY) + generate_latest(scrape)
