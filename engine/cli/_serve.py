"""The ``calmly serve`` command: the configuration read and checked, then the daemon run until a signal."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click

from engine.cli._failure import fail

__all__ = ["serve"]


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML config file (schemas/config.schema.json; env CALMLY_CONFIG).",
)
@click.option("--data", help="The folder for the store [default: data; env CALMLY_DATA].")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="A PostgreSQL store several daemons share, postgresql://user@host:port/database, in place of --data "
    "[env CALMLY_STORE].",
)
@click.option(
    "--playbooks", multiple=True, help="Playbook files or folders [default: playbooks; env CALMLY_PLAYBOOKS]."
)
@click.option("--roster", help="The roster file [default: roster.yaml; env CALMLY_ROSTER].")
@click.option("--listen", help="Address and port [default: 127.0.0.1:8642; env CALMLY_LISTEN].")
@click.option("--max-body-bytes", help="The largest request body [default: 1048576; env CALMLY_MAX_BODY_BYTES].")
@click.option(
    "--log-format", type=click.Choice(["auto", "json", "console"]), help="[default: auto; env CALMLY_LOG_FORMAT]."
)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="[default: info].")
@click.option(
    "--sqlite-synchronous",
    type=click.Choice(["full", "normal"]),
    help="full: commits survive a power loss; normal: a process crash only, for cheaper commits "
    "[default: full; env CALMLY_SQLITE_SYNCHRONOUS].",
)
@click.option(
    "--simulated-clock",
    metavar="START",
    envvar="CALMLY_SIMULATED_CLOCK",
    help="Run on a simulated clock from START (RFC 3339), moved by POST /v1/admin/clock: for demos and tests.",
)
def serve(
    *,
    config_file: Path | None,
    data: str | None,
    store_url: str | None,
    playbooks: tuple[str, ...],
    roster: str | None,
    listen: str | None,
    max_body_bytes: str | None,
    log_format: str | None,
    log_level: str | None,
    sqlite_synchronous: str | None,
    simulated_clock: str | None,
) -> None:
    """Run the daemon: take mentions, open incidents, fire deadlines, let people act (Ctrl-C or SIGTERM stops it).

    Configuration comes from flags, then environment variables, then --config, then defaults.
    """
    from engine.daemon import ConfigError, StartupError, configure_logging, load_config  # noqa: PLC0415 - keeps the other commands quick to start
    from engine.daemon import serve as run  # noqa: PLC0415

    flags = {
        "data": data,
        "store": store_url,
        "playbooks": os.pathsep.join(playbooks) if playbooks else None,
        "roster": roster,
        "listen": listen,
        "max_body_bytes": max_body_bytes,
        "log_format": log_format,
        "log_level": log_level,
        "sqlite_synchronous": sqlite_synchronous,
    }
    try:
        config = load_config(config_file, os.environ, flags)
    except ConfigError as error:
        fail("the configuration cannot be used:\n" + "\n".join(f"  {line}" for line in error.problems))
    start = _start(simulated_clock) if simulated_clock else None
    configure_logging(config.log_format, config.log_level)
    try:
        code = run(config, start)
    except StartupError as error:
        fail(f"cannot start: {error}")
    sys.exit(code)


def _start(text: str) -> datetime:
    """The simulated clock's start, an RFC 3339 time with its offset."""
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("write an RFC 3339 time such as 2026-11-23T09:00:00Z", param_hint="START") from None
    if start.tzinfo is None:
        raise click.BadParameter("give the time with its offset, such as 2026-11-23T09:00:00Z", param_hint="START")
    return start
