"""The roster: who works the incidents and in which roles (``schemas/roster.schema.json``).

A token names a person; the roster gives that person's roles, and playbooks say which roles may take each action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.playbook import Problem
from engine.timeline import read_document_file

__all__ = ["Person", "Roster", "load_roster"]


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    roles: frozenset[str]
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    people: Mapping[str, Person]
    source: str

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def roles_of(self, person_id: str) -> frozenset[str]:
        """The person's roles; nobody unknown to the roster holds any."""
        found = self.people.get(person_id)
        return frozenset() if found is None else found.roles


def _person(person_id: str, data: Mapping[str, Any]) -> Person:
    return Person(person_id, frozenset(data["roles"]), data.get("name"), data.get("email"))


def load_roster(path: Path) -> Roster | list[Problem]:
    """The roster in ``path``, or every problem with it, located as ``calmly validate`` locates a playbook's."""
    read = read_document_file(path, "roster")
    if isinstance(read, list):
        return read
    data, _ = read
    people = {person_id: _person(person_id, entry) for person_id, entry in data["people"].items()}
    return Roster(people, path.as_posix())
