"""NUL characters anywhere in a body are refused; an event in the log that holds one still
projects (escaped at the read side); a read model that cannot apply an event says so."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.identity import job_uuid
from domain.job import Job
from interfaces.app import create_app
from interfaces.database import create_database, drop_database
from interfaces.runtime import Runtime
from projections.runner import rebuild
from tests.conftest import Api, job_body
from tests.interfaces.contract import assert_error, create_job, job_detail, listed_ids

NUL = "\x00"


@pytest.mark.parametrize("body", [
    pytest.param(job_body(action={"type": "publish", "topic": "t/x", "payload_template": f'{{"a": "{NUL}"}}'}),
                 id="payload-template"),
    pytest.param(job_body(action={"type": "system", "operation": "health_check", "parameters": {f"k{NUL}": 1}}),
                 id="system-parameter-key"),
    pytest.param(job_body(action={"type": "system", "operation": "health_check", "parameters": {"k": f"v{NUL}"}}),
                 id="system-parameter-value"),
    pytest.param(job_body(options={"misfire_policy": f"skip{NUL}"}), id="option"),
    pytest.param(job_body(schedule={"interval_seconds": 10, f"x{NUL}": 1}), id="schedule-key"),
])
def test_a_nul_anywhere_in_a_create_is_refused_and_records_nothing(api, event_log, body):
    head = event_log.head()
    error = assert_error(api.post("/jobs", body), 400, "VALIDATION_ERROR")
    assert error["details"] == {"field": "body", "reason": "NUL character"}
    assert event_log.head() == head
    assert listed_ids(api) == []


def test_a_nul_in_an_update_a_toggle_reason_or_run_parameters_is_refused(api, event_log):
    job_id = create_job(api)
    head = event_log.head()
    assert_error(api.put(f"/jobs/{job_id}", {"action": {"payload_template": f"x{NUL}"}}), 400, "VALIDATION_ERROR")
    assert_error(api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": f"maintenance{NUL}"}),
                 400, "VALIDATION_ERROR")
    assert_error(api.post(f"/jobs/{job_id}/run", {"parameters": {"a": [f"{NUL}"]}}), 400, "VALIDATION_ERROR")
    assert event_log.head() == head
    assert job_detail(api, job_id)["enabled"] is True


def test_an_escaped_backslash_before_u0000_is_text_not_nul(api):
    job_id = create_job(api, action={"type": "publish", "topic": "t/x", "payload_template": "\\u0000"})
    assert job_detail(api, job_id)["configuration"]["action"]["payload_template"] == "\\u0000"


@pytest.fixture
def private_database(server_url: str) -> Iterator[str]:
    """A database of this test's own: it records events no other test may meet on a rebuild."""
    url = create_database(server_url, "gs_stuck")
    yield url
    drop_database(server_url, url)


def _old_job_created(gateway_id: str, job_id: str, *, aggregate_id: Any = None, payload: str = "{}") -> Job:
    """A Job.Created as an older version could record it, past today's edge checks."""
    now = datetime.now(UTC)
    return Job._create(
        Job.Created, id=aggregate_id or job_uuid(gateway_id, job_id), timestamp=now, gateway_id=gateway_id,
        job_id=job_id, name="Old", description="", schedule_type="interval",
        schedule={"interval_seconds": 60, "jitter_percentage": 0}, schedule_anchor=now,
        action={"type": "publish", "topic": "t/old", "payload_template": payload, "qos": 0, "retain": False},
        tags=[], options={}, enabled=True, actor="older-version", next_execution=None,
    )


def _save(runtime: Runtime, *aggregates: Any) -> tuple[tuple[str, int], ...]:
    return tuple((r.notification.topic, r.notification.id) for r in runtime.app.save(*aggregates))


def _readyz_until_stuck(client: TestClient, deadline: float) -> Any:
    while True:
        response = client.get("/readyz")
        if response.status_code == 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_old_nul_events_project_escaped_and_a_stuck_projection_is_visible(settings, private_database, caplog):
    own = replace(settings, database_url=private_database)
    gateway = f"gw-{uuid.uuid4().hex[:10]}"
    runtime = Runtime(own).start()
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            api = Api(client, gateway)
            assert runtime.wait(_save(runtime, _old_job_created(gateway, "job_nul", payload=f'{{"a": "x{NUL}y"}}')))
            assert job_detail(api, "job_nul")["configuration"]["action"]["payload_template"] == '{"a": "x\\u0000y"}'
    finally:
        runtime.close()

    replay = Runtime(own).start(follow=False)  # `projections rebuild` replays the NUL event too
    try:
        job_list = next(t for t in replay.projections if t.projection.name == "job_list")
        assert rebuild(replay.app, job_list.projection) >= 1
        row = replay.reads.one("SELECT action FROM jobs WHERE job_id = 'job_nul'")
        assert row["action"]["payload_template"] == '{"a": "x\\u0000y"}'
    finally:
        replay.close()

    runtime = Runtime(own).start()
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            api = Api(client, gateway)
            # an event the job list cannot apply: a second aggregate claiming job_nul's (gateway, id)
            stuck = _save(runtime, _old_job_created(gateway, "job_nul", aggregate_id=uuid.uuid4()))
            ready = _readyz_until_stuck(client, time.monotonic() + 10)
            assert ready.status_code == 503, ready.text
            (failure,) = ready.json()["error"]["details"]["projections"]
            assert failure["projection"] == "job_list"
            assert failure["notification_id"] == stuck[0][1]
            assert "UniqueViolation" in failure["error"] or "IntegrityError" in failure["error"]
            assert any("projection job_list cannot apply event" in r.getMessage() and r.levelname == "ERROR"
                       for r in caplog.records)
            metrics = client.get("/metrics").text
            assert 'gateway_scheduler_projection_failing{projection="job_list"} 1.0' in metrics
            assert 'gateway_scheduler_projection_failing{projection="gateways"} 0.0' in metrics
            started = time.monotonic()
            response = api.post("/jobs", job_body())
            assert response.status_code == 201
            assert time.monotonic() - started < 2.5, "a command waited for a read model that cannot advance"
    finally:
        runtime.close()
