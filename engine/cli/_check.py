"""The ``calmly check`` command: the configuration, the roster and the playbooks checked together, for CI.

Registered on the ``calmly`` group by :mod:`engine.cli._main`. Exit codes: 0 nothing failed, 1 a file has errors or a
finding failed (a warning too, with --strict), 2 usage error. The checks themselves are in
:mod:`engine.service._preflight`,
which the daemon runs at start as well.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from engine.cli._options import output_format

__all__ = ["check"]


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The daemon's config file (env CALMLY_CONFIG); its roster and playbooks are the ones checked.",
)
@click.option(
    "--playbooks",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Playbook files or folders [default: as the daemon: playbooks; env CALMLY_PLAYBOOKS].",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The roster file [default: as the daemon: roster.yaml; env CALMLY_ROSTER].",
)
@output_format(("text", "json"), "text for people; json for scripts.")
@click.option("--strict", is_flag=True, help="Warnings (unset secrets, an SMTP name that does not resolve) fail too.")
def check(config_file: Path | None, playbooks: tuple[Path, ...], roster: Path | None, fmt: str, strict: bool) -> None:
    """Check the set-up the daemon would run: config, roster and playbooks, together.

    Reports every problem in each file (as calmly validate does), then what only the set shows: a role the
    playbooks notify or need that nobody in the roster holds (E900, E901), a channel whose secret variable is unset
    here (W900), an SMTP server whose name does not resolve (W901). Run it on the daemon's host with --strict
    before a start or a reload; in CI without it, where production secrets are rightly absent.
    """
    from engine.cli._reports import check_json, check_lines  # noqa: PLC0415
    from engine.daemon import ConfigError, load_config  # noqa: PLC0415 - keeps `calmly validate` quick to start
    from engine.service._preflight import check_files, failed, system_resolver  # noqa: PLC0415

    flags = {
        "playbooks": os.pathsep.join(str(path) for path in playbooks) if playbooks else None,
        "roster": str(roster) if roster is not None else None,
    }
    try:
        config = load_config(config_file, os.environ, flags)
    except ConfigError as error:
        _config_failed(error.problems, fmt)
        return
    missing = [path for path in (*config.playbooks, config.roster) if not path.exists()]
    if missing:
        names = ", ".join(path.as_posix() for path in missing)
        raise click.UsageError(f"cannot find {names}; give --playbooks and --roster, or --config")
    findings = check_files(list(config.playbooks), config.roster, os.environ, system_resolver)
    if fmt == "json":
        click.echo(json.dumps(check_json(findings, not failed(findings, strict)), indent=2))
    else:
        sources = f"{config.roster.as_posix()} and {', '.join(path.as_posix() for path in config.playbooks)}"
        for line in check_lines(findings, sources):
            click.echo(line)
    sys.exit(1 if failed(findings, strict) else 0)


def _config_failed(problems: list[str], fmt: str) -> None:
    from engine.cli._reports import config_json, config_lines  # noqa: PLC0415

    if fmt == "json":
        click.echo(json.dumps(config_json(problems), indent=2))
    else:
        for line in config_lines(problems):
            click.echo(line)
    sys.exit(1)
