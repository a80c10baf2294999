"""A small client for the daemon's HTTP API, for the terminal commands (``calmly ingest``, ``calmly incidents``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.errors import ApiFailure
from engine.service import signature_headers

__all__ = ["ApiFailure", "Client"]


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 30.0, intake_secret: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._intake_secret = intake_secret  # when set, mentions are signed (Standard Webhooks), as the daemon asks
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiFailure(
                0, "unreachable", f"cannot reach calmly at {self.url} ({error}); is `calmly serve` running there?"
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        problem = body.get("error", {}) if isinstance(body, dict) else {}
        raise ApiFailure(
            response.status_code,
            str(problem.get("code", "http_error")),
            str(problem.get("message", f"HTTP {response.status_code}")),
            problem.get("details"),
        )

    def post_mentions(self, mentions: Sequence[Any]) -> list[dict[str, Any]]:
        body = json.dumps({"mentions": list(mentions)}, ensure_ascii=False).encode("utf-8")
        headers = {"content-type": "application/json"}
        if self._intake_secret:
            message_id = f"msg_{uuid.uuid4().hex}"
            headers.update(signature_headers(self._intake_secret, message_id, datetime.now(UTC), body))
        results: list[dict[str, Any]] = self._call("POST", "/v1/mentions", content=body, headers=headers)["results"]
        return results

    def incidents(self, query: Mapping[str, str]) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", "/v1/incidents", params=dict(query))
        return found

    def incident(self, incident_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/v1/incidents/{incident_id}")
        return found

    def act(self, incident_id: str, trigger: str, revision: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        body = {"revision": revision, "fields": dict(fields)}
        done: dict[str, Any] = self._call("POST", f"/v1/incidents/{incident_id}/actions/{trigger}", json=body)
        return done

    def draft(
        self, incident_id: str, trigger: str, step: str, revision: int, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Submit (``step`` draft), approve or return the draft reply of an action that needs approval."""
        body = {"revision": revision, **dict(fields)}
        path = f"/v1/incidents/{incident_id}/actions/{trigger}/{step}"
        done: dict[str, Any] = self._call("POST", path, json=body)
        return done

    def keep(self, incident_id: str, what: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Take, assign or release an incident, or note on it (``what``: take, assign, release, notes)."""
        done: dict[str, Any] = self._call("POST", f"/v1/incidents/{incident_id}/{what}", json=body)
        return done

    def close(self) -> None:
        self._http.close()
