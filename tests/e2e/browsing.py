"""What the desk's browser tests share: Debian's Chromium driven by Playwright (skipping, and saying how to enable
them, where either is missing), axe-core's check, and ``calmly serve`` with the example team on a simulated clock.

Not a test module (pytest collects ``test_*.py`` only); the browser test modules import it by name.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import START, ServedDaemon

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "the desk's browser tests need Debian's Chromium on PATH: apt-get install chromium (CI's .ci/run does)",
        allow_module_level=True,
    )
# ImportError, not only a missing module: a Playwright whose compiled parts do not load is as good as none here.
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the desk's browser tests need Playwright: .venv/bin/pip install -e '.[dev]'",
    exc_type=ImportError,
)
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="the desk's browser tests need axe-playwright-python: .venv/bin/pip install -e '.[dev]'",
    exc_type=ImportError,
)
expect = sync_api.expect
SCREENSHOTS = ROOT / "docs" / "images" if os.environ.get("CALMLY_DESK_SCREENSHOTS") == "1" else None
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

__all__ = ["ROOT", "SCREENSHOTS", "DeskDaemon", "chromium", "expect", "no_serious_violations"]


class DeskDaemon(ServedDaemon):
    """``calmly serve`` on a free loopback port, a temporary data folder and a simulated clock, with tokens for
    ``people`` of the example roster."""

    def __init__(self, folder: Path, people: tuple[str, ...]) -> None:
        super().__init__(folder, playbooks=ROOT / "playbooks", roster=ROOT / "examples" / "roster.yaml", people=people)

    def post(self, path: str, person: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}{path}", json=body, headers=self.auth(person), timeout=10)
        assert answer.status_code == 200, answer.text
        answered: dict[str, Any] = answer.json()
        return answered

    def mention(self, external_id: str, text: str, handle: str) -> str:
        """A mention on twitter, as a listening tool sends it: the incident it opened or joined."""
        post = {
            "channel": "twitter",
            "external_id": external_id,
            "text": text,
            "posted_at": START,
            "author": {"handle": handle, "followers": 120},
            "url": f"https://x.com/{handle.lstrip('@')}/status/{external_id}",
        }
        (result,) = self.post("/v1/mentions", "alice", {"mentions": [post]})["results"]
        incident: str = result["incident"]
        return incident


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, launched headless by Playwright (never a browser it downloads)."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def no_serious_violations(page: Any, name: str) -> None:
    """axe-core finds nothing serious or critical on the page."""
    results = axe_playwright.Axe().run(page)
    serious = [
        f"{item['id']} ({item['impact']}): {item['help']}"
        for item in results.response["violations"]
        if item.get("impact") in ("serious", "critical")
    ]
    assert not serious, f"the {name} page has accessibility problems:\n" + "\n".join(serious)
