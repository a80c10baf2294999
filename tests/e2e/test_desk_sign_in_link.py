"""``calmly token issue PERSON --link``: a one-time link to the desk, printed for the social lead to send, that
signs the person in without their copying a token; then the desk as their browser opens it."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import StarletteDeprecationWarning

from engine.daemon import Config, build
from engine.desk import create_web_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
ROSTER = ROOT / "examples" / "roster.yaml"


def calmly(*args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CALMLY_")}
    done = subprocess.run(
        [str(CALMLY), *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def test_prints_a_one_time_link_to_the_desk_that_signs_the_person_in(tmp_path: Path) -> None:
    issued = calmly(
        "token", "issue", "alice", "--link", "--url", "http://desk.example:8642/", "--data", str(tmp_path),
        "--roster", str(ROSTER),
    )  # fmt: skip

    assert issued.returncode == 0, issued.stderr
    link = urlsplit(issued.stdout.strip())
    assert (link.scheme, link.netloc, link.path) == ("http", "desk.example:8642", "/signin/link")
    assert "works once, within 15 minutes" in issued.stderr
    [code] = parse_qs(link.query)["code"]
    # The daemon the link points at, over the same data folder, on a clock that reads now.
    daemon = build(Config(data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROSTER), datetime.now(UTC))
    try:
        browser = TestClient(create_web_app(daemon.context), follow_redirects=False)
        assert browser.get(f"/signin/link?{link.query}").status_code == 200
        signed_in = browser.post("/signin/link", data={"code": code})
        assert signed_in.status_code == 303
        assert "Signed in as Alice Moreau" in browser.get("/").text
    finally:
        daemon.store.close()


def test_refuses_a_link_with_the_options_only_a_token_takes(tmp_path: Path) -> None:
    refused = calmly(
        "token", "issue", "alice", "--link", "--intake-only", "--data", str(tmp_path), "--roster", str(ROSTER)
    )

    assert refused.returncode == 2
    assert "leave out --intake-only, --expires and --label" in refused.stderr
    assert not (tmp_path / "calmly.sqlite3").exists()


def test_refuses_a_link_for_someone_not_in_the_roster(tmp_path: Path) -> None:
    refused = calmly("token", "issue", "mallory", "--link", "--data", str(tmp_path), "--roster", str(ROSTER))

    assert refused.returncode == 1
    assert "'mallory' is not in the roster" in refused.stderr
