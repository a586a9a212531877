"""A command through the API records its cause on every event: the token's subject and the
request id the API answered with (X-Request-ID)."""

from __future__ import annotations

import time
from typing import Any

from domain.identity import gateway_uuid, job_uuid
from tests.conftest import Api, job_body
from tests.interfaces.test_job_runs import worker_api  # noqa: F401 - a real worker in a gateway of its own


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


def test_a_manual_run_carries_the_cause_of_the_request_that_asked_for_it(worker_api: Api, runtime: Any):  # noqa: F811
    from domain.execution import Execution

    body = job_body(schedule={"interval_seconds": 3600}, action={"type": "system", "operation": "health_check"})
    job_id = worker_api.post("/jobs", body).json()["data"]["job_id"]
    asked = worker_api.post(f"/jobs/{job_id}/run", {})
    assert asked.status_code == 200, asked.text
    execution_id = asked.json()["data"]["execution_id"]
    aggregate_id = Execution.id_for(worker_api.gateway_id, execution_id)
    deadline = time.monotonic() + 10
    while not list(runtime.app.events.get(aggregate_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = list(runtime.app.events.get(aggregate_id))[0]
    assert isinstance(started, Execution.Started)
    assert (started.actor, started.request_id) == ("tester", asked.headers["x-request-id"])
