"""The pre-commit hook and the example GitHub workflow run commands that exist and do what they say."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

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
