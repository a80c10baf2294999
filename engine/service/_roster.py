"""The roster: who works the incidents, in which roles, and where each role hears of escalations
(``schemas/roster.schema.json``).

A token names a person; the roster gives that person's roles, and playbooks say which roles may take each action
and which to notify. Secrets (a Slack address, a signing secret, an SMTP password) are named by environment
variable, never written in the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.files import read_document_file
from engine.playbook import Failed, Problem, rules

__all__ = ["Destination", "Person", "Roster", "Smtp", "load_roster"]


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    roles: frozenset[str]
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one notification goes: ``id`` names it in the outbox (and holds no secret), ``settings`` says how."""

    id: str
    channel: str  # log, email, slack or webhook
    settings: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    sender: str
    port: int = 25
    starttls: str = "auto"
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: int = 20


@dataclass(frozen=True, slots=True)
class Roster:
    people: Mapping[str, Person]
    source: str
    channels: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    smtp: Smtp | None = None
    incident_link: str | None = None

    def destinations(self, roles: Sequence[str]) -> list[Destination]:
        """Every destination of these roles, each once (two roles sharing an address get one email).

        A role with no channel that reaches anyone (none listed, or email with nobody in the role having an
        address) is told in the log, so no notification is dropped silently."""
        found: dict[str, Destination] = {}
        for role in roles:
            entries = self.channels.get(role) or ({"channel": "log"},)
            expanded = [destination for entry in entries for destination in self._expand(role, entry)]
            for destination in expanded or self._expand(role, {"channel": "log"}):
                found.setdefault(destination.id, destination)
        return list(found.values())

    def _expand(self, role: str, entry: Mapping[str, Any]) -> list[Destination]:
        channel = str(entry["channel"])
        if channel == "email":
            addresses = entry.get("to") or sorted(
                person.email for person in self.people.values() if role in person.roles and person.email
            )
            return [Destination(f"email:{address}", "email", {"to": address}) for address in addresses]
        if channel == "webhook":
            return [Destination(f"webhook:{entry['url']}", "webhook", dict(entry))]
        if channel == "slack":
            # Named by its variable, or by a digest of its address (a secret): two roles on one channel, one post.
            name = entry.get("url_env") or hashlib.sha256(str(entry["url"]).encode()).hexdigest()[:12]
            return [Destination(f"slack:{name}", "slack", dict(entry))]
        return [Destination(f"log:{role}", "log", {"role": role})]

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def roles_of(self, person_id: str) -> frozenset[str]:
        """The person's roles; nobody unknown to the roster holds any."""
        found = self.people.get(person_id)
        return frozenset() if found is None else found.roles


def _person(person_id: str, data: Mapping[str, Any]) -> Person:
    return Person(person_id, frozenset(data["roles"]), data.get("name"), data.get("email"))


def _smtp(data: Mapping[str, Any] | None) -> Smtp | None:
    if data is None:
        return None
    return Smtp(
        host=data["host"],
        sender=data["from"],
        port=data.get("port", 25),
        starttls=data.get("starttls", "auto"),
        username_env=data.get("username_env"),
        password_env=data.get("password_env"),
        timeout_seconds=data.get("timeout_seconds", 20),
    )


def load_roster(path: Path) -> Roster | Failed[Problem]:
    """The roster in ``path``, or every problem with it, located as ``calmly validate`` locates a playbook's."""
    read = read_document_file(path, "roster")
    if isinstance(read, Failed):
        return read
    data, marks = read
    people = {person_id: _person(person_id, entry) for person_id, entry in data["people"].items()}
    channels = {role: tuple(entry.get("notify", ())) for role, entry in data.get("roles", {}).items()}
    smtp = _smtp(data.get("smtp"))
    uses_email = any(entry["channel"] == "email" for entries in channels.values() for entry in entries)
    if uses_email and smtp is None:
        at = marks.key(("roles",))
        message = "a role is notified by email, but the roster has no 'smtp' section saying which server to use"
        return Failed((Problem(rules.INVALID_VALUE, path.as_posix(), at.line, at.column, message, ("roles",)),))
    return Roster(people, path.as_posix(), channels, smtp, data.get("incident_link"))
