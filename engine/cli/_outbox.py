"""The ``calmly outbox`` commands: deliveries read from the daemon's store, and dead ones queued again."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from engine.cli._options import data_option, format_option, store_option
from engine.cli._store import store_in

__all__ = ["outbox"]


@click.group()
def outbox() -> None:
    """See and replay notifications: what is waiting, what was delivered, what gave up (the dead-letter list)."""


@outbox.command("list")
@click.option(
    "--state",
    type=click.Choice(["pending", "delivered", "dead", "all"]),
    default="dead",
    show_default=True,
    help="Which deliveries to show.",
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@data_option
@store_option
@format_option
def outbox_list(state: str, limit: int, data: str, store_url: str | None, fmt: str) -> None:
    """Deliveries: each notification to each destination, with its attempts and last error."""
    from engine.cli._render import deliveries_json, delivery_lines, json_text  # noqa: PLC0415

    with store_in(data, store_url) as store:
        found = store.deliveries(None if state == "all" else state, limit)
    if fmt == "json":
        click.echo(json_text(deliveries_json(found)))
        return
    for line in delivery_lines(state, found):
        click.echo(line)


@outbox.command("retry")
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="Retry every dead delivery.")
@data_option
@store_option
def outbox_retry(key: str | None, every: bool, data: str, store_url: str | None) -> None:
    """Send dead deliveries again: the one notification KEY, or --all. The running daemon picks them up."""
    if (key is None) == (not every):
        raise click.UsageError("name one notification KEY, or give --all")
    with store_in(data, store_url) as store, store.write() as tx:
        count = tx.outbox.retry_dead(None if every else key, datetime.now(UTC))
    click.echo(f"{count} dead deliver{'y' if count == 1 else 'ies'} queued again")
    if count == 0 and key is not None:
        sys.exit(1)
