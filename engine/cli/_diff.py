"""The ``calmly diff`` command: recorded incidents replayed through an old and a new playbook, and what the new one
would have done differently, as text, JSON or Markdown for a pull request.

OLD and NEW are playbook files; with ``--from REV``, each PLAYBOOK given is the new one and its old one is the same
file at that git revision (read with ``git show``, here at the edge: the diff itself takes texts). The recorded
incidents come from the daemon's data folder, an export (``calmly export``) or timelines, which are first played
under the old playbook on a simulated clock.

Exit codes: 0 the diff ran (whatever it found, unless ``--fail-on-change``); 1 a determinism failure (the old
playbook's replay does not reproduce a recording), an incident that cannot be replayed, a change with
``--fail-on-change``, or input that cannot be used (a playbook with errors, an unknown revision, a broken export);
2 a usage error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli._failure import fail
from engine.cli._learning import _opened, _written
from engine.cli._options import output_format
from engine.cli._progress import counted, tally

if TYPE_CHECKING:
    from engine.authoring.behaviour import Chunk, PlaybookText, Summary
    from engine.authoring.comparison import Pair
    from engine.store import RecordedIncident

__all__ = ["diff"]


def _git_show(revision: str, path: Path) -> str | None:
    """The file at ``revision`` (None when it did not exist there); an unknown revision or no git ends the run."""
    try:
        shown = subprocess.run(
            ["git", "-C", str(path.parent), "show", f"{revision}:./{path.name}"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        fail(f"--from needs git to read {path.as_posix()} at {revision}, and git cannot run: {error.strerror}")
    if shown.returncode != 0:
        said = shown.stderr.strip().splitlines()
        why = said[0].removeprefix("fatal: ") if said else f"git exited with {shown.returncode}"
        if "exists on disk, but not in" in why or "does not exist in" in why:
            return None
        fail(f"cannot read {path.as_posix()} at revision {revision!r}: {why}")
    return shown.stdout


def _checked(text: str, source: str) -> str:
    """The text, or its located problems on standard error and exit 1, as ``calmly validate`` tells them."""
    from engine.authoring.diagnostics import Format, render  # noqa: PLC0415
    from engine.playbook import load  # noqa: PLC0415

    result = load(text, source)
    if result.playbook is None:
        click.echo(render([result], Format.TEXT), err=True, nl=False)
        fail(f"cannot diff {source}: fix the errors above first")
    return text


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path.as_posix()}: {getattr(error, 'strerror', None) or error}")


def _texts(playbooks: tuple[Path, ...], revision: str | None) -> list[PlaybookText]:
    from engine.authoring.behaviour import PlaybookText  # noqa: PLC0415

    if revision is None:
        if len(playbooks) != 2:
            raise click.UsageError("give OLD and NEW (two playbook files), or --from REV and the playbooks changed")
        old, new = playbooks
        return [
            PlaybookText(
                _checked(_read(old), old.as_posix()),
                old.as_posix(),
                _checked(_read(new), new.as_posix()),
                new.as_posix(),
            )
        ]
    texts = []
    for path in playbooks:
        before = _git_show(revision, path)
        if before is None:
            click.echo(f"calmly: {path.as_posix()} is new since {revision}: nothing recorded ran under it", err=True)
            continue
        old_source = f"{revision}:{path.as_posix()}"
        texts.append(
            PlaybookText(
                _checked(before, old_source), old_source, _checked(_read(path), path.as_posix()), path.as_posix()
            )
        )
    return texts


def _reachable(roster: Path | None) -> frozenset[str] | None:
    if roster is None:
        return None
    from engine.authoring.comparison import reachable_roles  # noqa: PLC0415
    from engine.playbook import Failed  # noqa: PLC0415
    from engine.service import load_roster  # noqa: PLC0415

    loaded = load_roster(roster)
    if isinstance(loaded, Failed):
        for problem in loaded.problems:
            click.echo(problem.located, err=True)
        fail(f"cannot use the roster {roster.as_posix()}: fix the errors above first")
    people = {person.id: person.roles for person in loaded.people.values()}
    return reachable_roles(people, dict(loaded.channels))


def _timelines(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted([*source.glob("*.yaml"), *source.glob("*.yml")])
    return [source]


def _simulated(paths: list[Path], pairs: dict[str, Pair]) -> Iterator[tuple[str, RecordedIncident]]:
    """Each timeline played under the old playbooks on a simulated clock: its incidents as recorded, each labelled
    with the timeline's name."""
    from engine.authoring.simulation import simulate  # noqa: PLC0415
    from engine.authoring.timeline import Timeline, read_timeline  # noqa: PLC0415
    from engine.store import SQLiteStore  # noqa: PLC0415

    olds = [pair.old for pair in pairs.values()]
    for path in paths:
        timeline = read_timeline(path)
        if not isinstance(timeline, Timeline):
            for problem in timeline.problems:
                click.echo(problem.located, err=True)
            fail(f"cannot replay the timeline {path.as_posix()}: fix the errors above first")
        store = SQLiteStore.in_memory()
        try:
            simulate(olds[0], timeline, store=store, others=olds[1:])
            recorded = list(store.recorded(None, None, closed_only=False))
        finally:
            store.close()
        for item in recorded:
            yield f"{path.stem}/{item.incident.id}", item


def _is_store(source: Path) -> bool:
    from engine.store.sqlite import DATABASE_NAME  # noqa: PLC0415

    return source.is_dir() and (source / DATABASE_NAME).is_file()


def _is_export(source: Path) -> bool:
    if not source.is_file():
        return False
    try:
        with source.open("rb") as head:
            return head.read(64).lstrip().startswith(b'{"')
    except OSError:
        return False


def _run(source: Path, texts: list[PlaybookText], reachable: frozenset[str] | None, jobs: int) -> Summary:
    from engine.authoring.behaviour import diff_chunks, diff_incidents, pairs_of  # noqa: PLC0415
    from engine.cli._store import store_in  # noqa: PLC0415
    from engine.report import ExportError, incident_lines, read_export  # noqa: PLC0415
    from engine.store import SQLiteStore  # noqa: PLC0415
    from engine.store.sqlite import read_recorded_range  # noqa: PLC0415

    pairs = pairs_of(texts, reachable)
    with ExitStack() as stack:
        if _is_store(source):
            store = stack.enter_context(store_in(source.as_posix()))
            if jobs == 1 or not isinstance(store, SQLiteStore):  # the pool's workers read a SQLite store's pages
                return diff_incidents(counted(store.recorded(None, None, closed_only=False), "replaying"), pairs)
            pages = (
                ((read_recorded_range, page), count)
                for page, count in store.recorded_ranges(None, None, closed_only=False)
            )
            with tally("replaying") as advance:
                return diff_chunks(pages, texts, reachable, jobs=jobs, on_progress=advance)
        if _is_export(source):
            lines = stack.enter_context(_opened(source))
            try:
                if jobs == 1:
                    return diff_incidents(counted(read_export(lines, source.as_posix(), {}), "replaying"), pairs)
                numbered = incident_lines(lines, source.as_posix(), {})
                with tally("replaying") as advance:
                    return diff_chunks(_batches(numbered, source), texts, reachable, jobs=jobs, on_progress=advance)
            except ExportError as error:
                fail(str(error))
            except UnicodeDecodeError as error:
                fail(f"the export is not UTF-8 text ({error.reason}); give a file made by calmly export")
        if not source.exists():
            fail(f"there is nothing at {source.as_posix()}: give a data folder, an export (calmly export) or timelines")
        return diff_incidents(counted(_simulated(_timelines(source), pairs), "replaying"), pairs)


def _batches(numbered: Iterator[tuple[int, str]], source: Path, size: int = 500) -> Iterator[tuple[Chunk, int]]:
    """The export's incident lines in chunks, each decoded by the worker that takes it."""
    from engine.report import decode_incident_lines  # noqa: PLC0415

    decode = partial(decode_incident_lines, source=source.as_posix())
    batch: list[tuple[int, str]] = []
    for item in numbered:
        batch.append(item)
        if len(batch) == size:
            yield (decode, batch), size
            batch = []
    if batch:
        yield (decode, batch), len(batch)


def _title(texts: list[PlaybookText], summary: Summary, source: Path) -> str:
    names = ", ".join(f"{text.old_source} -> {text.new_source}" for text in texts)
    return f"calmly diff: {names}, replaying {summary.incidents} recorded incidents from {source.as_posix()}"


@click.command()
@click.argument(
    "playbooks",
    nargs=-1,
    required=True,
    metavar="OLD NEW | PLAYBOOK...",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--from",
    "revision",
    metavar="REV",
    help="Compare each PLAYBOOK with itself at this git revision (a branch, tag or commit), e.g. --from main.",
)
@click.option(
    "--replay",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="The recorded incidents: the daemon's data folder, an export (calmly export) or timelines (a file or folder).",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The roster the new playbook runs with: notifications to roles nobody holds and no channel reaches are shown.",
)
@output_format(("text", "json", "markdown"), "text, json for scripts, or markdown for a pull request or job summary.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when any recorded incident would have gone differently.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout."
)
def diff(  # noqa: PLR0917 - click passes every option by name
    playbooks: tuple[Path, ...],
    revision: str | None,
    source: Path,
    roster: Path | None,
    fmt: str,
    jobs: int | None,
    fail_on_change: bool,
    output: Path | None,
) -> None:
    """Replay recorded incidents through two versions of a playbook and show what the new one would have done
    differently: the playbook matched, severity, actions now refused, breaches added or removed, notifications
    added, removed or moved (to whom, how much earlier or later), the final state.

    \b
      calmly diff OLD.yaml NEW.yaml --replay data/
      calmly diff --from main playbooks/customer-complaint.yaml --replay export.jsonl --format markdown

    Replaying the old playbook must reproduce each recording exactly; where it does not, the incident is a
    determinism failure (exit 1). See docs/diff.md.
    """
    import os  # noqa: PLC0415

    from engine.authoring.diffview import diff_json, diff_markdown, diff_text  # noqa: PLC0415

    texts = _texts(playbooks, revision)
    if not texts:
        click.echo("calmly: no playbook here ran before: nothing to diff", err=True)
        return
    summary = _run(source, texts, _reachable(roster), jobs or os.cpu_count() or 1)
    title = _title(texts, summary, source)
    if fmt == "json":
        named = [{"old": text.old_source, "new": text.new_source} for text in texts]
        rendered = json.dumps(diff_json(summary, named), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        rendered = diff_markdown(summary, title)
    else:
        rendered = diff_text(summary, title)
    with _written(output) as out:
        out.write(rendered)
    broken = summary.nondeterministic or summary.unreadable
    sys.exit(1 if broken or (fail_on_change and summary.changed) else 0)
