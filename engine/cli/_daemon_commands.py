"""The commands that run the daemon or talk to it: ``serve``, ``ingest``, ``token``, ``incidents``.

Registered on the ``calmly`` group by :mod:`engine.cli._main`. Same exit codes: 0 success, 1 the input was refused or
the daemon could not do it, 2 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

__all__ = ["incidents", "ingest", "outbox", "serve", "token"]

_URL = "http://127.0.0.1:8642"
_BATCH = 500

_url_option = click.option(
    "--url", envvar="CALMLY_URL", default=_URL, show_default=True, help="The daemon's address (env CALMLY_URL)."
)
_token_option = click.option(
    "--token", envvar="CALMLY_TOKEN", help="Your token from `calmly token issue` (env CALMLY_TOKEN)."
)
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json for scripts."
)


def _fail(message: str) -> None:
    click.echo(f"calmly: {message}", err=True)
    sys.exit(1)


# --- serve ----------------------------------------------------------------------------------------------------


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML config file (schemas/config.schema.json; env CALMLY_CONFIG).",
)
@click.option("--data", help="The folder for the store [default: data; env CALMLY_DATA].")
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
    from engine.daemon import ConfigError, StartupError, configure_logging, load_config  # noqa: PLC0415 - keeps the other commands quick to start  # noqa: PLC0415
    from engine.daemon import serve as run  # noqa: PLC0415

    flags = {
        "data": data,
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
        _fail("the configuration cannot be used:\n" + "\n".join(f"  {line}" for line in error.problems))
        return
    start = None
    if simulated_clock:
        try:
            start = datetime.fromisoformat(simulated_clock.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(
                "write an RFC 3339 time such as 2026-11-23T09:00:00Z", param_hint="START"
            ) from None
        if start.tzinfo is None:
            raise click.BadParameter("give the time with its offset, such as 2026-11-23T09:00:00Z", param_hint="START")
    configure_logging(config.log_format, config.log_level)
    try:
        code = run(config, start)
    except StartupError as error:
        _fail(f"cannot start: {error}")
        return
    sys.exit(code)


# --- ingest ---------------------------------------------------------------------------------------------------


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def _read_mentions(stream: IO[bytes], name: str) -> list[tuple[int, Any]]:
    """Every mention in a JSON Lines stream; any bad line stops everything, with every bad line reported.

    Lines are read as bytes and decoded one by one, so text that is not UTF-8 is reported at its line and column.
    A cut emoji's lone surrogate is mended here, as the daemon would (the repair travels with the mention); the
    daemon's clock, not this one, judges how far ahead ``posted_at`` may be."""
    from engine.incident import mend_mention, parse_mention  # noqa: PLC0415
    from engine.service import BadJson, read_json  # noqa: PLC0415

    found: list[tuple[int, Any]] = []
    problems: list[str] = []
    for number, raw in _lines(stream):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            column = len(raw[: error.start].decode("utf-8", errors="replace")) + 1
            problems.append(
                f"{name}:{number}:{column}: byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8"
            )
            continue
        try:
            item = mend_mention(read_json(line))
        except BadJson as error:
            at = f":{error.column}: not valid JSON" if error.column is not None else ""
            problems.append(f"{name}:{number}{at}: {error.reason}")
            continue
        parsed = parse_mention(item)
        if isinstance(parsed, list):
            problems.extend(f"{name}:{number}: {problem.message}" for problem in parsed)
            continue
        found.append((number, item))
    if problems:
        _fail("nothing was sent; fix these lines first:\n" + "\n".join(f"  {line}" for line in problems))
    return found


@click.command()
@click.argument("source", type=click.File("rb"))
@_url_option
@_token_option
@_format_option
@click.option(
    "--intake-secret",
    envvar="CALMLY_INTAKE_SECRET",
    help="Sign the requests with this whsec_ secret, when the daemon takes signed intake (env CALMLY_INTAKE_SECRET).",
)
def ingest(source: IO[bytes], url: str, token: str | None, fmt: str, intake_secret: str | None) -> None:
    """Send mentions from a JSON Lines file (one mention per line; - for standard input) to the daemon.

    Every line is checked first: if any is not a valid mention, nothing is sent. Each mention then opens an
    incident, joins one, is a duplicate (already received) or is ignored (no playbook applies).
    """
    from engine.cli._client import ApiFailure, Client  # noqa: PLC0415

    name = "<stdin>" if source.name == "<stdin>" else Path(source.name).as_posix()
    mentions = _read_mentions(source, name)
    client = Client(url, token, intake_secret=intake_secret)
    results: list[dict[str, Any]] = []
    try:
        for start in range(0, len(mentions), _BATCH):
            batch = mentions[start : start + _BATCH]
            answers = client.post_mentions([item for _, item in batch])
            results.extend({"line": number, **answer} for (number, _), answer in zip(batch, answers, strict=True))
    except ApiFailure as error:
        sent = f" after {len(results)} of {len(mentions)} were recorded" if results else ""
        _fail(f"{error.message} ({error.code}){sent}")
    finally:
        client.close()
    if fmt == "json":
        click.echo(json.dumps({"results": results}, indent=2))
        return
    tally: dict[str, int] = {}
    for result in results:
        tally[result["status"]] = tally.get(result["status"], 0) + 1
        where = f" {result['incident']}" if result.get("incident") else ""
        click.echo(f"{name}:{result['line']}: {result['status']}{where}")
    summary = ", ".join(f"{count} {status}" for status, count in sorted(tally.items()))
    click.echo(f"{len(results)} mention{'s' if len(results) != 1 else ''}: {summary or 'none'}")


# --- tokens ---------------------------------------------------------------------------------------------------


@click.group()
def token() -> None:
    """Issue and revoke the bearer tokens people act with."""


_data_option = click.option(
    "--data",
    envvar="CALMLY_DATA",
    default="data",
    show_default=True,
    help="The daemon's data folder (env CALMLY_DATA).",
)


def _store(data: str, *, create: bool = False) -> Any:
    """The store in the data folder. Only a command that adds to it (``create``) makes one where there is none, and
    says where; the others say there is none, since a wrong --data would otherwise show an empty store as if real."""
    from engine.store import SQLiteStore, StoreError  # noqa: PLC0415
    from engine.store.sqlite import DATABASE_NAME  # noqa: PLC0415

    path = Path(data) / DATABASE_NAME
    existed = path.exists()
    if not existed and not create:
        _fail(
            f"no store in {data}: is --data right (or CALMLY_DATA)? Give the folder calmly serve uses, or start "
            "the daemon once to make its store there"
        )
    try:
        store = SQLiteStore(Path(data))
        store.migrate()
    except StoreError as error:
        _fail(str(error))
    if not existed:
        click.echo(f"calmly: made a new store at {path.as_posix()}", err=True)
    return store


@token.command("issue")
@click.argument("person")
@_data_option
@click.option(
    "--roster",
    envvar="CALMLY_ROSTER",
    default="roster.yaml",
    show_default=True,
    help="The roster the person must be in (env CALMLY_ROSTER).",
)
@click.option("--expires", metavar="DURATION", help="Make the token stop working after this long, such as 90d.")
@click.option("--label", help="A note on what the token is for, such as 'listening tool'.")
@click.option(
    "--intake-only",
    is_flag=True,
    help="A token that can send mentions and nothing else: the one to give a listening tool.",
)
def token_issue(  # noqa: PLR0917 - click passes each option by name
    person: str, data: str, roster: str, expires: str | None, label: str | None, intake_only: bool
) -> None:
    """Print a new token for PERSON, once: only its hash is kept. The person's roles come from the roster.

    A listening tool gets --intake-only: if its token leaks, it sends mentions and cannot read or act on anything.
    """
    from engine.playbook import parse_duration  # noqa: PLC0415
    from engine.service import (  # noqa: PLC0415
        TokenScope,
        issue_token,
        load_roster,
    )

    found = load_roster(Path(roster))
    if isinstance(found, list):
        _fail("the roster has problems:\n" + "\n".join(f"  {problem.located}" for problem in found))
        return
    member = found.person(person)
    if member is None:
        known = ", ".join(sorted(found.people))
        _fail(f"{person!r} is not in the roster {found.source} (it lists {known}); add them there first")
        return
    try:
        lifetime = None if expires is None else parse_duration(expires)
    except ValueError:
        raise click.BadParameter("write a duration such as 90d or 12h, at most 52w", param_hint="--expires") from None
    store = _store(data, create=True)
    scope = TokenScope.INTAKE if intake_only else TokenScope.FULL
    issued = issue_token(store, person, datetime.now(UTC), expires_in=lifetime, label=label, scope=scope)
    store.close()
    click.echo(issued)
    if intake_only:
        what = f"an intake-only token for {person}: it can send mentions (POST /v1/mentions) and nothing else"
    else:
        what = f"a token for {person} ({', '.join(sorted(member.roles))})"
    click.echo(f"{what}; it is shown this once: keep it somewhere safe", err=True)


@token.command("revoke")
@click.argument("person")
@_data_option
def token_revoke(person: str, data: str) -> None:
    """Revoke every token of PERSON at once."""
    store = _store(data)
    count = store.revoke_tokens(person, datetime.now(UTC))
    store.close()
    click.echo(f"revoked {count} token{'s' if count != 1 else ''} of {person}")


# --- incidents ------------------------------------------------------------------------------------------------


@click.group()
def incidents() -> None:
    """List, show and act on incidents through the daemon (as the person whose token you use)."""


def _client(url: str, token: str | None) -> Any:
    from engine.cli._client import Client  # noqa: PLC0415

    return Client(url, token)


def _call(work: Any) -> Any:
    from engine.cli._client import ApiFailure  # noqa: PLC0415

    try:
        return work()
    except ApiFailure as error:
        detail = f"\n  {json.dumps(error.details)}" if error.details else ""
        _fail(f"{error.message} ({error.code}){detail}")


@incidents.command("list")
@click.option("--state", multiple=True, help="Only incidents in this state (repeat for several).")
@click.option("--severity", multiple=True, help="Only incidents of this severity.")
@click.option("--playbook", multiple=True, help="Only incidents under this playbook.")
@click.option("--breached/--not-breached", default=None, help="Only incidents with (or without) a breached clock.")
@click.option("--open", "open_only", is_flag=True, help="Only incidents not yet closed.")
@click.option("--waiting-on", metavar="ROLE", help="Only incidents a person with ROLE can act on now.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--after", metavar="ID", help="The page after this incident (the 'next' of the previous page).")
@_url_option
@_token_option
@_format_option
def incidents_list(
    *,
    state: tuple[str, ...],
    severity: tuple[str, ...],
    playbook: tuple[str, ...],
    breached: bool | None,
    open_only: bool,
    waiting_on: str | None,
    limit: int,
    after: str | None,
    url: str,
    token: str | None,
    fmt: str,
) -> None:
    """Incidents, oldest first."""
    query: dict[str, str] = {"limit": str(limit)}
    for name, values in (("state", state), ("severity", severity), ("playbook", playbook)):
        if values:
            query[name] = ",".join(values)
    if breached is not None:
        query["breached"] = "true" if breached else "false"
    if open_only:
        query["open"] = "true"
    if waiting_on:
        query["waiting_on"] = waiting_on
    if after:
        query["after"] = after
    client = _client(url, token)
    page = _call(lambda: client.incidents(query))
    client.close()
    if fmt == "json":
        click.echo(json.dumps(page, indent=2))
        return
    from engine.cli._render import list_rows  # noqa: PLC0415

    rows = list_rows(page)
    _table(rows)
    if page.get("next"):
        click.echo(f"more: --after {page['next']}")


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@incidents.command("show")
@click.argument("incident_id")
@_url_option
@_token_option
@_format_option
def incidents_show(incident_id: str, url: str, token: str | None, fmt: str) -> None:
    """One incident: state, severity, running clocks, what can be done now, and its full history."""
    client = _client(url, token)
    found = _call(lambda: client.incident(incident_id))
    client.close()
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    from engine.cli._render import incident_lines  # noqa: PLC0415

    for line in incident_lines(found):
        click.echo(line)


def _set(fields: dict[str, Any], assignment: str) -> None:
    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{assignment!r}: write KEY=VALUE, such as severity=high", param_hint="--field")
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    target = fields
    *parents, last = key.split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
        if not isinstance(target, dict):
            raise click.BadParameter(f"{key!r}: {parent} is already a value", param_hint="--field")
    target[last] = value


@incidents.command("act")
@click.argument("incident_id")
@click.argument("trigger")
@click.option(
    "--field",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help='A field the action requires; dots for parts: public_reply.text="We\'re sorry". Repeat.',
)
@click.option("--version", "seen", type=int, help="The version you saw (default: the current one, read just before).")
@_url_option
@_token_option
@_format_option
def incidents_act(
    *,
    incident_id: str,
    trigger: str,
    assignments: tuple[str, ...],
    seen: int | None,
    url: str,
    token: str | None,
    fmt: str,
) -> None:
    """Take the action TRIGGER on an incident, with the fields it requires."""
    fields: dict[str, Any] = {}
    for assignment in assignments:
        _set(fields, assignment)
    client = _client(url, token)
    if seen is None:
        seen = int(_call(lambda: client.incident(incident_id))["version"])
    done = _call(lambda: client.act(incident_id, trigger, seen, fields))
    client.close()
    if fmt == "json":
        click.echo(json.dumps(done, indent=2))
        return
    incident = done["incident"]
    click.echo(f"{incident['id']}: {incident['state']} (version {incident['version']})")
    for entry in done["history"]:
        click.echo(f"  {entry['kind']}: {entry['summary']}")


# --- outbox ---------------------------------------------------------------------------------------------------


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
@_data_option
@_format_option
def outbox_list(state: str, limit: int, data: str, fmt: str) -> None:
    """Deliveries: each notification to each destination, with its attempts and last error."""
    store = _store(data)
    found = store.deliveries(None if state == "all" else state, limit)
    store.close()
    if fmt == "json":
        rows = [
            {
                "key": item.outbox_key,
                "destination": item.destination,
                "channel": item.channel,
                "state": item.state,
                "attempts": item.attempts,
                "next_attempt_at": item.next_attempt_at.isoformat(),
                "last_error": item.last_error,
                "incident": item.incident_id,
            }
            for item in found
        ]
        click.echo(json.dumps({"deliveries": rows}, indent=2))
        return
    if not found:
        click.echo(f"no {state} deliveries" if state != "all" else "no deliveries")
        return
    table = [("KEY", "DESTINATION", "STATE", "ATTEMPTS", "LAST ERROR")]
    table += [
        (item.outbox_key, item.destination, item.state, str(item.attempts), item.last_error or "-") for item in found
    ]
    _table(table)


@outbox.command("retry")
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="Retry every dead delivery.")
@_data_option
def outbox_retry(key: str | None, every: bool, data: str) -> None:
    """Send dead deliveries again: the one notification KEY, or --all. The running daemon picks them up."""
    if (key is None) == (not every):
        raise click.UsageError("name one notification KEY, or give --all")
    store = _store(data)
    count = store.retry_dead(None if every else key, datetime.now(UTC))
    store.close()
    click.echo(f"{count} dead deliver{'y' if count == 1 else 'ies'} queued again")
    if count == 0 and key is not None:
        sys.exit(1)
