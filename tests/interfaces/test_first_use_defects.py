"""Answers a new user found wrong (issue 9): each test fails without its fix."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from litestar import Litestar, get
from litestar.exceptions import InternalServerException
from litestar.testing import TestClient

from domain.job import Job
from domain.identity import job_uuid
from interfaces.errors import handle_exception
from interfaces.logs import request_log_middleware
from tests.conftest import job_body, token
from tests.interfaces.contract import assert_error, create_job, job_detail, listed_ids, ok_data
from tests.projections.execution_events import BASE, failed, save, succeeded


def test_status_answers_once_executions_have_finished(api, runtime):
    job_id = create_job(api)
    save(runtime, succeeded(api.gateway_id, job_id, BASE, 120), failed(api.gateway_id, job_id, BASE, 40))
    status = ok_data(api.as_role("viewer").get("/status"), 200, "Scheduler status retrieved successfully")
    assert status["success_rate"] == 50.0
    assert status["last_execution"] is not None


@pytest.mark.parametrize("path", ["/jobs", "/jobs/job_x", "/status", "/schedules/validate"])
def test_options_answers_the_allowed_methods_without_a_token(http, path):
    response = http.options(f"/api/v1/scheduler{path}")
    assert response.status_code == 204, response.text
    assert "GET" in response.headers["allow"] or "POST" in response.headers["allow"]


def test_an_internal_error_from_the_framework_carries_the_request_id():
    @get("/boom")
    async def boom() -> None:
        raise InternalServerException("framework trouble")

    app = Litestar([boom], exception_handlers={Exception: handle_exception}, logging_config=None)
    app.asgi_handler = request_log_middleware(app.asgi_handler)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert body["error"]["details"]["request_id"] == response.headers["x-request-id"]


def test_head_needs_a_token_and_answers_as_get_without_a_body(api):
    job_id = create_job(api)
    anonymous = api.http.head(f"{api.prefix}/jobs/{job_id}", headers={"X-Gateway-ID": api.gateway_id})
    assert anonymous.status_code == 401
    response = api.http.head(f"{api.prefix}/jobs/{job_id}", headers=api.headers())
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Digest", ""])
def test_only_the_bearer_scheme_authenticates(api, scheme):
    headers = {"Authorization": f"{scheme} {token()}".strip(), "X-Gateway-ID": api.gateway_id}
    assert_error(api.http.get(f"{api.prefix}/jobs", headers=headers), 401, "UNAUTHORIZED")
    lower = {"Authorization": f"bearer {token()}", "X-Gateway-ID": api.gateway_id}
    assert api.http.get(f"{api.prefix}/jobs", headers=lower).status_code == 200


@pytest.mark.parametrize("job_id", ["r4\n", "r4\r\n", "job\n1"])
def test_a_job_id_with_a_line_break_is_refused(api, event_log, job_id):
    head = event_log.head()
    error = assert_error(api.post("/jobs", job_body(id=job_id)), 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "job_id"
    assert event_log.head() == head


EDGE_VALIDATIONS = [
    {"type": "interval", "interval_seconds": 60, "start": "9999-12-31T23:59:59-14:00"},
    {"type": "daily", "time": "01:00", "start_at": "9999-12-31T00:00:00Z"},
    {"type": "cron", "cron_expression": "0 9 * * *", "start_at": "9999-12-31T00:00:00Z"},
    {"type": "monthly", "day": 1, "time": "01:00", "start_at": "9999-12-31T00:00:00Z"},
    {"type": "once", "at": "0001-01-01T00:00:00+14:00"},
    {"type": "once", "at": "9999-12-31T23:59:59-14:00"},
    {"type": "interval", "interval_seconds": 31622400, "start_at": "9999-06-01T00:00:00Z"},
]


@pytest.mark.parametrize("body", EDGE_VALIDATIONS)
def test_instants_at_the_edge_of_the_calendar_are_validation_errors(api, body):
    assert_error(api.post("/schedules/validate", body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("schedule", [
    {"interval_seconds": 31622400, "start_at": "9999-06-01T00:00:00Z"},
    {"interval_seconds": 60, "end_at": "9999-12-31T23:59:59-14:00"},
])
def test_a_job_at_the_edge_of_the_calendar_is_refused_and_not_stored(api, event_log, schedule):
    head = event_log.head()
    assert_error(api.post("/jobs", job_body(schedule=schedule)), 400, "VALIDATION_ERROR")
    assert_error(api.post("/jobs", job_body(type="sunrise", schedule={
        "latitude": 52.5, "longitude": 13.4, "start_at": "9999-12-30T00:00:00Z"})), 400, "VALIDATION_ERROR")
    assert event_log.head() == head


def test_a_job_recorded_before_the_range_check_still_reads(api, runtime):
    """A log written by an older version may hold a job whose next instants leave the calendar:
    it loads, lists and answers its detail (no more instants), never a 500."""
    job_id = f"job_old{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    job = Job._create(  # the event as an older version recorded it, past today's checks
        Job.Created, id=job_uuid(api.gateway_id, job_id), timestamp=now, gateway_id=api.gateway_id, job_id=job_id,
        name="Far future", description="", schedule_type="interval",
        schedule={"interval_seconds": 31622400, "jitter_percentage": 0, "start_at": "9999-06-01T00:00:00Z"},
        schedule_anchor=now, action={"type": "system", "operation": "health_check", "parameters": {}},
        tags=[], options={}, enabled=True, actor="older-version", next_execution=datetime(9999, 6, 1, tzinfo=UTC),
    )
    recorded = tuple((r.notification.topic, r.notification.id) for r in runtime.app.save(job))
    assert runtime.wait(recorded)
    detail = job_detail(api, job_id)
    assert detail["next_executions"] == ["9999-06-01T00:00:00Z"]
    assert job_id in listed_ids(api)


def test_a_sunrise_schedule_takes_a_timezone(api):
    schedule = {"event": "sunset", "latitude": -36.85, "longitude": 174.76, "timezone": "Pacific/Auckland"}
    job_id = create_job(api, type="sunrise", schedule=schedule)
    detail = job_detail(api, job_id)
    assert detail["configuration"]["schedule"]["timezone"] == "Pacific/Auckland"
    assert len(detail["next_executions"]) == 10
    preview = ok_data(api.post("/schedules/validate", {"type": "sunrise", **schedule, "start": "2025-03-12T00:00:00Z"}),
                      200, "Schedule validation completed")
    assert "Pacific/Auckland" in preview["description"]
    assert_error(api.post("/jobs", job_body(type="sunrise", schedule={**schedule, "timezone": "Mars/Olympus"})),
                 400, "VALIDATION_ERROR")


def test_a_deleted_jobs_id_is_not_reused_and_the_refusal_says_why(api, event_log):
    job_id = f"r{uuid.uuid4().hex[:6]}"
    create_job(api, id=job_id)
    assert api.delete(f"/jobs/{job_id}").status_code == 200
    assert_error(api.get(f"/jobs/{job_id}"), 404, "JOB_NOT_FOUND")
    head = event_log.head()
    error = assert_error(api.post("/jobs", job_body(id=job_id)), 409, "VERSION_CONFLICT")
    assert error["details"] == {"job_id": job_id, "reason": "deleted"}
    assert event_log.head() == head
    live = create_job(api, id=f"{job_id}-live")
    assert assert_error(api.post("/jobs", job_body(id=live)), 409, "VERSION_CONFLICT")["details"]["reason"] == "taken"


def test_options_lists_every_method_of_a_path_two_controllers_share(http):
    allow = http.options("/api/v1/scheduler/jobs/job_x").headers["allow"]
    assert {m.strip() for m in allow.split(",")} == {"GET", "PUT", "DELETE", "OPTIONS"}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/jobs", job_body(enabled=0), "enabled"),
    ("/jobs", job_body(schedule={"interval_seconds": "10"}), "schedule.interval_seconds"),
    ("/jobs", job_body(id=""), "job_id"),
])
def test_a_body_of_the_wrong_types_is_refused_not_coerced(api, event_log, path, body, field):
    head = event_log.head()
    error = assert_error(api.post(path, body), 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == field
    assert event_log.head() == head


def test_a_toggle_with_a_number_for_enabled_is_refused(api, event_log):
    job_id = create_job(api)
    head = event_log.head()
    assert assert_error(api.post(f"/jobs/{job_id}/toggle", {"enabled": 0}), 400, "VALIDATION_ERROR")["details"][
        "field"] == "enabled"
    assert_error(api.post(f"/jobs/{job_id}/run", {"force": 1}), 400, "VALIDATION_ERROR")
    assert event_log.head() == head
    assert job_detail(api, job_id)["enabled"] is True
