"""Problem codes are a contract: unique, documented, and each one reachable by a test elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from engine.playbook import Severity, all_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def test_codes_and_names_are_unique() -> None:
    rules = all_rules()
    assert len({rule.code for rule in rules}) == len(rules)
    assert len({rule.name for rule in rules}) == len(rules)


def test_code_letter_matches_severity() -> None:
    for rule in all_rules():
        assert rule.code[0] == ("E" if rule.severity is Severity.ERROR else "W"), rule


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^## ([EW]\d{3})$", text, flags=re.MULTILINE))
    assert documented == {rule.code for rule in all_rules()}
