"""The playbook schema is a good citizen for editors: valid 2020-12, strict, and self-explaining."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine.playbook import playbook_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "playbook.schema.json"


def _objects(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{where}/{index}")


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_engine_reads_the_same_schema_as_editors() -> None:
    assert playbook_schema() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_every_property_has_a_description_for_editor_hover() -> None:
    missing = [
        f"{where}/properties/{name}"
        for where, node in _objects(playbook_schema())
        for name, sub in (node.get("properties") or {}).items()
        # an if/then condition is logic, not a key an author writes
        if isinstance(node.get("properties"), dict) and "description" not in sub and "/if" not in where
    ]
    assert not missing, missing


def test_every_definition_and_map_value_has_a_description() -> None:
    schema = playbook_schema()
    undocumented = [name for name, sub in schema["$defs"].items() if "description" not in sub]
    undocumented += [
        where
        for where, node in _objects(schema)
        if isinstance(node.get("additionalProperties"), dict)
        and "description" not in node["additionalProperties"]
        and "$ref" not in node["additionalProperties"]
    ]
    assert not undocumented, undocumented


def test_every_object_rejects_unknown_keys() -> None:
    open_objects = [
        where
        for where, node in _objects(playbook_schema())
        if node.get("type") == "object" and "additionalProperties" not in node
    ]
    assert not open_objects, open_objects
