"""`calmly validate` as CI and people drive it: exit codes and each report format, from the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from shared_testdata import shared_testdata

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")

BROKEN = """\
# yaml-language-server: $schema=../schemas/playbook.schema.json
playbook: broken
version: 1
owner: social_lead
applies_to: {channels: [twitter]}
roles:
  social_lead: {description: Owns it.}
severity: {levels: [low, high], default: low}
states:
  detected: {limit: {default: 1:30}}
  assessed: {limit: {default: 1h}}
  acknowledged: {limit: {default: 1h}}
  resolution_offered: {limit: {default: 1h}}
  resolved: {limit: {default: 1h}}
  reviewed: {final: true}
transitions:
  - {trigger: assess, from: detected, to: assessed, by: [social_lead]}
"""


def calmly(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CALMLY), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def test_shipped_playbooks_are_valid_under_strict() -> None:
    result = calmly("validate", "--strict", "playbooks/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("valid")


def test_validate_defaults_to_the_playbooks_folder() -> None:
    result = calmly("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = len(list((ROOT / "playbooks").glob("*.yaml")))
    assert result.stdout.strip() == f"{shipped} playbook{'' if shipped == 1 else 's'} valid"


def test_text_report_names_file_line_column_and_code(broken: Path) -> None:
    result = calmly("validate", str(broken))
    assert result.returncode == 1
    assert f"{broken.as_posix()}:10:31: E204 " in result.stdout
    assert "write 1h30m instead" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_json_report_is_machine_readable(broken: Path) -> None:
    result = calmly("validate", "--format", "json", str(broken), "playbooks/customer-complaint.yaml")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["summary"]["files"] == 2
    by_file = {entry["file"]: entry for entry in report["files"]}
    problem = by_file[broken.as_posix()]["problems"][0]
    assert problem == {
        "code": "E204",
        "name": "bad-duration",
        "severity": "error",
        "message": problem["message"],
        "line": 10,
        "column": 31,
        "pointer": "/states/detected/limit/default",
    }
    good = by_file["playbooks/customer-complaint.yaml"]
    assert good["valid"] is True
    assert good["playbook"] == "customer-complaint"
    assert good["digest"].startswith("sha256:")


def test_github_format_prints_workflow_annotations(broken: Path) -> None:
    result = calmly("validate", "--format", "github", str(broken))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"::error file={broken.as_posix()},line=10,col=31::E204 ")


def test_sarif_report_validates_against_the_official_schema(broken: Path, tmp_path: Path) -> None:
    sarif_schema = shared_testdata("sarif/sarif-schema-2.1.0.json")
    out = tmp_path / "report.sarif"
    result = calmly("validate", "--format", "sarif", "--output", str(out), str(broken), "playbooks/")
    assert result.returncode == 1
    log = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(sarif_schema.read_text(encoding="utf-8"))
    errors = sorted(Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, [error.message for error in errors]
    run = log["runs"][0]
    first = run["results"][0]
    assert first["ruleId"] == "E204"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "E204"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 10, "startColumn": 31}


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    text = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")
    warned = tmp_path / "warned.yaml"
    warned.write_text(text.replace("roles:\n", "roles:\n  intern: {description: Watches and learns.}\n", 1))
    relaxed = calmly("validate", str(warned))
    strict = calmly("validate", "--strict", str(warned))
    assert relaxed.returncode == 0
    assert "W700" in relaxed.stdout
    assert strict.returncode == 1
    assert "W700" in strict.stdout


def test_a_missing_path_is_a_usage_error() -> None:
    result = calmly("validate", "no/such/folder")
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_a_folder_without_playbooks_fails_rather_than_passing_silently(tmp_path: Path) -> None:
    result = calmly("validate", str(tmp_path))
    assert result.returncode == 1
    assert "no playbooks" in result.stderr


def test_graph_draws_states_triggers_roles_and_final_states_in_mermaid() -> None:
    result = calmly("graph", "playbooks/customer-complaint.yaml")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "stateDiagram-v2" in text
    assert "detected --> assessed: assess (community_manager, social_lead)" in text
    assert "reviewed --> [*]" in text
    assert "[*] --> detected" in text


def test_graph_says_who_approves_a_reply_on_the_edge_of_its_action() -> None:
    result = calmly("graph", "playbooks/safety-and-legal.yaml")

    assert result.returncode == 0, result.stderr
    assert (
        "assessed --> acknowledged: acknowledge (community_manager, social_lead, comms_director; approved by "
        "legal_counsel or comms_director)" in result.stdout
    )


def test_graph_draws_dot_with_final_states_double_bordered() -> None:
    result = calmly("graph", "playbooks/customer-complaint.yaml", "--format", "dot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('digraph "customer-complaint v2"')
    assert 'detected -> assessed [label="assess (community_manager, social_lead)"]' in result.stdout
    reviewed = next(line for line in result.stdout.splitlines() if line.strip().startswith("reviewed ["))
    assert "peripheries=2" in reviewed


def test_graph_of_an_invalid_playbook_explains_instead_of_drawing(broken: Path) -> None:
    result = calmly("graph", str(broken))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "E204" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_files_with_the_same_playbook_id_are_reported_in_the_second(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = calmly("validate", "playbooks/customer-complaint.yaml", str(copy))
    assert result.returncode == 1
    assert f"{copy.as_posix()}:6:11: E110 the playbook id 'customer-complaint' is already used by " in result.stdout
    assert "playbooks/customer-complaint.yaml:" not in result.stdout


def test_graph_help_and_the_readme_say_dot_needs_graphviz_and_how_to_install_it() -> None:
    result = calmly("graph", "--help")
    assert result.returncode == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (result.stdout, readme):
        assert "Graphviz" in text
        assert "sudo apt install graphviz" in text
        assert "brew install graphviz" in text
