"""Editors, CI and the engine agree: check-jsonschema (the validator editors' schema support behaves like) reads
the shipped playbooks with the same schema and the same YAML 1.2 rules, and reaches the same verdict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.playbook import load

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SCHEMA = ROOT / "schemas" / "playbook.schema.json"
SHIPPED = sorted((ROOT / "playbooks").glob("*.yaml"))


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(SCHEMA), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_shipped_playbook_passes_check_jsonschema() -> None:
    assert SHIPPED
    result = check_jsonschema(*SHIPPED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_shipped_playbook_starts_with_the_editor_schema_modeline() -> None:
    for path in SHIPPED:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/playbook.schema.json", path.name


@pytest.mark.parametrize(
    ("replace", "by", "valid"),
    [
        # YAML 1.1 would read these as booleans or as the number 90; YAML 1.2 (editors, calmly) reads text.
        ("choices: [product, delivery, service, communication, other]", "choices: [yes, no, on, off]", True),
        ("critical: 15m, high: 1h", "critical: 1:30, high: 1h", False),
        ("version: 2", "version: yes", False),
    ],
)
def test_engine_and_check_jsonschema_agree_on_yaml_1_2_values(
    tmp_path: Path, replace: str, by: str, valid: bool
) -> None:
    text = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")
    assert replace in text
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    engine_valid = not load(path.read_bytes(), str(path)).errors
    editor_valid = check_jsonschema(path).returncode == 0
    assert (engine_valid, editor_valid) == (valid, valid)


@pytest.mark.parametrize(
    ("schema", "pattern"),
    [("timeline", "examples/timelines/*.yaml"), ("playbook-test", "examples/playbook-tests/*.test.yaml")],
)
def test_example_timelines_and_tests_pass_check_jsonschema_against_their_schemas(schema: str, pattern: str) -> None:
    files = sorted(ROOT.glob(pattern))
    assert files
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(ROOT / "schemas" / f"{schema}.schema.json"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "path",
    [*sorted(ROOT.glob("examples/timelines/*.yaml")), *sorted(ROOT.glob("examples/playbook-tests/*.test.yaml"))],
    ids=lambda p: p.name,
)
def test_every_example_starts_with_its_editor_schema_modeline(path: Path) -> None:
    schema = "playbook-test" if path.name.endswith(".test.yaml") else "timeline"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../../schemas/{schema}.schema.json"
