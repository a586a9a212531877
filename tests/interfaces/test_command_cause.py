"""A command through the API records its cause on every event: the token's subject and the
request id the API answered with (X-Request-ID)."""

from __future__ import annotations

from typing import Any

from domain.identity import gateway_uuid, job_uuid
from tests.conftest import Api, job_body


def test_the_events_of_a_request_carry_its_actor_and_request_id(api: Api, runtime: Any):
    created = api.post("/jobs", job_body())
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["job_id"]
    toggled = api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "pause"})
    assert toggled.status_code == 200, toggled.text
    first, second = created.headers["x-request-id"], toggled.headers["x-request-id"]
    assert first != second
    job_events = [(type(e).__qualname__, e.actor, e.request_id) for e in runtime.app.events.get(job_uuid(api.gateway_id, job_id))]
    assert job_events == [("Job.Created", "tester", first), ("Job.Toggled", "tester", second)]
    gateway_events = [(type(e).__qualname__, e.actor, e.request_id) for e in runtime.app.events.get(gateway_uuid(api.gateway_id))]
    assert gateway_events == [("Gateway.Created", "tester", first), ("Gateway.JobAdded", "tester", first)]
