"""The desk's Reports page (``GET /reports``): the figures and charts of ``calmly report`` for a period, from the
daemon's own store, for anyone signed in; a period or grouping it cannot read told on the page, over the daemon's
app and a real store on a simulated clock."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app
from engine.service import issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    config = Config(data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    built = build(config, START)
    (spam,) = built.service.ingest([mention("spam-1", "Win free followers now")])
    result = built.service.act(
        str(spam.incident_id),
        "do_not_engage",
        person="bob",
        roles=frozenset({"social_lead"}),
        fields={"reason": "spam"},
        version=0,
    )
    assert result.refused is None, result.refused
    yield built
    built.store.close()


def _signed_in(daemon: Daemon, person: str = "alice") -> TestClient:
    client = TestClient(create_web_app(daemon.context), follow_redirects=False)
    answer = client.post("/signin", data={"token": issue_token(daemon.store, person, START)})
    assert answer.status_code == 303, answer.text
    return client


def test_the_reports_page_shows_the_figures_and_charts_of_the_period(daemon: Daemon) -> None:
    answer = _signed_in(daemon).get("/reports", params={"since": "2026-11-01", "until": "2026-11-30"})
    assert answer.status_code == 200
    page = answer.text
    assert "Reports" in page
    assert "1 incident (1 closed)" in page
    assert "Do-not-engage reasons" in page
    assert "<td>spam</td>" in page
    assert page.count('src="data:image/png;base64,') == 3


def test_the_reports_page_groups_by_what_the_form_asks(daemon: Daemon) -> None:
    page = _signed_in(daemon).get("/reports", params={"by": "channel"}).text
    assert "channel twitter" in page
    assert '<option value="channel" selected>' in page


def test_without_a_period_the_page_shows_the_last_30_days_and_says_so_in_its_form(daemon: Daemon) -> None:
    page = _signed_in(daemon).get("/reports").text
    assert 'value="2026-10-24"' in page  # 30 days before the daemon's clock
    assert "1 incident (1 closed)" in page


def test_the_queue_links_to_the_reports(daemon: Daemon) -> None:
    assert 'href="/reports"' in _signed_in(daemon).get("/").text


@pytest.mark.parametrize(
    ("params", "told"),
    [
        ({"by": "colour"}, "Group by one of playbook, severity, channel, week, role, not &#39;colour&#39;"),
        ({"since": "2026-12-01", "until": "2026-11-01"}, "before it starts"),
        ({"since": "last week"}, "not a date or a moment"),
    ],
)
def test_a_period_or_grouping_it_cannot_read_is_told_beside_the_form(
    daemon: Daemon, params: dict[str, str], told: str
) -> None:
    answer = _signed_in(daemon).get("/reports", params=params)
    assert answer.status_code == 400
    assert told in answer.text
    assert 'name="since"' in answer.text


def test_the_reports_page_is_for_people_signed_in(daemon: Daemon) -> None:
    client = TestClient(create_web_app(daemon.context), follow_redirects=False)
    answer = client.get("/reports")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin"
