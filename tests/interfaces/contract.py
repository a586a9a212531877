"""Checks of the contract's wire shapes: the success and error envelopes, UTC instants, job reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Api, job_body

INSTANT_KEYS = frozenset(
    {"created_at", "updated_at", "last_execution", "next_execution", "next_scheduled", "last_seen", "last_used",
     "next_executions", "start_time", "end_time", "timestamp"}
)


def ok_data(response: Any, status: int, message: str) -> Any:
    """The `data` of a success envelope, after checking its status, keys and message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data", "success", "message"}, body
    assert body["success"] is True
    assert body["message"] == message
    return body["data"]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error envelope of DESIGN.md with the given status and code; returns `error`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "message", "error"}, body
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    assert set(body["error"]) == {"code", "details"}, body
    assert body["error"]["code"] == code, body
    return body["error"]


def assert_utc_instant(value: Any) -> datetime:
    assert isinstance(value, str) and value.endswith("Z"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def _instants(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key in INSTANT_KEYS:
                for item in value if isinstance(value, list) else [value]:
                    yield here, item
            else:
                yield from _instants(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _instants(item, f"{path}[{i}]")


def assert_instants_are_utc(payload: Any, at_least: int) -> None:
    """Every instant field in `payload` is null or a UTC ISO-8601 string ending in Z, and
    at least `at_least` of them are set (so the check cannot pass on an empty payload)."""
    found = [(path, value) for path, value in _instants(payload) if value is not None]
    for path, value in found:
        assert isinstance(value, str) and value.endswith("Z"), (path, value)
        assert_utc_instant(value)
    assert len(found) >= at_least, found


def create_job(api: Api, **overrides: Any) -> str:
    response = api.post("/jobs", job_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]["job_id"]


def listed_ids(api: Api, **params: Any) -> list[str]:
    response = api.get("/jobs", params=params)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["data"]["jobs"]]


def job_detail(api: Api, job_id: str) -> dict[str, Any]:
    response = api.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]["job"]


def stored_state(api: Api, job_id: str) -> dict[str, Any]:
    """A job's detail without the fire preview, which moves with the clock."""
    return {k: v for k, v in job_detail(api, job_id).items() if k != "next_executions"}
