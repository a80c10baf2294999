"""The ``calmly incidents`` commands: list, show and act on incidents through the daemon's API, as the person whose
token is used."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine.cli._failure import fail
from engine.cli._options import format_option, token_option, url_option

if TYPE_CHECKING:
    from engine.cli._client import Client

__all__ = ["incidents"]

_T = TypeVar("_T")


@click.group()
def incidents() -> None:
    """List, show and act on incidents through the daemon (as the person whose token you use)."""


def _client(url: str, token: str | None) -> Client:
    from engine.cli._client import Client  # noqa: PLC0415

    return Client(url, token)


def _call(work: Callable[[], _T]) -> _T:
    """The daemon's answer, or the command ends with what the daemon said (its code and details)."""
    from engine.cli._client import ApiFailure  # noqa: PLC0415

    try:
        return work()
    except ApiFailure as error:
        detail = f"\n  {json.dumps(error.details)}" if error.details else ""
        fail(f"{error.message} ({error.code}){detail}")


@incidents.command("list")
@click.option("--state", multiple=True, help="Only incidents in this state (repeat for several).")
@click.option("--severity", multiple=True, help="Only incidents of this severity.")
@click.option("--playbook", multiple=True, help="Only incidents under this playbook.")
@click.option("--breached/--not-breached", default=None, help="Only incidents with (or without) a breached clock.")
@click.option("--open", "open_only", is_flag=True, help="Only incidents not yet closed.")
@click.option("--waiting-on", metavar="ROLE", help="Only incidents a person with ROLE can act on now.")
@click.option("--channel", multiple=True, help="Only incidents on this channel (repeat for several).")
@click.option("--mine", is_flag=True, help="Only the incidents you have (took or were assigned).")
@click.option("--owner", metavar="PERSON", help="Only the incidents PERSON has.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--after", metavar="ID", help="The page after this incident (the 'next' of the previous page).")
@url_option
@token_option
@format_option
def incidents_list(
    *,
    state: tuple[str, ...],
    severity: tuple[str, ...],
    playbook: tuple[str, ...],
    breached: bool | None,
    open_only: bool,
    waiting_on: str | None,
    channel: tuple[str, ...],
    mine: bool,
    owner: str | None,
    limit: int,
    after: str | None,
    url: str,
    token: str | None,
    fmt: str,
) -> None:
    """Incidents, oldest first."""
    if mine and owner:
        raise click.UsageError("--mine lists your own incidents; leave out --owner, or --mine")
    from engine.cli._render import json_text, page_lines  # noqa: PLC0415

    query: dict[str, str] = {"limit": str(limit)}
    for name, values in (("state", state), ("severity", severity), ("playbook", playbook), ("channel", channel)):
        if values:
            query[name] = ",".join(values)
    if breached is not None:
        query["breached"] = "true" if breached else "false"
    if open_only:
        query["open"] = "true"
    if waiting_on:
        query["waiting_on"] = waiting_on
    if mine:
        query["mine"] = "true"
    if owner:
        query["owner"] = owner
    if after:
        query["after"] = after
    client = _client(url, token)
    page = _call(lambda: client.incidents(query))
    client.close()
    if fmt == "json":
        click.echo(json_text(page))
        return
    for line in page_lines(page):
        click.echo(line)


@incidents.command("show")
@click.argument("incident_id")
@url_option
@token_option
@format_option
def incidents_show(incident_id: str, url: str, token: str | None, fmt: str) -> None:
    """One incident: state, severity, running clocks, what can be done now, and its full history."""
    from engine.cli._render import incident_lines, json_text  # noqa: PLC0415

    client = _client(url, token)
    found = _call(lambda: client.incident(incident_id))
    client.close()
    if fmt == "json":
        click.echo(json_text(found))
        return
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
@click.option(
    "--revision",
    "--version",
    "seen",
    type=int,
    help="The incident's revision you saw (default: the current one, read just before); --version is its old name.",
)
@click.option(
    "--draft",
    "draft",
    type=click.Choice(["submit", "approve", "return"]),
    help="For an action that needs approval: submit its reply as a draft (--field public_reply...), approve the "
    "draft, or return it (--field note=...), instead of taking the action.",
)
@url_option
@token_option
@format_option
def incidents_act(
    *,
    incident_id: str,
    trigger: str,
    assignments: tuple[str, ...],
    seen: int | None,
    draft: str | None,
    url: str,
    token: str | None,
    fmt: str,
) -> None:
    """Take the action TRIGGER on an incident, with the fields it requires (or, with --draft, submit, approve or
    return the draft of its reply)."""
    fields: dict[str, Any] = {}
    for assignment in assignments:
        _set(fields, assignment)
    client = _client(url, token)
    if seen is None:
        seen = int(_call(lambda: client.incident(incident_id))["revision"])
    if draft is not None:
        step = "draft" if draft == "submit" else draft
        done = _call(lambda: client.draft(incident_id, trigger, step, seen, fields))
    else:
        done = _call(lambda: client.act(incident_id, trigger, seen, fields))
    client.close()
    _print_done(done, fmt)


def _print_done(done: dict[str, Any], fmt: str) -> None:
    """What an action (or a take, an assignment, a note) recorded: as JSON, or where the incident is now."""
    from engine.cli._render import act_lines, json_text  # noqa: PLC0415

    if fmt == "json":
        click.echo(json_text(done))
        return
    for line in act_lines(done):
        click.echo(line)


def _keep(incident_id: str, what: str, body: dict[str, Any] | None, *, url: str, token: str | None, fmt: str) -> None:
    """Take, assign, release or note on an incident through the daemon, and say what was recorded."""
    client = _client(url, token)
    done = _call(lambda: client.keep(incident_id, what, body))
    client.close()
    _print_done(done, fmt)


def _through_the_daemon(command: Callable[..., None]) -> Callable[..., None]:
    """The options of a command that talks to the daemon: its address, the token, and the output's format."""
    return url_option(token_option(format_option(command)))


@incidents.command("take")
@click.argument("incident_id")
@_through_the_daemon
def incidents_take(incident_id: str, url: str, token: str | None, fmt: str) -> None:
    """Take an incident: it is yours now (refused when someone else has it; assign it to yourself to take over)."""
    _keep(incident_id, "take", None, url=url, token=token, fmt=fmt)


@incidents.command("assign")
@click.argument("incident_id")
@click.argument("person")
@_through_the_daemon
def incidents_assign(incident_id: str, person: str, url: str, token: str | None, fmt: str) -> None:
    """Assign an incident to PERSON (their id in the roster), taking it over from whoever has it."""
    _keep(incident_id, "assign", {"owner": person}, url=url, token=token, fmt=fmt)


@incidents.command("release")
@click.argument("incident_id")
@_through_the_daemon
def incidents_release(incident_id: str, url: str, token: str | None, fmt: str) -> None:
    """Release an incident: nobody has it now."""
    _keep(incident_id, "release", None, url=url, token=token, fmt=fmt)


@incidents.command("note")
@click.argument("incident_id")
@click.argument("text")
@_through_the_daemon
def incidents_note(incident_id: str, text: str, url: str, token: str | None, fmt: str) -> None:
    """Write an internal note on an incident, for the team: never posted anywhere."""
    _keep(incident_id, "notes", {"text": text}, url=url, token=token, fmt=fmt)
