"""`calmly check` as CI and operators run it: config, roster and playbooks together, with exit codes and JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
ROSTER = (ROOT / "examples" / "roster.yaml").read_text(encoding="utf-8")


def calmly(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CALMLY_", "SLACK_"))}
    environment.update(env or {})
    run = [str(CALMLY), *args]
    return subprocess.run(run, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_the_shipped_playbooks_and_example_roster_pass() -> None:
    result = calmly("check", "--playbooks", "playbooks", "--roster", "examples/roster.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "set-up ok: examples/roster.yaml and playbooks\n"


def test_a_role_nobody_holds_fails_the_check_located_in_the_playbook(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER.replace("roles: [customer_care]", "roles: [community_manager]"), encoding="utf-8")
    result = calmly("check", "--playbooks", "playbooks/customer-complaint.yaml", "--roster", str(roster))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    text = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8").splitlines()
    # The roles the playbook tells at once (notify_on) are checked as its escalations' are, at the rule's line.
    told = next(number for number, line in enumerate(text, 1) if "{event: reopened, notify: [customer_care" in line)
    assert re.match(rf"playbooks/customer-complaint\.yaml:{told}:\d+: E900 notify_on\[0\]\.notify\[0\]", lines[0])
    (needed,) = [line for line in lines if " E901 " in line]
    asking = next(number for number, line in enumerate(text, 1) if "trigger: ask_customer" in line)
    assert needed.startswith(f"playbooks/customer-complaint.yaml:{asking}:")  # the first action that needs it
    assert " E901 transitions[2].by[1] needs the role 'customer_care'" in needed
    assert "Traceback" not in result.stdout + result.stderr


def test_json_gives_each_finding_with_its_code_and_place(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        ROSTER + "roles:\n  social_lead:\n    notify: [{channel: slack, url_env: SLACK_LEADS_URL}]\n", encoding="utf-8"
    )
    args = ("check", "--format", "json", "--playbooks", "playbooks", "--roster", str(roster))
    relaxed, strict = calmly(*args), calmly(*args, "--strict")
    assert relaxed.returncode == 0, relaxed.stdout
    assert strict.returncode == 1
    report = json.loads(relaxed.stdout)
    assert report["valid"] is True
    assert report["summary"] == {"errors": 0, "warnings": 1}
    (finding,) = report["findings"]
    assert finding["code"] == "W900"
    assert finding["name"] == "secret-unset"
    assert (finding["file"], finding["line"]) == (roster.as_posix(), ROSTER.count("\n") + 3)
    assert "SLACK_LEADS_URL" in finding["message"]
    assert json.loads(strict.stdout)["valid"] is False
    with_secret = calmly(*args, "--strict", env={"SLACK_LEADS_URL": "https://hooks.slack.test/x"})
    assert with_secret.returncode == 0, with_secret.stdout


def test_an_smtp_server_that_cannot_be_found_is_said_in_words(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER + "smtp: {host: smtp.calmly.invalid, from: calmly@example.com}\n", encoding="utf-8")
    result = calmly("check", "--strict", "--playbooks", "playbooks", "--roster", str(roster))
    assert result.returncode == 1
    assert " W901 the SMTP server 'smtp.calmly.invalid' cannot be found: " in result.stdout
    assert "gaierror" not in result.stdout


def test_a_config_file_names_the_roster_and_playbooks_checked(tmp_path: Path) -> None:
    (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"roster: roster.yaml\nplaybooks: [{ROOT / 'playbooks'}]\n", encoding="utf-8")
    result = calmly("check", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_config_file_fails_with_its_located_problems(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("listen: 127.0.0.1:99999\n", encoding="utf-8")
    result = calmly("check", "--config", str(config))
    assert result.returncode == 1
    assert f"{config.as_posix()}:1:9: E208 listen is '127.0.0.1:99999'" in result.stdout


def test_missing_files_are_a_usage_error(tmp_path: Path) -> None:
    result = calmly("check", "--playbooks", "playbooks", "--roster", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    defaulted = subprocess.run(
        [str(CALMLY), "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert defaulted.returncode == 2
    assert "cannot find playbooks, roster.yaml" in defaulted.stderr
