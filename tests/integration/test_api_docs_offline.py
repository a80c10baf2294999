"""/docs and /redoc work on a daemon with no way out to the internet: every file they load is served by calmly."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.daemon import Config, build

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LOADS = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    config = Config(data=tmp_path / "data", playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    daemon = build(config, START, resolve=lambda host: None)
    client = TestClient(create_app(daemon.context))
    yield client
    client.close()
    daemon.store.close()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_pages_name_no_other_host_and_every_file_they_load_is_served(http: TestClient, page: str) -> None:
    answer = http.get(page)
    assert answer.status_code == 200
    html = answer.text
    assert not re.search(r"https?://", html), html
    loaded = LOADS.findall(html)
    assert any(url.endswith(".js") for url in loaded)
    for url in loaded:
        assert url.startswith("/"), url
        asset = http.get(url)
        assert asset.status_code == 200, url
        assert asset.content


def test_swagger_ui_is_told_not_to_send_the_document_to_an_online_validator(http: TestClient) -> None:
    assert '"validatorUrl": null' in http.get("/docs").text
