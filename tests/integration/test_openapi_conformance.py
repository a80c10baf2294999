"""The API keeps to its own /openapi.json: schemathesis generates requests for every operation from the document
and checks that none gets a server error and every answer (status, content type, headers, body) is one the document
describes. A few examples per operation keep it to seconds; the document itself is checked for completeness too.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.daemon import Config, build
from engine.service import issue_token

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


class Api:
    def __init__(self, folder: Path) -> None:
        playbooks = folder / "playbooks"
        shutil.copytree(ROOT / "playbooks", playbooks)
        config = Config(data=folder / "data", playbooks=(playbooks,), roster=ROOT / "examples" / "roster.yaml")
        self.daemon = build(config, START)
        self.app = create_app(self.daemon.context)
        self.token = issue_token(self.daemon.store, "bob", START)  # social lead: may act, reload, move the clock


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    made = Api(tmp_path_factory.mktemp("openapi"))
    made.daemon.scheduler.start()  # /readyz is ready once it runs
    yield made
    made.daemon.scheduler.stop()
    made.daemon.store.close()


@pytest.fixture(scope="module")
def api_schema(api: Api) -> Any:
    # The token goes through the document's own bearer scheme, as any client reading securitySchemes would send it.
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": api.token}}}})
    return schemathesis.openapi.from_asgi("/openapi.json", api.app, config=config)


#: Every operation, by schemathesis' label; a test below checks this list is the document's whole list.
OPERATIONS = [
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /v1/mentions",
    "GET /v1/incidents",
    "GET /v1/incidents/{incident_id}",
    "POST /v1/incidents/{incident_id}/actions/{trigger}",
    "POST /v1/incidents/{incident_id}/actions/{trigger}/draft",
    "POST /v1/incidents/{incident_id}/actions/{trigger}/approve",
    "POST /v1/incidents/{incident_id}/actions/{trigger}/return",
    "GET /v1/incidents/{incident_id}/replies/{trigger}",
    "POST /v1/incidents/{incident_id}/take",
    "POST /v1/incidents/{incident_id}/assign",
    "POST /v1/incidents/{incident_id}/release",
    "POST /v1/incidents/{incident_id}/notes",
    "POST /v1/admin/reload",
    "POST /v1/admin/clock",
]


def test_the_operations_fuzzed_are_every_operation_of_the_document(api_schema: Any) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}

    assert labels == set(OPERATIONS)


# Driven through hypothesis directly rather than schemathesis' pytest plugin (its fixture loader does not run under
# this pytest): the same strategies, the same checks.
@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_answers_as_its_document_says_and_never_with_a_server_error(
    api: Api, api_schema: Any, label: str
) -> None:
    operation = api_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    def holds(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    holds()


def test_the_document_describes_every_route_with_its_json_errors(api: Api) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
        from fastapi.testclient import TestClient  # noqa: PLC0415

    document = TestClient(api.app).get("/openapi.json").json()
    paths = document["paths"]

    assert set(paths) >= {
        "/v1/mentions",
        "/v1/incidents",
        "/v1/incidents/{incident_id}",
        "/v1/incidents/{incident_id}/actions/{trigger}",
        "/v1/admin/reload",
        "/metrics",
        "/healthz",
        "/readyz",
    }
    posted = paths["/v1/mentions"]["post"]
    assert posted["requestBody"]["content"]["application/json"]["schema"]
    assert {"200", "400", "401", "409", "413", "422", "429"} <= set(posted["responses"])
    acting = paths["/v1/incidents/{incident_id}/actions/{trigger}"]["post"]
    assert {"400", "401", "403", "404", "409", "413", "422", "429"} <= set(acting["responses"])
    error = acting["responses"]["404"]["content"]["application/json"]["schema"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    listing = paths["/v1/incidents"]["get"]
    assert {parameter["name"] for parameter in listing["parameters"]} >= {"state", "breached", "limit", "after"}


def test_the_document_declares_the_bearer_scheme_and_uses_it_where_a_token_is_needed(api: Api) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient  # noqa: PLC0415

    document = TestClient(api.app).get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = [] if path in ("/healthz", "/readyz", "/metrics") else [{"bearer": []}]
            assert operation["security"] == expected, (method, path)
    assert "Standard Webhooks" in document["paths"]["/v1/mentions"]["post"]["description"]


def test_with_intake_secrets_the_document_asks_intake_for_a_signature(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient  # noqa: PLC0415

    config = Config(
        data=tmp_path / "data",
        playbooks=(ROOT / "playbooks",),
        roster=ROOT / "examples" / "roster.yaml",
        intake_secrets=("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",),
    )
    daemon = build(config, START)
    try:
        document = TestClient(create_app(daemon.context)).get("/openapi.json").json()
    finally:
        daemon.store.close()

    assert document["components"]["securitySchemes"]["signed"]["name"] == "webhook-signature"
    assert document["paths"]["/v1/mentions"]["post"]["security"] == [{"signed": []}]
    assert document["paths"]["/v1/incidents"]["get"]["security"] == [{"bearer": []}]
