"""The ``calmly runtime`` commands: which build of the incident runtime runs, and building the compiled one."""

from __future__ import annotations

import click

from engine import _compiled
from engine.cli._failure import fail

__all__ = ["runtime"]


@click.group()
def runtime() -> None:
    """Say which build of the incident runtime runs, and build the compiled one.

    The runtime (what every command on an incident goes through) runs as Python, or compiled to C with mypyc from
    the same source, a fifth cheaper. The compiled one is used only while it matches the source it was built from.
    """


@runtime.command("status")
def runtime_status() -> None:
    """Say whether this installation runs the compiled runtime, and if not, why not."""
    click.echo(_compiled.describe())


@runtime.command("build")
def runtime_build() -> None:
    """Compile the runtime beside its source (needs a C compiler, and the extra 'compiled': mypy, setuptools)."""
    try:
        _compiled.build()
    except ImportError as error:
        missing = error.name or error
        fail(f"cannot compile the runtime: {missing} is not installed; install calmly with its extra 'compiled'")
    except SystemExit:  # mypyc prints what it cannot compile, then exits
        fail("cannot compile the runtime: mypyc says why above; the Python runtime still runs")
    except Exception as error:  # a compiler's failure is said in its words, not as a traceback
        fail(f"cannot compile the runtime: {error}; the Python runtime still runs")
    click.echo("built: the next calmly process runs the compiled runtime")


@runtime.command("clean")
def runtime_clean() -> None:
    """Remove the compiled runtime: the Python one runs."""
    _compiled.clean()
    click.echo("removed: the next calmly process runs the Python runtime")
