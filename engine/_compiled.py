"""The incident runtime compiled to C with mypyc where it has been built, and run from its Python source otherwise.

``step`` and everything it calls (``engine/incident``, but for the records and the mention repairs, below) is plain
Python that mypy checks strictly, so mypyc can compile it unchanged into C extension modules beside their sources:
the same code, about a fifth fewer instructions per command. ``calmly runtime build`` builds them
(``make compiled``, which ``make run``, ``make test`` and ``make bench`` do first) and writes a stamp naming the
sources they were built from. When a process first imports the runtime, the compiled modules are used only if the
stamp matches the sources as they are now (the runtime's, and the language's, whose types the compiled code takes as
written) and every module was built; otherwise every module of the runtime runs from its source, so an edited module
always runs as written, never as it was last compiled, and the two are never mixed.
``CALMLY_PURE_PYTHON=1`` runs the source whatever is built. ``calmly runtime status`` says which runs.

Not compiled: ``_record`` (its dataclasses' ``evolve`` and ``__init__`` are written out at import, which C classes
cannot take) and ``_repair`` (its tables hold lone surrogates, which mypyc cannot put in C string literals); the
compiled modules use them as ordinary Python modules.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["MODULES", "PACKAGE", "build", "clean", "describe", "install", "running_compiled"]

PACKAGE = Path(__file__).resolve().parent / "incident"
#: Left as Python: see the module's docstring.
_LEFT_AS_PYTHON = frozenset({"__init__", "_record", "_repair"})
#: The compiled modules' names, in order.
MODULES = tuple(
    f"engine.incident.{path.stem}" for path in sorted(PACKAGE.glob("*.py")) if path.stem not in _LEFT_AS_PYTHON
)
#: The group the modules compile into, and its shared library (mypyc's name for it: the group's and ``__mypyc``);
#: each module's own extension is a small shim that loads the library.
_GROUP = "engine.incident._runtime"
_LIBRARY = f"{_GROUP}__mypyc"


_STAMP = PACKAGE / "_runtime.stamp"
_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # this interpreter's: a build for another one is never loaded
_PURE_ENV = "CALMLY_PURE_PYTHON"


def _sources_digest() -> str:
    """What the compiled modules must have been built from and against: the source of every module of the runtime
    and of the language (whose types the compiled code takes as written), and this interpreter."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    engine = PACKAGE.parent
    for path in sorted(PACKAGE.glob("*.py")) + sorted((engine / "playbook").rglob("*.py")):
        digest.update(path.relative_to(engine).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _built() -> list[Path]:
    return [PACKAGE / f"{name.rpartition('.')[2]}{_SUFFIX}" for name in (*MODULES, _LIBRARY)]


def _state() -> tuple[bool, str]:
    """Whether the compiled runtime can run, and why (or why not), in words."""
    built = _built()
    present = [path for path in built if path.exists()]
    if not present:
        return False, "pure Python: the compiled runtime is not built (make compiled)"
    if os.environ.get(_PURE_ENV, "") not in ("", "0"):
        return False, f"pure Python: {_PURE_ENV} is set"
    if len(present) < len(built):
        return False, "pure Python: the compiled runtime is only partly built (make compiled)"
    if not _STAMP.exists() or _STAMP.read_text(encoding="utf-8").strip() != _sources_digest():
        return False, "pure Python: the source changed since the runtime was compiled (make compiled)"
    return True, f"compiled with mypyc ({len(MODULES)} modules of engine/incident)"


@functools.cache
def _decided() -> tuple[bool, str]:
    """The decision of this process, made once, when first asked: before any module of the runtime is imported."""
    return _state()


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds the runtime's modules as their Python source, ahead of the extension modules beside them, unless the
    compiled runtime is to run (decided at the first of them: a process that never imports the runtime never asks)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _NAMES or _decided()[0]:
            return None
        return importlib.util.spec_from_file_location(fullname, PACKAGE / f"{fullname.rpartition('.')[2]}.py")


_NAMES = frozenset(MODULES)


def install() -> None:
    """Put the decision before the import system's own search, where anything of the runtime is built (``engine``
    calls this when it is imported); with nothing built, the source is all there is."""
    if any(path.exists() for path in _built()):
        sys.meta_path.insert(0, _FromSource())


def running_compiled() -> bool:
    """Whether this process runs the compiled runtime (the finder then steps aside for every module of it)."""
    return _decided()[0]


def describe() -> str:
    """Which runtime this process runs, in words: what ``calmly runtime status`` and the benchmark say."""
    return _decided()[1]


def build() -> None:
    """Compile the runtime beside its sources, and stamp what it was built from. Needs mypy (with mypyc),
    setuptools (calmly's extra ``compiled``) and a C compiler."""
    from mypyc.build import mypycify  # noqa: PLC0415 - only a build needs mypyc
    from setuptools import Distribution  # type: ignore[import-untyped]  # noqa: PLC0415

    root = PACKAGE.parent.parent
    _STAMP.unlink(missing_ok=True)  # a build that fails half way leaves no stamp: the source runs
    previous = Path.cwd()
    os.chdir(root)  # mypyc names the modules by their paths from here, and the extensions land beside their source
    try:
        with tempfile.TemporaryDirectory(prefix="calmly-runtime-") as scratch:  # the C source and objects
            paths = [f"engine/incident/{name.rpartition('.')[2]}.py" for name in MODULES]
            options = ["--cache-dir", os.path.join(scratch, "mypy")]
            extensions = mypycify(
                [*options, *paths], opt_level="3", group_name=_GROUP, target_dir=os.path.join(scratch, "c")
            )
            setup = Distribution({"name": "calmly-runtime", "ext_modules": extensions})
            setup.script_name = "engine/_compiled.py"
            setup.script_args = ["--quiet", "build_ext", "--inplace", "--build-temp", os.path.join(scratch, "o")]
            setup.script_args += ["--build-lib", os.path.join(scratch, "lib")]
            setup.parse_command_line()
            setup.run_commands()
    finally:
        os.chdir(previous)
    _STAMP.write_text(_sources_digest() + "\n", encoding="utf-8")


def clean() -> None:
    """Remove the compiled runtime: the source runs."""
    for path in _built():
        path.unlink(missing_ok=True)
    _STAMP.unlink(missing_ok=True)
