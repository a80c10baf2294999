"""calmly's errors are one tree (engine.errors): every class has its code, its HTTP status and its exit code, the
module's docstring draws every one of them, and the names they had keep working where they were imported from."""

from __future__ import annotations

import importlib
import pkgutil
import re

import click
import pytest
from click.testing import CliRunner

import engine
from engine import errors
from engine.cli._group import CalmlyGroup
from engine.errors import CalmlyError


def _every_module() -> None:
    """Import every module of engine, so a subclass defined anywhere is in the tree walked below."""
    for module in pkgutil.walk_packages(engine.__path__, "engine."):
        importlib.import_module(module.name)


def _tree(root: type[CalmlyError]) -> list[type[CalmlyError]]:
    found = []
    for child in root.__subclasses__():
        found += [child, *_tree(child)]
    return found


@pytest.fixture(scope="module")
def tree() -> list[type[CalmlyError]]:
    _every_module()
    return [CalmlyError, *_tree(CalmlyError)]


def test_every_error_says_its_own_code_status_and_exit_code(tree: list[type[CalmlyError]]) -> None:
    for error in tree:
        assert "code" in vars(error), f"{error.__name__} names no code of its own"
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error.code), error
        assert 400 <= error.status <= 599, error
        assert error.exit_code in (1, 2), error


def test_the_docstring_draws_every_error_with_its_status_and_code(tree: list[type[CalmlyError]]) -> None:
    drawn = {
        match["name"]: (int(match["status"]), match["code"])
        for match in re.finditer(r"[─ ]+(?P<name>[A-Z]\w+)\s+(?P<status>\d{3}) (?P<code>[a-z_]+)", errors.__doc__ or "")
    }
    assert drawn == {error.__name__: (error.status, error.code) for error in tree}


def test_the_docstring_draws_each_error_under_its_parent(tree: list[type[CalmlyError]]) -> None:
    by_name = {error.__name__: error for error in tree}
    drawn = [line for line in (errors.__doc__ or "").splitlines() if re.search(r"[A-Z]\w+\s+\d{3} ", line)]
    last_at: dict[int, str] = {}  # the last name drawn at each indentation
    for line in drawn:
        found = re.search(r"[A-Z]\w+", line)
        assert found is not None
        name, level = found[0], found.start()
        last_at = {at: above for at, above in last_at.items() if at < level}
        if last_at:
            assert by_name[name].__bases__[0].__name__ == last_at[max(last_at)], name
        last_at[level] = name


def test_the_tree_module_imports_nothing_of_calmly() -> None:
    source = (errors.__file__ or "").replace(".pyc", ".py")
    with open(source, encoding="utf-8") as file:
        text = file.read()
    assert not re.search(r"^\s*(from|import) engine\b", text, re.MULTILINE)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("engine.store", "Conflict"),
        ("engine.store", "StoreError"),
        ("engine.store", "StoreUnavailable"),
        ("engine.service", "NotFound"),
        ("engine.service", "Replayed"),
        ("engine.service", "InvalidPlaybooks"),
        ("engine.service", "PlaybookMissing"),
        ("engine.service", "BadJson"),
        ("engine.notify", "DeliveryError"),
        ("engine.daemon", "ConfigError"),
        ("engine.daemon", "StartupError"),
        ("engine.daemon", "FolderInUse"),
        ("engine.cli._client", "ApiFailure"),
    ],
)
def test_an_error_is_still_importable_from_where_it_was(module: str, name: str) -> None:
    found = getattr(importlib.import_module(module), name)

    assert found is getattr(errors, name)
    assert issubclass(found, CalmlyError)


def test_a_refused_mention_is_a_problem_value_and_its_old_name_still_imports() -> None:
    from engine.incident import MentionError, MentionProblem  # noqa: PLC0415

    assert MentionError is MentionProblem
    assert not issubclass(MentionProblem, BaseException)


def test_the_store_refusing_a_stale_write_is_a_409_stale() -> None:
    conflict = errors.Conflict("incident inc-1 changed since revision 1")

    assert (conflict.status, conflict.code) == (409, "stale")
    assert isinstance(conflict, errors.StoreError)


def test_an_error_a_command_leaves_unhandled_ends_it_with_its_message_and_exit_code() -> None:
    @click.group(cls=CalmlyGroup)
    def group() -> None:
        pass

    @group.command()
    def write() -> None:
        raise errors.Conflict("incident inc-1 changed since revision 1; read it again")

    result = CliRunner().invoke(group, ["write"])

    assert result.exit_code == 1
    assert result.output.strip() == "calmly: incident inc-1 changed since revision 1; read it again"
    assert result.exception is None or isinstance(result.exception, SystemExit)
