"""The pre-commit hook and the example GitHub workflow run commands that exist and do what they say."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(command: str, *files: str) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    words[0] = str(BIN / words[0])
    return subprocess.run([*words, *files], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_pre_commit_hook_validates_the_files_it_is_given(tmp_path: Path) -> None:
    hooks: list[dict[str, Any]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(hook for hook in hooks if hook["id"] == "calmly-validate")
    assert hook["pass_filenames"] is True
    assert _run(hook["entry"], "playbooks/customer-complaint.yaml").returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("playbook: x\nplaybook: y\n", encoding="utf-8")
    result = _run(hook["entry"], str(broken))
    assert result.returncode == 1
    assert "E106" in result.stdout


def test_example_workflow_annotates_and_uploads_sarif() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github" / "validate-playbooks.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["validate"]["steps"]
    commands = [step["run"] for step in steps if "run" in step]
    assert "calmly validate --strict --format github playbooks/" in commands
    assert any("--format sarif --output calmly.sarif" in command for command in commands)
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)
    # The commands the workflow runs work here too.
    assert _run("calmly validate --strict --format github playbooks/").returncode == 0


def test_example_workflow_runs_the_playbook_tests_at_a_coverage_the_shipped_tests_meet() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github" / "validate-playbooks.yml").read_text(encoding="utf-8"))
    commands = [step["run"] for step in workflow["jobs"]["validate"]["steps"] if "run" in step]
    (command,) = [command for command in commands if command.startswith("calmly test")]
    assert "--min-coverage" in command
    assert "**/*.test.yaml" in workflow[True]["pull_request"]["paths"]  # PyYAML reads the key `on` as True
    result = _run(command)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "meets the minimum" in result.stdout.splitlines()[-1]


INSTALLS = re.compile(r"pip install[^\n`]*?calmly[^\n`]*")


def _install_commands() -> dict[str, list[str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.y*ml"))]
    return {page.relative_to(ROOT).as_posix(): INSTALLS.findall(page.read_text(encoding="utf-8")) for page in pages}


def test_every_install_shown_takes_calmly_from_a_repository_at_a_commit_not_from_a_release() -> None:
    found = {page: commands for page, commands in _install_commands().items() if commands}
    assert "examples/github/validate-playbooks.yml" in found
    assert "README.md" in found
    for page, commands in found.items():
        for command in commands:
            # from a repository at a commit (with its extras, if any: calmly[compiled] @ git+...), or a variable
            assert re.search(r"calmly(\[[a-z,]+\])? @ git\+", command) or "CALMLY_FROM" in command, f"{page}: {command}"
            assert "==" not in command, f"{page}: {command}"
            assert "--upgrade calmly" not in command, f"{page}: {command}"


def test_the_workflow_installs_a_direct_reference_pinned_to_a_commit() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github" / "validate-playbooks.yml").read_text(encoding="utf-8"))
    source = workflow["env"]["CALMLY_FROM"]
    install = next(
        step["run"] for step in workflow["jobs"]["validate"]["steps"] if "pip install" in step.get("run", "")
    )
    requirement = Requirement(install.split('"')[1].replace("${CALMLY_FROM}", source))
    assert requirement.name == "calmly"
    assert requirement.url is not None
    assert requirement.url.startswith("git+https://github.com/YOUR-ORG/calmly@")
    assert requirement.url.endswith("@COMMIT-SHA")


def test_the_pre_commit_usage_pins_rev_to_a_commit_since_there_are_no_release_tags() -> None:
    usage = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    (rev,) = re.findall(r"^#\s+rev: (\S+)", usage, flags=re.MULTILINE)
    assert rev == "COMMIT-SHA"
    assert "v0.1.0" not in usage


def test_example_workflow_writes_the_diff_of_changed_playbooks_to_the_job_summary() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github" / "validate-playbooks.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["diff"]
    (script,) = [step["run"] for step in job["steps"] if "calmly diff" in step.get("run", "")]
    assert 'calmly diff --from "$BASE" $changed --replay "$source" --format markdown >> "$GITHUB_STEP_SUMMARY"' in (
        script
    )
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    # The command it runs works here: the shipped playbook against itself at HEAD, over the example timelines.
    result = _run(f"calmly diff --from HEAD playbooks/customer-complaint.yaml --replay {job['env']['TIMELINES']}")
    assert result.returncode == 0, result.stderr
    assert re.search(r"determinism failures +0\n", result.stdout), result.stdout
