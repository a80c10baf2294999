"""Which build of the incident runtime runs: the compiled one only while it matches its source, all of it or none.

The decision is tested on a copy of the package's layout (empty files stand for extension modules); whether this
checkout's own runtime is compiled is asked of fresh interpreters, as ``engine`` decides once per process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import _compiled
from engine.cli import main

ROOT = Path(_compiled.__file__).resolve().parent.parent
_SUFFIX = _compiled._SUFFIX


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """engine/incident and engine/playbook copied (sources only), with the decision pointed at the copy."""
    engine = tmp_path / "engine"
    shutil.copytree(ROOT / "engine" / "incident", engine / "incident", ignore=shutil.ignore_patterns("*.so", "*.stamp"))
    shutil.copytree(ROOT / "engine" / "playbook", engine / "playbook", ignore=shutil.ignore_patterns("__pycache__"))
    package = engine / "incident"
    monkeypatch.setattr(_compiled, "PACKAGE", package)
    monkeypatch.setattr(_compiled, "_STAMP", package / "_runtime.stamp")
    monkeypatch.delenv("CALMLY_PURE_PYTHON", raising=False)
    return package


def _build_all(package: Path) -> None:
    for path in _compiled._built():
        path.write_bytes(b"")
    (package / "_runtime.stamp").write_text(_compiled._sources_digest() + "\n", encoding="utf-8")


def test_a_checkout_never_compiled_runs_python(layout: Path) -> None:
    compiled, reason = _compiled._state()
    assert not compiled
    assert "not built" in reason


def test_a_complete_build_of_the_current_source_runs_compiled(layout: Path) -> None:
    _build_all(layout)
    compiled, reason = _compiled._state()
    assert compiled, reason
    assert reason.startswith("compiled with mypyc")


def test_an_edited_module_makes_the_whole_runtime_run_from_source(layout: Path) -> None:
    _build_all(layout)
    acting = layout / "_acting.py"
    acting.write_text(acting.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    compiled, reason = _compiled._state()
    assert not compiled
    assert "changed since" in reason


def test_an_edited_language_module_counts_as_a_change_too(layout: Path) -> None:
    _build_all(layout)
    model = layout.parent / "playbook" / "_model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert not _compiled._state()[0]


def test_a_build_missing_a_module_runs_from_source(layout: Path) -> None:
    _build_all(layout)
    (layout / f"_moves{_SUFFIX}").unlink()
    compiled, reason = _compiled._state()
    assert not compiled
    assert "partly built" in reason


def test_a_build_without_its_stamp_runs_from_source(layout: Path) -> None:
    _build_all(layout)
    (layout / "_runtime.stamp").unlink()
    assert not _compiled._state()[0]


def test_the_environment_can_ask_for_python_whatever_is_built(layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build_all(layout)
    monkeypatch.setenv("CALMLY_PURE_PYTHON", "1")
    compiled, reason = _compiled._state()
    assert not compiled
    assert "CALMLY_PURE_PYTHON" in reason


def test_the_records_and_the_mention_repairs_stay_python() -> None:
    assert "engine.incident._record" not in _compiled.MODULES
    assert "engine.incident._repair" not in _compiled.MODULES
    assert "engine.incident._step" in _compiled.MODULES


def _fresh(code: str, **env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "CALMLY_PURE_PYTHON"} | env
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=environment
    ).stdout.strip()


_LOADED = (
    "import sys, engine.incident; from engine import _compiled; "
    "print(sorted({sys.modules[name].__file__.rsplit('.', 1)[-1] for name in _compiled.MODULES}), "
    "_compiled.running_compiled())"
)


def test_asked_for_python_every_module_of_the_runtime_loads_from_its_source() -> None:
    assert _fresh(_LOADED, CALMLY_PURE_PYTHON="1") == "['py'] False"


@pytest.mark.skipif(not _compiled._state()[0], reason="the runtime is not compiled here: run make compiled")
def test_a_compiled_checkout_loads_every_module_of_the_runtime_compiled() -> None:
    assert _fresh(_LOADED) == "['so'] True"


def test_runtime_status_says_which_runtime_runs() -> None:
    result = CliRunner().invoke(main, ["runtime", "status"])
    assert result.exit_code == 0
    assert result.output.startswith(("compiled with mypyc", "pure Python: "))


def test_building_without_mypyc_says_what_to_install(tmp_path: Path) -> None:
    broken = tmp_path / "mypyc"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('no mypyc here', name='mypyc')\n", encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    stamp = ROOT / "engine" / "incident" / "_runtime.stamp"
    before = stamp.read_bytes() if stamp.exists() else None
    result = subprocess.run(
        [sys.executable, "-c", "from engine.cli import main; main()", "runtime", "build"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 1
    assert "mypyc is not installed; install calmly with its extra 'compiled'" in result.stderr
    assert "Traceback" not in result.stderr
    assert (stamp.read_bytes() if stamp.exists() else None) == before  # what was built is left as it was


@pytest.mark.parametrize(
    ("failure", "said"),
    [(SystemExit(1), "mypyc says why above"), (OSError("command 'gcc' failed"), "command 'gcc' failed")],
)
def test_a_build_that_fails_says_so_and_leaves_python_running(
    failure: BaseException, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise failure

    monkeypatch.setattr(_compiled, "build", broken)
    result = CliRunner().invoke(main, ["runtime", "build"])
    assert result.exit_code == 1
    assert said in result.output
    assert "the Python runtime still runs" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
