"""The ``calmly`` command group.

Exit codes are a fixed contract: 0 success, 1 the input is invalid or a check failed, 2 usage error. Nothing a user
types or writes in a file may surface as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine import __version__
from engine.catalog import load_file, load_paths
from engine.diagnostics import Format, failed, render

__all__ = ["main"]

_DEFAULT_PLAYBOOKS = Path("playbooks")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


@main.command()
@click.argument("playbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="mermaid renders in GitHub pull requests and Markdown; dot is for Graphviz.",
)
def graph(playbook: Path, fmt: str) -> None:
    """Draw a playbook's state machine: states, actions, the roles allowed to take them, final states marked."""
    from engine.diagram import DiagramFormat, draw  # noqa: PLC0415 - keeps `calmly validate` quick to start

    result = load_file(playbook)
    if result.playbook is None:
        click.echo(render([result], Format.TEXT), err=True, nl=False)
        click.echo(f"cannot draw {playbook.as_posix()}: fix the errors above first", err=True)
        sys.exit(1)
    click.echo(draw(result.playbook, DiagramFormat(fmt)), nl=False)
