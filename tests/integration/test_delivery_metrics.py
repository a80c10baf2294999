"""Deliveries and their failures are counted for /metrics, by channel and outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from intake_support import mention

from engine.notify import DeliveryError, Dispatcher, LogChannel, Message
from engine.service import Library, Roster, Service, load_roster, metrics
from engine.store import SQLiteStore
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]


class Refusing:
    """A channel whose receiver always answers 400: a failure no retry can help."""

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        raise DeliveryError("HTTP 400 from the receiver", retryable=False)


def _one_complaint(roster_file: Path, tmp_path: Path) -> tuple[Roster, FakeClock, SQLiteStore, Library, Service]:
    """A store with the playbooks, the roster in ``roster_file``, and one everyday complaint opened at 09:00."""
    roster = load_roster(roster_file)
    assert isinstance(roster, Roster)
    clock = FakeClock("2026-11-23T09:00:00+00:00")
    store = SQLiteStore(tmp_path / "data")
    store.migrate()
    library = Library(store)
    library.install([ROOT / "playbooks"], clock.now())
    service = Service(store, library, clock.now)
    service.ingest([mention("1")])
    return roster, clock, store, library, service


def _count(name: str, labels: dict[str, str]) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_delivered_and_dead_deliveries_are_counted_by_channel(tmp_path: Path) -> None:
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text(
        "people:\n  alice: {roles: [community_manager]}\n  bob: {roles: [social_lead]}\n"
        "roles:\n  social_lead: {notify: [{channel: webhook, url: 'http://127.0.0.1:9/hooks'}]}\n",
        encoding="utf-8",
    )
    roster, clock, store, library, service = _one_complaint(roster_file, tmp_path)
    clock.advance("4h")  # the 75% warnings (community manager: the log) and the breaches (social lead: a webhook)
    service.fire_due()
    dispatcher = Dispatcher(store, library, lambda: roster, {"log": LogChannel(), "webhook": Refusing()}, clock.now)
    delivered = {"channel": "log", "outcome": "delivered"}
    dead = {"channel": "webhook", "outcome": "dead"}
    failures = {"channel": "webhook", "retryable": "false"}
    before = [
        _count("calmly_notification_deliveries_total", delivered),
        _count("calmly_notification_deliveries_total", dead),
        _count("calmly_notification_delivery_failures_total", failures),
    ]

    dispatcher.route()
    dispatcher.deliver_due()

    after = [
        _count("calmly_notification_deliveries_total", delivered),
        _count("calmly_notification_deliveries_total", dead),
        _count("calmly_notification_delivery_failures_total", failures),
    ]
    assert [now - was for now, was in zip(after, before, strict=True)] == [2, 2, 2]
    store.close()


class Broken:
    """A channel failing in a way no channel foresaw (a malformed secret, say)."""

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        raise ValueError("whsec_not-base64 is not base64")


def test_an_unforeseen_failure_goes_to_the_dead_letters_and_the_deliveries_behind_it_go_out(tmp_path: Path) -> None:
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text(
        "people:\n  alice: {roles: [community_manager]}\n  bob: {roles: [social_lead]}\n"
        "roles:\n  community_manager: {notify: [{channel: webhook, url: 'http://127.0.0.1:9/hooks'}]}\n",
        encoding="utf-8",
    )
    roster, clock, store, library, service = _one_complaint(roster_file, tmp_path)
    clock.advance("4h")  # warnings go to the community manager's webhook (broken), breaches to the log
    service.fire_due()
    dispatcher = Dispatcher(store, library, lambda: roster, {"log": LogChannel(), "webhook": Broken()}, clock.now)

    dispatcher.route()
    outcomes = dispatcher.deliver_due()

    dead = store.deliveries("dead", 10)
    assert {item.destination for item in dead} == {"webhook:http://127.0.0.1:9/hooks"}
    assert {item.last_error for item in dead} == {"cannot send (ValueError)"}  # the type only: no secret
    assert len(store.deliveries("delivered", 10)) == len(outcomes) - len(dead) > 0
    store.close()
