"""The daemon runs the set-up checks at start: each finding is logged and shown in /readyz, and none stops it."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import structlog
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.daemon import Config, build

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def says_no(host: str) -> str | None:
    return "no such host is known to DNS; check the spelling"


def test_readyz_shows_the_set_up_findings_and_the_daemon_is_ready_all_the_same(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    text = (ROOT / "examples" / "roster.yaml").read_text(encoding="utf-8")
    roster.write_text(
        text.replace("roles: [customer_care]", "roles: [community_manager]")
        + "smtp: {host: smtp.calmly.invalid, from: calmly@example.com}\n",
        encoding="utf-8",
    )
    config = Config(data=tmp_path / "data", playbooks=(ROOT / "playbooks",), roster=roster)

    with structlog.testing.capture_logs() as logged:
        daemon = build(config, START, resolve=says_no)
    http = TestClient(create_app(daemon.context))
    daemon.scheduler.start()
    try:
        ready = http.get("/readyz")
    finally:
        daemon.scheduler.stop()
        http.close()
        daemon.store.close()

    assert ready.status_code == 200
    checks = ready.json()["checks"]
    codes = {(check["code"], check["severity"]) for check in checks}
    assert ("E901", "error") in codes
    assert ("W901", "warning") in codes
    smtp = next(check for check in checks if check["code"] == "W901")
    assert smtp["file"] == roster.as_posix()
    assert smtp["line"] == text.count("\n") + 1
    assert "smtp.calmly.invalid" in smtp["message"]
    told = [line for line in logged if line["event"] == "set-up check"]
    assert {line["code"] for line in told} == {check["code"] for check in checks}
    assert all(line["log_level"] == "warning" for line in told)


def test_readyz_shows_no_findings_for_the_shipped_set_up(tmp_path: Path) -> None:
    config = Config(data=tmp_path / "data", playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    daemon = build(config, START, resolve=says_no)
    http = TestClient(create_app(daemon.context))
    daemon.scheduler.start()
    try:
        ready = http.get("/readyz")
    finally:
        daemon.scheduler.stop()
        http.close()
        daemon.store.close()
    assert ready.status_code == 200
    assert ready.json()["checks"] == []
