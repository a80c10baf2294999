"""The fair baseline for ``calmly validate``: what a playbook author would run instead, in one process.

Each file read with PyYAML's C loader (``yaml.CSafeLoader``, the fastest safe reader there is) and checked against
the playbook schema with jsonschema; exit 1 if any file does not parse or breaks the schema. check-jsonschema does
the same work but reads YAML in pure Python, which makes it a slower, flattering yardstick.

Usage: ``python bench/schema_check.py SCHEMA FILE...``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

__all__ = ["main"]


def main(argv: Sequence[str]) -> int:
    schema, *files = argv
    validator = Draft202012Validator(json.loads(Path(schema).read_text(encoding="utf-8")))
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    failed = 0
    for name in files:
        with open(name, "rb") as handle:
            errors = list(validator.iter_errors(yaml.load(handle, Loader=loader)))
        for error in errors:
            print(f"{name}: {error.message}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
