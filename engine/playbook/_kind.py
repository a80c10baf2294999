"""Telling a playbook from calmly's other YAML files, so that a file given to the wrong command says what it is.

A playbook test is known by its name (``*.test.yaml``); a timeline, a roster and a daemon configuration by their
shape: a document that fails the playbook schema but matches one of theirs is that kind of file, and one line saying
so (and which command reads it) helps more than a page of playbook errors.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.playbook._problem import Problem, rules
from engine.playbook._shape import check_shape
from engine.playbook._yaml import Document

__all__ = ["TEST_SUFFIXES", "not_a_playbook", "test_file_named"]

#: The names playbook tests (``calmly test``) are known by.
TEST_SUFFIXES = (".test.yaml", ".test.yml")

#: Each other kind: its schema, what it is called, and the command that reads it (``{file}`` is the file).
_KINDS = (
    ("playbook-test", "a playbook test", "run it with `calmly test {file}`"),
    ("timeline", "a timeline", "play it against a playbook with `calmly simulate PLAYBOOK {file}`"),
    ("roster", "a roster", "check it beside the playbooks with `calmly check --roster {file}`"),
    ("config", "a daemon configuration", "check it with `calmly check --config {file}`"),
)


def _said(source: str, what: str, command: str) -> Problem:
    message = f"this is {what}, not a playbook; {command.format(file=source)}"
    return Problem(rules.NOT_A_PLAYBOOK, source, 1, 1, message)


def test_file_named(source: str) -> Problem | None:
    """The problem to report when ``source`` is named as a playbook test."""
    if source.endswith(TEST_SUFFIXES):
        return _said(source, *_KINDS[0][1:])
    return None


def not_a_playbook(document: Document, source: str) -> Problem | None:
    """The problem to report when a document that is not a playbook matches another kind's schema exactly."""
    if not isinstance(document.data, Mapping) or not document.data:
        return None
    for schema, what, command in _KINDS:
        if not check_shape(document, source, schema):
            return _said(source, what, command)
    return None
