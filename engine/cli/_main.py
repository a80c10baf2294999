"""The ``calmly`` command group.

Exit codes are a fixed contract: 0 success, 1 the input is invalid or a check failed, 2 usage error. Nothing a user
types or writes in a file may surface as a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine import __version__
from engine.authoring.diagnostics import Format, failed, render
from engine.cli._group import CalmlyGroup
from engine.cli._options import output_format, percentage
from engine.files import load_file, load_paths
from engine.playbook import Failed, Playbook, Problem

__all__ = ["main"]

_DEFAULT_PLAYBOOKS = Path("playbooks")
#: Where `calmly test` looks when given no paths: the current folder and below, so tests beside the playbooks, in
#: a playbook-tests/ folder or under examples/ are all found when it runs at the top of a repository.
_DEFAULT_TESTS = Path(".")


@click.group(cls=CalmlyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="calmly")
def main() -> None:
    """calmly: playbooks for handling social-media complaints, validated, tested and run."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([fmt.value for fmt in Format]),
    default=Format.TEXT.value,
    show_default=True,
    help="text for people, json for scripts, github for workflow annotations, sarif for code scanning.",
)
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, output: Path | None) -> None:
    """Check playbooks: every problem in every file, each with its line, column and code.

    PATHS are playbook files or folders searched for *.yaml and *.yml (default: playbooks/).
    Exits 0 when all are valid, 1 when any is invalid (or has warnings, with --strict).
    """
    if not paths:
        if not _DEFAULT_PLAYBOOKS.is_dir():
            raise click.UsageError("no PATHS given and there is no playbooks/ folder here")
        paths = (_DEFAULT_PLAYBOOKS,)
    results = load_paths(paths)
    if not results:
        click.echo(f"no playbooks (*.yaml, *.yml) found in {', '.join(p.as_posix() for p in paths)}", err=True)
        sys.exit(1)
    report = render(results, Format(fmt), strict=strict)
    if output is None:
        click.echo(report, nl=False)
    else:
        output.write_text(report, encoding="utf-8")
    sys.exit(1 if failed(results, strict=strict) else 0)


def _load_or_exit(playbook: Path) -> Playbook:
    """The playbook, or its problems on standard error and exit 1."""
    result = load_file(playbook)
    if result.playbook is None:
        click.echo(render([result], Format.TEXT), err=True, nl=False)
        click.echo(f"cannot use {playbook.as_posix()}: fix the errors above first", err=True)
        sys.exit(1)
    return result.playbook


def _problems_or_exit(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(problem.located, err=True)
    if problems:
        sys.exit(1)


@main.command()
@click.argument("playbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("timeline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_format(("text", "json"), "text tells the story line by line; json gives the same lines for scripts.")
@click.option(
    "--with",
    "others",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another playbook to run beside it, as the daemon runs a set (such as the crisis playbook its surges "
    "open incidents under); may be given more than once.",
)
def simulate(playbook: Path, timeline: Path, fmt: str, others: tuple[Path, ...]) -> None:
    """Play a TIMELINE of mentions and actions against a PLAYBOOK on a simulated clock.

    Prints the story: incidents opened, state changes, clocks and deadlines, warnings, breaches, escalations, surges,
    and refused actions with their reason. Nothing waits: deadlines fire the moment the simulated clock reaches them.
    """
    from engine.authoring.simulation import render_story  # noqa: PLC0415
    from engine.authoring.simulation import simulate as play  # noqa: PLC0415
    from engine.authoring.timeline import read_timeline  # noqa: PLC0415
    from engine.incident import Rulebook  # noqa: PLC0415 - keeps `calmly validate` quick to start

    book = Rulebook(_load_or_exit(playbook))
    beside = [Rulebook(_load_or_exit(other)) for other in others]
    story = read_timeline(timeline)
    if isinstance(story, Failed):
        _problems_or_exit(list(story.problems))
        return
    result = play(book, story, others=beside)
    if fmt == "json":
        from engine.cli._reports import story_json  # noqa: PLC0415

        click.echo(json.dumps(story_json(book.playbook, story, result), indent=2))
    else:
        click.echo(render_story(result), nl=False)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@output_format(("text", "json"), "text for people; json for scripts.")
@click.option(
    "--coverage",
    "with_coverage",
    is_flag=True,
    help="Also report, per playbook, which transitions, escalation steps and house rules no test exercised.",
)
@click.option(
    "--min-coverage",
    callback=percentage,
    metavar="PERCENT",
    help="Fail (exit 1) when the tests cover less than PERCENT (0 to 100) of the items in total; implies --coverage.",
)
def test_command(paths: tuple[Path, ...], fmt: str, with_coverage: bool, min_coverage: float | None) -> None:
    """Run playbook tests: timelines on a simulated clock, with expectations at given times.

    PATHS are test files (*.test.yaml) or folders searched for them (default: the current folder and every folder
    below it, leaving out hidden folders such as .git and .venv, virtual environments and node_modules).
    Exits 0 when every expectation holds, 1 when any fails, naming the file and line of each (or when the
    coverage is below --min-coverage).
    """
    from engine.authoring.testsuite import discover_tests, run_test_file  # noqa: PLC0415
    from engine.cli._reports import tests_json, tests_text  # noqa: PLC0415

    files = discover_tests(paths or (_DEFAULT_TESTS,))
    if not files:
        where = ", ".join(p.as_posix() for p in paths) if paths else "this folder or any folder below it"
        click.echo(f"no playbook tests (*.test.yaml) found in {where}", err=True)
        sys.exit(1)
    reports = [run_test_file(path) for path in files]
    passed = all(report.passed for report in reports)
    if not (with_coverage or min_coverage is not None):
        if fmt == "json":
            click.echo(json.dumps(tests_json(reports), indent=2))
        else:
            click.echo(tests_text(reports), nl=False)
        sys.exit(0 if passed else 1)

    from engine.authoring.coverage import coverage_of  # noqa: PLC0415 - only when coverage is asked for
    from engine.cli._reports import coverage_json, coverage_text, coverage_verdict  # noqa: PLC0415

    coverage = coverage_of(reports)
    enough = min_coverage is None or coverage.meets(min_coverage)
    if fmt == "json":
        click.echo(json.dumps({**tests_json(reports), "coverage": coverage_json(coverage, min_coverage)}, indent=2))
        if min_coverage is not None:
            click.echo(coverage_verdict(coverage, min_coverage), err=True)
    else:
        click.echo(tests_text(reports) + coverage_text(coverage), nl=False)
        if min_coverage is not None:
            click.echo(coverage_verdict(coverage, min_coverage))
    sys.exit(0 if passed and enough else 1)


@main.command()
@click.argument("playbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_format(("mermaid", "dot"), "mermaid renders in GitHub pull requests and Markdown; dot is for Graphviz.")
def graph(playbook: Path, fmt: str) -> None:
    """Draw a playbook's state machine: states, actions, the roles allowed to take them, final states marked.

    \b
    To turn DOT into a picture you need Graphviz's `dot` program:
      calmly graph PLAYBOOK --format dot | dot -Tsvg > playbook.svg
    Install it with `sudo apt install graphviz` (Debian, Ubuntu) or `brew install graphviz` (macOS).
    """
    from engine.authoring.diagram import DiagramFormat, draw  # noqa: PLC0415 - keeps `calmly validate` quick to start

    click.echo(draw(_load_or_exit(playbook), DiagramFormat(fmt)), nl=False)


def _register_daemon_commands() -> None:
    from engine.cli._check import check  # noqa: PLC0415 - one concept each
    from engine.cli._diff import diff  # noqa: PLC0415
    from engine.cli._incidents import incidents  # noqa: PLC0415
    from engine.cli._ingest import ingest  # noqa: PLC0415
    from engine.cli._learning import export, report  # noqa: PLC0415
    from engine.cli._migrate import migrate_store  # noqa: PLC0415
    from engine.cli._outbox import outbox  # noqa: PLC0415
    from engine.cli._runtime import runtime  # noqa: PLC0415
    from engine.cli._serve import serve  # noqa: PLC0415
    from engine.cli._token import token  # noqa: PLC0415

    for command in (check, serve, ingest, token, incidents, outbox, export, report, diff, migrate_store, runtime):
        main.add_command(command)


_register_daemon_commands()
