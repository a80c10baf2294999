"""The example roster's own comment is true: its command works as written, and notifications go where it says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from engine.playbook import Failed
from engine.service import load_roster

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
ROSTER = ROOT / "examples" / "roster.yaml"
COMMENT = "\n".join(line for line in ROSTER.read_text(encoding="utf-8").splitlines() if line.startswith("#"))


def test_the_token_command_in_the_comment_works_from_the_top_of_the_repository(tmp_path: Path) -> None:
    (command,) = re.findall(r"`(calmly token issue [^`]+)`", COMMENT)
    args = shlex.split(command)[1:]
    run = [str(CALMLY), *args, "--data", str(tmp_path / "data")]
    result = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_every_notification_goes_to_the_log_as_the_comment_says() -> None:
    roster = load_roster(ROSTER)
    assert not isinstance(roster, Failed), roster
    assert "every notification goes to the daemon's log" in COMMENT
    roles = sorted({role for person in roster.people.values() for role in person.roles})
    assert {destination.channel for destination in roster.destinations(roles)} == {"log"}
