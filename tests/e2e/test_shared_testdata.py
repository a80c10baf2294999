"""Tests that need data from outside the repository skip in a plain clone, saying how to run them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from shared_testdata import ENV, shared_testdata

ROOT = Path(__file__).resolve().parents[2]


def test_skips_saying_how_to_run_it_when_the_shared_data_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared_testdata("no/such/file.json")
    assert "beside shared/" in str(skipped.value)
    assert ENV in str(skipped.value)


def test_skips_naming_the_missing_file_when_the_variable_names_a_folder_without_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared_testdata("sarif/sarif-schema-2.1.0.json")
    assert str(tmp_path / "sarif" / "sarif-schema-2.1.0.json") in str(skipped.value)


def test_uses_the_folder_the_variable_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sarif").mkdir()
    (tmp_path / "sarif" / "schema.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv(ENV, str(tmp_path))
    assert shared_testdata("sarif/schema.json") == tmp_path / "sarif" / "schema.json"


def test_ci_points_the_tests_at_the_shared_data_beside_the_checkout_only_where_it_is(tmp_path: Path) -> None:
    fake_make = tmp_path / "make"  # stands in for `make test`, printing what the tests would be given
    fake_make.write_text(f'#!/bin/sh\nprintf "%s" "${ENV}"\n', encoding="utf-8")
    fake_make.chmod(0o755)
    for tool in ("chromium", "wrk"):  # found, so the script installs nothing on a machine that lacks them
        (tmp_path / tool).write_text("#!/bin/sh\n", encoding="utf-8")
        (tmp_path / tool).chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != ENV}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    beside = ROOT.parent / "shared" / "testdata"
    assert result.stdout == (str(beside) if beside.is_dir() else "")  # a clone elsewhere: unset, so tests skip
