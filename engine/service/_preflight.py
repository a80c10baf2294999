"""Set-up checks: the configuration, the roster and the playbooks read together, as the daemon will run them.

Each file can be valid alone and the set still fail people: a role the playbooks notify or need that nobody in the
roster holds, a channel whose secret variable is unset, an SMTP server whose name does not resolve. ``calmly check``
reports these for CI and operators, and the daemon logs the same findings at start and shows them in ``/readyz``.

:func:`check` is pure: the environment and a resolver are passed in, so a test can use a resolver that says no
without a network. Codes are in the problem registry (E9xx errors, W9xx warnings, docs/problems.md). Roles are
errors: they are about the files, the same on every machine. Unset variables and names that do not resolve are
warnings: they are about the machine the check runs on (CI rarely holds production secrets), and ``--strict`` makes
them fail where it matters, on the daemon's own host.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.files import load_paths, read_document_file
from engine.playbook import Failed, LoadResult, Marks, Problem, Severity, dotted, rules, suggest
from engine.service._roster import Roster, load_roster

__all__ = [
    "Resolver",
    "RosterFile",
    "check",
    "check_files",
    "crisis_playbooks",
    "failed",
    "roster_file",
    "system_resolver",
]

#: A host name in; ``None`` when it resolves, otherwise why not, in words a person can act on.
Resolver = Callable[[str], str | None]

#: Channels that reach someone without a person in the role: a Slack channel, a webhook, a fixed email address.
_REACHES_WITHOUT_PEOPLE = frozenset({"slack", "webhook"})


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A roster with the positions of its document, so findings about it can name their line."""

    roster: Roster
    marks: Marks | None = None


def system_resolver(host: str) -> str | None:
    """Look ``host`` up with the system's resolver; the reason in words when it cannot be."""
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        if error.errno == socket.EAI_NONAME:
            return "no such host is known to DNS; check the spelling"
        if error.errno == socket.EAI_AGAIN:
            return "DNS did not answer (a temporary failure); check this machine's network and resolver"
        return f"it cannot be looked up ({error.strerror or 'no reason given'})"
    except (UnicodeError, OSError) as error:
        return f"it is not a host name that can be looked up ({error})"
    return None


def check(
    playbooks: Sequence[LoadResult],
    roster: RosterFile,
    environment: Mapping[str, str],
    resolve: Resolver,
) -> list[Problem]:
    """Every finding about the set: roles first, then the roster's channels and its SMTP server.

    Playbooks with errors are left out (``calmly validate`` reports those); the roster must have loaded."""
    return [
        *crisis_playbooks(playbooks),
        *_roles(playbooks, roster),
        *_secrets(roster, environment),
        *_smtp_host(roster, resolve),
    ]


def _held(roster: Roster) -> frozenset[str]:
    return frozenset(role for person in roster.people.values() for role in person.roles)


def _reached_without_people(roster: Roster, role: str) -> bool:
    return any(
        entry.get("channel") in _REACHES_WITHOUT_PEOPLE or (entry.get("channel") == "email" and entry.get("to"))
        for entry in roster.channels.get(role, ())
    )


def _at(result: LoadResult, path: tuple[str | int, ...]) -> tuple[int, int]:
    if result.marks is None:
        return 1, 1
    pos = result.marks.value(path)
    return pos.line, pos.column


def crisis_playbooks(playbooks: Sequence[LoadResult]) -> list[Problem]:
    """A surge rule's ``open:`` names a playbook of the set: a crisis can only open under a playbook that runs."""
    known = sorted({result.playbook.id for result in playbooks if result.playbook is not None})
    found: list[Problem] = []
    for result in playbooks:
        book = result.playbook
        if book is None:
            continue
        for index, rule in enumerate(book.surges):
            if rule.open is None or rule.open in known:
                continue
            path = ("surges", index, "open", "playbook")
            message = (
                f"{dotted(path)} opens a crisis incident under {rule.open!r}, but no playbook of the set has that "
                f"id{suggest(rule.open, known)} (the set: {', '.join(known) or 'none'}), so when {rule.name} fires "
                "no crisis incident opens; add that playbook beside this one, or name one of the set"
            )
            found.append(Problem(rules.SURGE_PLAYBOOK_MISSING, result.source, *_at(result, path), message, path))
    return found


def _roles(playbooks: Sequence[LoadResult], file: RosterFile) -> list[Problem]:
    roster = file.roster
    held = _held(roster)
    found: list[Problem] = []
    for result in playbooks:
        book = result.playbook
        if book is None:
            continue
        told: set[str] = set()
        notifying = [
            *((("escalation", index), step.notify) for index, step in enumerate(book.escalation)),
            *((("notify_on", index), rule.notify) for index, rule in enumerate(book.notify_on)),
            *((("surges", index), rule.notify) for index, rule in enumerate(book.surges)),
        ]
        for (section, index), roles in notifying:
            for position, role in enumerate(roles):
                if role in held or role in told or _reached_without_people(roster, role):
                    continue
                told.add(role)
                path = (section, index, "notify", position)
                message = (
                    f"{dotted(path)} notifies the role {role!r}, but nobody in the roster {roster.source} holds it "
                    f"and it has no Slack, webhook or email address there, so its notifications reach only the "
                    f"daemon's log; give the role to someone in the roster, or a channel under roles.{role}.notify"
                )
                found.append(Problem(rules.NOTIFIED_ROLE_UNHELD, result.source, *_at(result, path), message, path))
        needed: set[str] = set()
        for index, transition in enumerate(book.transitions):
            for position, role in enumerate(transition.by):
                if role in held or role in needed:
                    continue
                needed.add(role)
                path = ("transitions", index, "by", position)
                others = [other for other in transition.by if other in held]
                consequence = (
                    f"only {', '.join(others)} can take {transition.trigger!r}"
                    if others
                    else f"nobody can take {transition.trigger!r}"
                )
                message = (
                    f"{dotted(path)} needs the role {role!r}, but nobody in the roster {roster.source} holds it, so "
                    f"{consequence}; give the role to someone in the roster"
                )
                found.append(Problem(rules.NEEDED_ROLE_UNHELD, result.source, *_at(result, path), message, path))
        for index, transition in enumerate(book.transitions):
            approvers = transition.approval.by if transition.approval else ()
            if any(role in held for role in approvers):
                continue  # someone can approve: a role nobody holds only narrows who
            for position, role in enumerate(approvers):
                if role in needed:
                    continue
                needed.add(role)
                where: tuple[str | int, ...] = ("transitions", index, "approval", "by", position)
                message = (
                    f"{dotted(where)} approves replies for {transition.trigger!r}, but nobody in the roster "
                    f"{roster.source} holds {role!r} or another of its approvers' roles, so no reply for it can be "
                    "approved and it can never be taken; give the role to someone in the roster"
                )
                found.append(Problem(rules.NEEDED_ROLE_UNHELD, result.source, *_at(result, where), message, where))
        house = book.house_rules
        for index, reason in enumerate(house.do_not_engage_reasons):
            givers = house.reason_roles.get(reason, ())
            if not givers or any(role in held for role in givers):
                continue  # anyone may give it, or someone can: a role nobody holds only narrows who
            where = ("house_rules", "do_not_engage_reasons", index, "by")
            message = (
                f"{dotted(where)} keeps the reason {reason!r} for {', '.join(givers)}, but nobody in the roster "
                f"{roster.source} holds {'that role' if len(givers) == 1 else 'any of those roles'}, so nobody can "
                "give it and no incident can be closed for it; give the role to someone in the roster, or the "
                "reason to a role somebody holds"
            )
            found.append(Problem(rules.NEEDED_ROLE_UNHELD, result.source, *_at(result, where), message, where))
    return found


def _roster_at(file: RosterFile, path: tuple[str | int, ...]) -> tuple[int, int]:
    if file.marks is None:
        return 1, 1
    pos = file.marks.value(path)
    return pos.line, pos.column


def _unset(file: RosterFile, path: tuple[str | int, ...], variable: str, what: str) -> Problem:
    message = (
        f"{dotted(path)}: {what} is read from the environment variable {variable}, which is not set here, so "
        f"delivery will fail; set {variable} in the daemon's environment (docs/production.md, secrets)"
    )
    return Problem(rules.SECRET_UNSET, file.roster.source, *_roster_at(file, path), message, path)


_SECRET_KEYS: Mapping[str, str] = {"url_env": "the Slack address", "secret_env": "the webhook's signing secret"}


def _secrets(file: RosterFile, environment: Mapping[str, str]) -> list[Problem]:
    found: list[Problem] = []
    for role, entries in file.roster.channels.items():
        for index, entry in enumerate(entries):
            for key, what in _SECRET_KEYS.items():
                variable: Any = entry.get(key)
                if variable and not environment.get(str(variable)):
                    found.append(_unset(file, ("roles", role, "notify", index, key), str(variable), what))
    smtp = file.roster.smtp
    if smtp is not None:
        for key, variable_name, what in (
            ("username_env", smtp.username_env, "the SMTP user name"),
            ("password_env", smtp.password_env, "the SMTP password"),
        ):
            if variable_name and not environment.get(variable_name):
                found.append(_unset(file, ("smtp", key), variable_name, what))
    return found


def _smtp_host(file: RosterFile, resolve: Resolver) -> list[Problem]:
    smtp = file.roster.smtp
    if smtp is None:
        return []
    reason = resolve(smtp.host)
    if reason is None:
        return []
    path = ("smtp", "host")
    message = f"the SMTP server {smtp.host!r} cannot be found: {reason}. Until it can, no email is delivered"
    return [Problem(rules.SMTP_HOST_UNRESOLVED, file.roster.source, *_roster_at(file, path), message, path)]


def failed(findings: Sequence[Problem], strict: bool) -> bool:
    """Whether the findings fail a check: any error, or any warning under ``strict``."""
    return any(finding.severity is Severity.ERROR or strict for finding in findings)


def roster_file(path: Path) -> RosterFile | Failed[Problem]:
    """The roster at ``path`` with its positions, or its problems (as the daemon would refuse it)."""
    loaded = load_roster(path)
    if isinstance(loaded, Failed):
        return loaded
    read = read_document_file(path, "roster")
    return RosterFile(loaded, None if isinstance(read, Failed) else read[1])


def check_files(
    playbooks: Sequence[Path], roster: Path, environment: Mapping[str, str], resolve: Resolver
) -> list[Problem]:
    """Every problem of each file, as ``calmly validate`` reports it, then the findings about the set."""
    results = load_paths(playbooks)
    problems = [problem for result in results for problem in result.problems]
    read = roster_file(roster)
    if isinstance(read, Failed):
        return [*problems, *read.problems]
    return [*problems, *check(results, read, environment, resolve)]
