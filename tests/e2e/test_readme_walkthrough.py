"""The README's walkthrough tells what really happens: its escalation table is the simulated story, line for line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from engine.playbook import parse_duration

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
TIMELINE = """\
start: 2026-11-23T09:00:00Z
events:
  - at: 0m
    mention:
      channel: instagram
      external_id: ig-1
      text: My daughter had an allergic reaction to your cereal bar and we ended up in A&E
      author: {handle: mum_of_two}
until: 8m
"""


def readme_escalations() -> list[tuple[int, list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| after | what happens | who is told |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\s*\| (\d[\dhms]*) \| [^|]+ \| ([^|]+) \|$", table, flags=re.MULTILINE)
    return [(int(parse_duration(after).total_seconds()), roles.strip().split(", ")) for after, roles in rows]


def test_the_walkthrough_lists_every_notification_of_the_first_minutes_in_order(tmp_path: Path) -> None:
    timeline = tmp_path / "walkthrough.yaml"
    timeline.write_text(TIMELINE, encoding="utf-8")
    run = [str(CALMLY), "simulate", "--format", "json", "playbooks/safety-and-legal.yaml", str(timeline)]
    result = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    told = [
        (line["offset_seconds"], line["details"]["roles"])
        for line in json.loads(result.stdout)["lines"]
        if line["details"].get("roles")
    ]
    assert told == readme_escalations()
