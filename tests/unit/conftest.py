"""Fixtures shared by the unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from engine.playbook import _yaml


@pytest.fixture(params=_yaml.PARSERS, ids=lambda parser: "libyaml" if parser.__name__.startswith("C") else "python")
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test that uses it runs once per YAML parser: with libyaml and with PyYAML's own, which must agree."""
    monkeypatch.setattr(_yaml, "_Parser", request.param)
    return request.param
