"""The ``calmly export`` and ``calmly report`` commands: a period's incidents from the daemon's store (or an
export) as JSON Lines, and the figures over them as text, JSON, CSV or one HTML page with charts.

Both read the store beside a running daemon, through SQLite's own locking, a page of incidents at a time. Exit codes:
0 done, 1 the store or the export cannot be read (the message says where), 2 a usage error (an unknown --by, a
period that ends before it starts).
"""

from __future__ import annotations

import functools
import secrets
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from engine.cli._failure import fail
from engine.cli._options import data_option, output_format, store_option
from engine.cli._progress import counted
from engine.cli._store import store_in

if TYPE_CHECKING:
    from engine.report import Grouping, Period, Report, Rulebooks
    from engine.store import PlaybookRecord, RecordedIncident

__all__ = ["export", "report"]

_since = click.option(
    "--since", metavar="DATE|MOMENT", help="Incidents opened at or after this (2026-11-01, or RFC 3339 with offset)."
)
_until = click.option(
    "--until",
    metavar="DATE|MOMENT",
    help="Incidents opened before this; a date counts its whole day (--until 2026-11-30 takes all of the 30th).",
)
_output = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)


def _period(since: str | None, until: str | None) -> Period:
    from engine.report import Period, PeriodError  # noqa: PLC0415 - keeps `calmly validate` quick to start

    try:
        return Period.of(since, until)
    except PeriodError as error:
        raise click.UsageError(str(error)) from None


@contextmanager
def _written(output: Path | None) -> Iterator[IO[str]]:
    """Where the command writes: the file (replaced only when all of it was written) or standard output."""
    if output is None:
        yield sys.stdout
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            yield out
        partial.replace(output)
    except OSError as error:
        fail(f"cannot write {output.as_posix()}: {error.strerror or error}")
    finally:
        partial.unlink(missing_ok=True)


def _text_answers(kept: PlaybookRecord | None) -> frozenset[str] | None:
    """The free-text review questions of a playbook version (what a redacted export masks), or None unknown."""
    from engine.playbook import AnswerKind, load  # noqa: PLC0415

    if kept is None:
        return None
    loaded = load(kept.source, kept.path)
    if loaded.playbook is None:
        return None
    return frozenset(q.id for q in loaded.playbook.review_questions if q.answer is AnswerKind.TEXT)


@click.command()
@data_option
@store_option
@_since
@_until
@click.option("--open", "with_open", is_flag=True, help="Export open incidents too (by default closed ones only).")
@click.option(
    "--redact",
    is_flag=True,
    help="Mask every text people wrote and put pseudonyms in place of handles, post ids, links and customer ids; "
    "keep times, counts, states and verdicts.",
)
@_output
def export(  # noqa: PLR0917 - click passes every option by name
    data: str,
    store_url: str | None,
    since: str | None,
    until: str | None,
    with_open: bool,
    redact: bool,
    output: Path | None,
) -> None:
    """Write the incidents of a period with their recorded commands and history, as JSON Lines.

    The first line is the export's header (format and version), then each playbook version the incidents opened
    under, then one line per incident: its record and its log. `calmly report --export FILE` reads it, as can any
    tool that reads JSON Lines. See docs/reports.md.
    """
    from engine.report import export_lines  # noqa: PLC0415

    period = _period(since, until)
    with store_in(data, store_url) as store, _written(output) as out:
        recorded = counted(store.recorded(period.since, period.until, closed_only=not with_open), "exporting")
        lines = export_lines(
            recorded,
            store.playbook,
            exported_at=datetime.now(UTC),
            period=period,
            redact=redact,
            secret=secrets.token_bytes(32),  # each export its own pseudonyms: two cannot be matched up
            text_answers=functools.cache(lambda digest: _text_answers(store.playbook(digest))),
        )
        for line in lines:
            out.write(line + "\n")


@click.command()
@click.option("--data", envvar="CALMLY_DATA", help="The daemon's data folder (env CALMLY_DATA); or give --export.")
@store_option
@click.option(
    "--export",
    "export_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read an export made by calmly export instead of a store.",
)
@_since
@_until
@click.option("--open", "with_open", is_flag=True, help="Count open incidents too (by default closed ones only).")
@click.option(
    "--by",
    type=click.Choice(["playbook", "severity", "channel", "week", "role"]),
    help="Also give the figures per group (a role: every incident someone with it acted on).",
)
@output_format(("text", "json", "csv", "html"), "text tables, json, csv (one row per figure) or one html page.")
@_output
def report(  # noqa: PLR0917 - click passes every option by name
    data: str | None,
    store_url: str | None,
    export_file: Path | None,
    since: str | None,
    until: str | None,
    with_open: bool,
    by: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Figures over the incidents of a period: how fast the team answered and resolved, each target met on time,
    late or missed, escalations, time in each state, do-not-engage reasons, refusals by house rule, promises
    kept and broken, and what the reviews said.

    Reads the daemon's store (--data or --store) or an export (--export). See docs/reports.md for every figure.
    """
    from engine.report import Grouping, Rulebooks  # noqa: PLC0415

    if export_file is not None:  # a store the environment names gives way to the export asked for
        context = click.get_current_context()
        given = {
            name: context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
            for name in ("data", "store_url")
        }
        data = data if given["data"] else None
        store_url = store_url if given["store_url"] else None
    if (data is None and store_url is None) == (export_file is None):
        raise click.UsageError(
            "give the store to read (--data DIR or --store URL) or an export (--export FILE), one of them"
        )
    period = _period(since, until)
    grouping = None if by is None else Grouping(by)
    as_of = datetime.now(UTC)
    with ExitStack() as stack:
        if export_file is not None:
            sources: dict[str, tuple[str, str]] = {}
            recorded = _from_export(stack.enter_context(_opened(export_file)), export_file, sources)
            rulebooks = Rulebooks(sources.get)
        else:
            store = stack.enter_context(store_in(str(data), store_url))
            recorded = store.recorded(period.since, period.until, closed_only=not with_open)
            rulebooks = Rulebooks.kept_in(store)
        made = _made(recorded, rulebooks, period, grouping, as_of, closed_only=not with_open, trends=fmt == "html")
    with _written(output) as out:
        out.write(_rendered(made, fmt))


@contextmanager
def _opened(path: Path) -> Iterator[IO[str]]:
    try:
        with path.open(encoding="utf-8") as text:
            yield text
    except OSError as error:
        fail(f"cannot read {path.as_posix()}: {error.strerror or error}")


def _from_export(lines: Iterable[str], path: Path, sources: dict[str, tuple[str, str]]) -> Iterator[RecordedIncident]:
    from engine.report import read_export  # noqa: PLC0415

    yield from read_export(lines, path.as_posix(), sources)


def _made(
    recorded: Iterable[RecordedIncident],
    rulebooks: Rulebooks,
    period: Period,
    grouping: Grouping | None,
    as_of: datetime,
    *,
    closed_only: bool,
    trends: bool,
) -> Report:
    """The report, or the place in the export that stops it (exit 1)."""
    from engine.report import ExportError, make_report  # noqa: PLC0415

    try:
        return make_report(
            counted(recorded, "reading"), rulebooks, period, grouping, as_of, closed_only=closed_only, trends=trends
        )
    except ExportError as error:
        fail(str(error))
    except UnicodeDecodeError as error:
        fail(f"the export is not UTF-8 text ({error.reason}); give a file made by calmly export")


def _rendered(made: Report, fmt: str) -> str:
    import json  # noqa: PLC0415

    from engine.report import report_csv, report_html, report_text  # noqa: PLC0415

    if fmt == "json":
        return json.dumps(made.as_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return report_csv(made)
    if fmt == "html":
        return report_html(made)
    return report_text(made)
