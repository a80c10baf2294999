"""The ``calmly token`` commands: bearer tokens issued and revoked in the daemon's store, kept there as hashes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from engine.cli._failure import fail
from engine.cli._options import data_option, store_option, url_option
from engine.cli._store import store_in

__all__ = ["token"]


@click.group()
def token() -> None:
    """Issue and revoke the bearer tokens people act with."""


@token.command("issue")
@click.argument("person")
@data_option
@store_option
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
@click.option(
    "--link",
    is_flag=True,
    help="Print a one-time link that signs PERSON in to the desk (good for 15 minutes) instead of a token.",
)
@url_option
def token_issue(  # noqa: PLR0917 - click passes each option by name
    person: str,
    data: str,
    store_url: str | None,
    roster: str,
    expires: str | None,
    label: str | None,
    intake_only: bool,
    link: bool,
    url: str,
) -> None:
    """Print a new token for PERSON, once: only its hash is kept. The person's roles come from the roster.

    A listening tool gets --intake-only: if its token leaks, it sends mentions and cannot read or act on anything.
    With --link, a one-time sign-in link to the desk at --url is printed instead, to send to the person.
    """
    from engine.playbook import Failed, parse_duration  # noqa: PLC0415
    from engine.service import (  # noqa: PLC0415
        TokenScope,
        issue_token,
        load_roster,
    )

    found = load_roster(Path(roster))
    if isinstance(found, Failed):
        fail("the roster has problems:\n" + "\n".join(f"  {problem.located}" for problem in found.problems))
    member = found.person(person)
    if member is None:
        known = ", ".join(sorted(found.people))
        fail(f"{person!r} is not in the roster {found.source} (it lists {known}); add them there first")
    try:
        lifetime = None if expires is None else parse_duration(expires)
    except ValueError:
        raise click.BadParameter("write a duration such as 90d or 12h, at most 52w", param_hint="--expires") from None
    if link:
        if intake_only or expires is not None or label is not None:
            raise click.UsageError(
                "--link makes a sign-in link for a person; leave out --intake-only, --expires and --label"
            )
        _print_link(data, store_url, person, url)
        return
    scope = TokenScope.INTAKE if intake_only else TokenScope.FULL
    with store_in(data, store_url, create=True) as store:
        issued = issue_token(store, person, datetime.now(UTC), expires_in=lifetime, label=label, scope=scope)
    click.echo(issued)
    if intake_only:
        what = f"an intake-only token for {person}: it can send mentions (POST /v1/mentions) and nothing else"
    else:
        what = f"a token for {person} ({', '.join(sorted(member.roles))})"
    click.echo(f"{what}; it is shown this once: keep it somewhere safe", err=True)


def _print_link(data: str, store_url: str | None, person: str, url: str) -> None:
    from urllib.parse import urlencode  # noqa: PLC0415

    from engine.service import SIGN_IN_LINK_LIFETIME, issue_sign_in_code  # noqa: PLC0415

    with store_in(data, store_url, create=True) as store:
        code = issue_sign_in_code(store, person, datetime.now(UTC))
    click.echo(f"{url.rstrip('/')}/signin/link?{urlencode({'code': code})}")
    minutes = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
    click.echo(f"a sign-in link for {person}: it works once, within {minutes} minutes; send it to them alone", err=True)


@token.command("revoke")
@click.argument("person")
@data_option
@store_option
def token_revoke(person: str, data: str, store_url: str | None) -> None:
    """Revoke every token of PERSON at once, and sign them out of the desk (every session, unused sign-in links)."""
    from engine.service import revoke_tokens  # noqa: PLC0415 - keeps `calmly validate` quick to start

    with store_in(data, store_url) as store:
        revoked = revoke_tokens(store, person, datetime.now(UTC))
    count, sessions = revoked
    click.echo(
        f"revoked {count} token{'s' if count != 1 else ''} of {person}; ended {sessions} desk "
        f"session{'s' if sessions != 1 else ''}"
    )
