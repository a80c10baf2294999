"""The pure packages stay pure (engine.playbook and engine.incident import only what they may), and every folder
of engine is a layer that imports only its own layer and those below.

In the spirit of click's tests/test_imports.py: the allowed list is written out, so adding an import that does I/O,
reads the clock or talks to a database is a deliberate, reviewed change.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import engine

ENGINE = Path(engine.__file__).parent

#: Standard-library modules that compute without touching files, sockets, processes or the clock.
PURE_STDLIB = {
    "__future__",
    "abc",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "operator",
    "re",
    "string",
    "types",
    "typing",
    "unicodedata",
    "zoneinfo",
    "bisect",
    "copy",
    "numbers",
    "uuid",
}
#: Parsing and validation libraries, and the state-machine and calendar libraries the language compiles into.
#: confusable_homoglyphs is Unicode's table of letters that look alike, read from its package: pure data.
ALLOWED_THIRD_PARTY = {"yaml", "jsonschema", "fastjsonschema", "transitions", "holidays", "confusable_homoglyphs"}
#: pkgutil reads the schema shipped inside the package (its get_data), nothing else; urllib.parse splits links
#: (urllib.request, which fetches them, stays out).
ALLOWED_SUBMODULES = {"pkgutil", "urllib.parse"}

FORBIDDEN_EXAMPLES = ["os", "sys", "time", "socket", "sqlite3", "subprocess", "click", "pathlib", "random", "http"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _allowed(module: str, package: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    # The pure packages may use each other: the runtime is built on the language.
    own = {package, *(f"engine.{name}" for name in PURE_PACKAGES)}
    return (
        any(module == name or module.startswith(name + ".") for name in own)
        or module in ALLOWED_SUBMODULES
        or top in PURE_STDLIB
        or top in ALLOWED_THIRD_PARTY
    )


PURE_PACKAGES = ("playbook", "incident")


def _pure_packages() -> list[str]:
    return [name for name in PURE_PACKAGES if (ENGINE / name).is_dir()]


@pytest.mark.parametrize("package", _pure_packages())
def test_pure_package_imports_only_pure_modules(package: str) -> None:
    offenders = {
        f"{path.relative_to(ENGINE.parent)} imports {module}"
        for path in sorted((ENGINE / package).rglob("*.py"))
        for module in _imports(path)
        if not _allowed(module, f"engine.{package}")
    }
    assert not offenders, "pure package reaches for I/O:\n" + "\n".join(sorted(offenders))


@pytest.mark.parametrize("module", FORBIDDEN_EXAMPLES)
def test_the_import_rule_rejects_modules_that_do_io(module: str) -> None:
    assert not _allowed(module, "engine.playbook")


def test_importing_the_playbook_package_does_not_import_io_frameworks() -> None:
    # A fresh interpreter, so modules other tests imported do not hide the answer.
    code = "import sys, engine.playbook; print(','.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        .stdout.strip()
        .split(",")
    )
    assert not loaded & {"click", "sqlite3", "structlog", "http.client", "socket", "transitions", "holidays"}


# --- the layers ---------------------------------------------------------------------------------------------------

#: engine's folders from the bottom up. A module may import its own layer and the layers below, never one above:
#: the core decides, files and the store keep, the service applies, notifications and authoring use the service,
#: the API serves it, the desk puts pages on it, the daemon wires it all, and the command line drives everything.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"playbook", "incident"}),
    frozenset({"files", "store"}),
    frozenset({"service"}),
    frozenset({"notify", "authoring", "report"}),  # report: figures over what the store keeps
    frozenset({"api"}),
    frozenset({"desk"}),  # the pages, on the JSON API's app, its caller and its service
    frozenset({"daemon"}),
    frozenset({"cli"}),
)
#: Modules at engine's root: the version, the error tree every layer raises from, the test helpers shipped to
#: users (a clock you move by hand), and which build of the incident runtime runs (compiled or Python).
ROOT_MODULES = {"__init__", "errors", "testing", "_compiled"}


def _layer(part: str) -> int:
    for rank, names in enumerate(LAYERS):
        if part in names:
            return rank
    raise AssertionError(f"engine/{part} belongs to no layer; add it to LAYERS")


def _engine_imports(path: Path) -> set[str]:
    """The engine folders a module imports, lazily imported ones (inside functions) included."""
    return {
        module.split(".")[1]
        for module in _imports(path)
        if module.startswith("engine.") and module.split(".")[1] not in ROOT_MODULES
    }


def test_every_module_at_engines_root_is_a_known_one() -> None:
    loose = {path.stem for path in ENGINE.glob("*.py")} - ROOT_MODULES
    assert not loose, f"put these in the folder of their layer: {sorted(loose)}"


def test_every_folder_of_engine_is_a_layer() -> None:
    folders = {path.name for path in ENGINE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    for folder in folders:
        _layer(folder)


def test_no_module_imports_a_layer_above_its_own() -> None:
    offenders = sorted(
        f"{path.relative_to(ENGINE.parent)} imports engine.{imported}, a layer above its own"
        for path in ENGINE.rglob("*.py")
        if len(path.relative_to(ENGINE).parts) > 1
        for imported in _engine_imports(path)
        if _layer(imported) > _layer(path.relative_to(ENGINE).parts[0])
    )
    assert not offenders, "a module reaches up a layer:\n" + "\n".join(offenders)


def test_the_layer_rule_catches_a_service_module_reaching_for_the_api(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from engine.api import create_app\n", encoding="utf-8")

    assert _layer("api") > _layer("service")
    assert _engine_imports(module) == {"api"}


def test_production_code_never_imports_the_test_helpers() -> None:
    users = sorted(
        str(path.relative_to(ENGINE.parent))
        for path in ENGINE.rglob("*.py")
        if path.name != "testing.py" and any(module == "engine.testing" for module in _imports(path))
    )
    assert not users, f"these use engine.testing; use engine.service.SimulatedClock: {users}"


#: What the report's figures and renderers may not reach for: they get recorded incidents and return text, and the
#: store (or the command reading an export) does the reading.
REPORT_FORBIDDEN = {"os", "sys", "sqlite3", "pathlib", "socket", "subprocess", "click", "http", "urllib", "time"}


def test_the_report_package_computes_and_renders_without_io() -> None:
    offenders = sorted(
        f"{path.relative_to(ENGINE.parent)} imports {module}"
        for path in (ENGINE / "report").rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] in REPORT_FORBIDDEN
    )
    assert not offenders, "the report package reaches for I/O:\n" + "\n".join(offenders)


#: The behavioural diff's replay, comparison and rendering take texts and recorded incidents and return data and
#: text: the command line reads files and git, and the pool (engine/authoring/behaviour.py) runs the processes.
DIFF_MODULES = ("replay.py", "comparison.py", "diffview.py")
DIFF_FORBIDDEN = REPORT_FORBIDDEN | {"concurrent", "multiprocessing", "engine.cli"}


def test_the_diffs_replay_comparison_and_rendering_do_no_io() -> None:
    offenders = sorted(
        f"engine/authoring/{name} imports {module}"
        for name in DIFF_MODULES
        for module in _imports(ENGINE / "authoring" / name)
        if module.split(".")[0] in DIFF_FORBIDDEN or module in DIFF_FORBIDDEN
    )
    assert not offenders, "the diff's pure parts reach for I/O:\n" + "\n".join(offenders)
