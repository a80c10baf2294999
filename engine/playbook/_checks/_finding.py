"""What a semantic check gives: a finding, placed by its document path; and the helpers checks share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.playbook._model import Limit, Playbook
from engine.playbook._problem import Path, Rule, dotted
from engine.playbook._shape import suggest

__all__ = ["Check", "Context", "Finding", "limits", "listed", "undefined", "written_at"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem before it has a file position: where (a document path) and what."""

    rule: Rule
    path: Path
    message: str
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """What every check reads: the typed playbook, and its document for where things are written."""

    playbook: Playbook
    data: Mapping[str, Any]


Check = Callable[[Context], Iterator[Finding]]


def written_at(data: Mapping[str, Any], path: Path) -> Any:
    """What the document holds at ``path``, or None where it holds nothing."""
    node: Any = data
    for part in path:
        found = (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if not found:
            return None
        node = node[part]
    return node


def listed(data: Mapping[str, Any], path: Path) -> list[tuple[Path, str]]:
    """Each name in a one-or-many field, with its own path: ``from: a`` or ``from: [a, b]``."""
    node: Any = data
    for part in path:
        node = node[part]
    if isinstance(node, str):
        return [(path, node)]
    return [((*path, index), name) for index, name in enumerate(node)]


def undefined(rule: Rule, what: str, section: str, path: Path, name: str, known: Iterable[str]) -> Finding:  # noqa: PLR0917
    known = list(known)
    return Finding(
        rule,
        path,
        f"{dotted(path)} names the {what} {name!r}, which {section} does not define{suggest(name, known)}",
    )


def limits(ctx: Context) -> Iterator[tuple[Path, Limit]]:
    """Every limit the playbook sets, with its path: the states' limits, the targets', then the offers' times to
    deliver."""
    for name, state in ctx.playbook.states.items():
        if state.limit is not None:
            yield ("states", name, "limit"), state.limit
    for name, target in ctx.playbook.targets.items():
        yield ("targets", name, "within"), target.within
    if ctx.playbook.offers is not None:
        for name, kind in ctx.playbook.offers.kinds.items():
            yield ("offers", "kinds", name, "deliver_within"), kind.deliver_within
