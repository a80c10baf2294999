"""What operators copy from examples/: the config file every option is explained in, and the systemd unit."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.daemon import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "config.yaml"
UNIT = ROOT / "examples" / "calmly.service"
SCHEMA = json.loads((ROOT / "schemas" / "config.schema.json").read_text(encoding="utf-8"))


def test_the_example_config_validates_against_the_config_schema() -> None:
    document = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_the_example_config_sets_and_explains_every_option_of_the_schema() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    document = yaml.safe_load(text)

    assert set(document) == set(SCHEMA["properties"])
    lines = text.splitlines()
    for key in SCHEMA["properties"]:
        (number,) = [index for index, line in enumerate(lines) if line.startswith(f"{key}:")]
        assert lines[number - 1].startswith("#"), f"{key} has no comment above it"


def test_the_example_config_loads_as_calmly_serve_would_read_it() -> None:
    config = load_config(CONFIG, {}, {})

    assert config.data == Path("/var/lib/calmly")
    assert config.log_format == "json"
    assert config.intake_secrets == ()  # secrets belong in the environment
    assert config.admin_roles == ("social_lead",)


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_systemd_unit_runs_calmly_serve_with_the_config_as_a_dedicated_user() -> None:
    service = unit()["Service"]

    assert service["ExecStart"].endswith("calmly serve --config /etc/calmly/config.yaml")
    assert service["User"] == "calmly"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"


def test_the_systemd_unit_is_hardened_and_may_write_only_the_data_folder() -> None:
    service = unit()["Service"]

    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/calmly"
    assert service["CapabilityBoundingSet"] == ""
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    installed = Path(sys.executable).with_name("calmly")  # verify checks that ExecStart's program exists
    copy = tmp_path / "calmly.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace("/usr/local/bin/calmly", str(installed)))

    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )

    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "calmly.service" in line]
    assert done.returncode == 0, done.stderr
    assert complaints == []
