"""Execution history, logs, metrics and status routes through the real app and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import job_body
from tests.projections.execution_events import (
    BASE, failed, log, missed, save, started, succeeded, timed_out,
)

Z = "%Y-%m-%dT%H:%M:%S"


def iso(at: Any) -> str:
    return at.strftime(Z) + "Z"


@pytest.fixture
def job_id(api: Any) -> str:
    r = api.post("/jobs", job_body(options={"timeout_seconds": 60}))
    assert r.status_code == 201, r.text
    return r.json()["data"]["job_id"]


def test_execution_status_of_a_successful_run_is_completed(api, runtime, job_id):
    execution = succeeded(api.gateway_id, job_id, BASE, 120, message="Modbus data collected successfully")
    save(runtime, execution)
    r = api.as_role("viewer").get(f"/executions/{execution.execution_id}")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "data": {"execution": {
            "id": execution.execution_id, "job_id": job_id, "job_name": "Modbus Poll", "status": "completed",
            "trigger": "scheduled", "start_time": "2025-03-12T15:10:30Z", "end_time": "2025-03-12T15:10:30.120000Z",
            "duration_ms": 120, "result": {"status": "success", "message": "Modbus data collected successfully"},
        }},
        "success": True, "message": "Execution status retrieved successfully",
    }


def test_execution_of_another_gateway_is_not_found(api, runtime, job_id):
    execution = failed(api.gateway_id, job_id, BASE, 40)
    save(runtime, execution)
    assert api.get(f"/executions/{execution.execution_id}").json()["data"]["execution"]["status"] == "failed"
    r = api.__class__(api.http, "gw-elsewhere").get(f"/executions/{execution.execution_id}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "EXECUTION_NOT_FOUND" and r.json()["success"] is False


def test_history_lists_newest_first_with_totals(api, runtime, job_id):
    runs = [
        succeeded(api.gateway_id, job_id, BASE, 100, message="ok"),
        failed(api.gateway_id, job_id, BASE + timedelta(minutes=1), 30, error="Connection refused"),
        timed_out(api.gateway_id, job_id, BASE + timedelta(minutes=2), 60_000),
        missed(api.gateway_id, job_id, BASE + timedelta(minutes=3), reason="gateway was offline"),
        started(api.gateway_id, job_id, BASE + timedelta(minutes=4), trigger="manual"),
    ]
    save(runtime, *runs)
    data = api.get(f"/jobs/{job_id}/history").json()["data"]
    assert (data["job_id"], data["job_name"]) == (job_id, "Modbus Poll")
    assert (data["total_executions"], data["success_rate"]) == (5, 33.3)
    assert [h["status"] for h in data["history"]] == ["running", "missed", "timeout", "failed", "success"]
    assert data["history"][0] == {
        "execution_id": runs[4].execution_id, "timestamp": "2025-03-12T15:14:30Z", "trigger": "manual",
        "duration_ms": None, "status": "running", "message": "",
    }
    assert data["history"][3]["message"] == "Connection refused" and data["history"][4]["duration_ms"] == 100


@pytest.mark.parametrize(
    ("query", "statuses", "total"),
    [
        ({"status": "timeout"}, ["timeout"], 1),
        ({"status": "running"}, ["running"], 1),
        ({"limit": 2, "offset": 1}, ["missed", "timeout"], 5),
        ({"start_date": "2025-03-12T15:11:30Z", "end_date": "2025-03-12T15:12:30Z"}, ["timeout", "failed"], 2),
        ({"start_date": "2025-03-13"}, [], 0),
        ({"end_date": "2025-03-12"}, ["running", "missed", "timeout", "failed", "success"], 5),
        ({"end_date": "2025-03-11"}, [], 0),
    ],
)
def test_history_filters(api, runtime, job_id, query, statuses, total):
    gw = api.gateway_id
    save(runtime, succeeded(gw, job_id, BASE, 100), failed(gw, job_id, BASE + timedelta(minutes=1), 30),
         timed_out(gw, job_id, BASE + timedelta(minutes=2), 60_000), missed(gw, job_id, BASE + timedelta(minutes=3)),
         started(gw, job_id, BASE + timedelta(minutes=4)))
    data = api.get(f"/jobs/{job_id}/history", params=query).json()["data"]
    assert [h["status"] for h in data["history"]] == statuses
    assert data["total_executions"] == total


def test_history_of_unknown_or_foreign_job_is_not_found(api, job_id):
    assert api.get("/jobs/job_nope/history").json()["error"]["code"] == "JOB_NOT_FOUND"
    other = api.__class__(api.http, "gw-elsewhere")
    for path in ("history", "logs", "metrics"):
        r = other.get(f"/jobs/{job_id}/{path}")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "JOB_NOT_FOUND")


def test_logs_by_execution_read_in_order_and_filter_by_level(api, runtime, job_id):
    t = BASE
    first = succeeded(api.gateway_id, job_id, t, 500, logs=[
        log(t, "info", "Starting Modbus poll"), log(t + timedelta(milliseconds=333), "debug", "Connected"),
        log(t + timedelta(milliseconds=400), "warning", "Slow device"),
    ])
    second = failed(api.gateway_id, job_id, t + timedelta(minutes=1), 10, error="Device unreachable")
    save(runtime, first, second)
    logs = api.get(f"/jobs/{job_id}/logs", params={"execution_id": first.execution_id}).json()["data"]["logs"]
    assert logs == [
        {"timestamp": at, "level": level, "message": message, "execution_id": first.execution_id}
        for at, level, message in [
            ("2025-03-12T15:10:30Z", "info", "Starting Modbus poll"),
            ("2025-03-12T15:10:30.333000Z", "debug", "Connected"),
            ("2025-03-12T15:10:30.400000Z", "warning", "Slow device"),
        ]
    ]
    data = api.get(f"/jobs/{job_id}/logs").json()["data"]
    assert (data["job_id"], data["job_name"]) == (job_id, "Modbus Poll")
    newest_first = ["Device unreachable", "Slow device", "Connected", "Starting Modbus poll"]
    assert [entry["message"] for entry in data["logs"]] == newest_first
    errors = api.get(f"/jobs/{job_id}/logs", params={"level": "error"}).json()["data"]["logs"]
    assert [(e["execution_id"], e["level"]) for e in errors] == [(second.execution_id, "error")]
    page = api.get(f"/jobs/{job_id}/logs", params={"limit": 1, "offset": 1}).json()["data"]["logs"]
    assert [entry["message"] for entry in page] == ["Slow device"]


def test_metrics_summarise_finished_executions_per_period(api, runtime, job_id):
    next_day = BASE + timedelta(days=1)
    save(runtime,
         succeeded(api.gateway_id, job_id, BASE, 100, resources={"cpu_percent": 10, "memory_mb": 20.0}),
         succeeded(api.gateway_id, job_id, BASE + timedelta(minutes=5), 200, resources={"cpu_percent": 20.0}),
         failed(api.gateway_id, job_id, next_day, 300),
         missed(api.gateway_id, job_id, next_day), started(api.gateway_id, job_id, next_day))
    r = api.get(f"/jobs/{job_id}/metrics")
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Job metrics retrieved successfully"
    metrics = r.json()["data"]["metrics"]
    assert metrics["execution_times"] == {"average_ms": 200, "min_ms": 100, "max_ms": 300, "p95_ms": 290}
    assert metrics["success_rate"] == 66.7
    assert metrics["resource_usage"] == {"average_cpu_percent": 10.0, "average_memory_mb": 6.7}
    assert metrics["series"] == [
        {"period_start": "2025-03-12T00:00:00Z", "executions": 2, "success_rate": 100.0, "average_ms": 150},
        {"period_start": "2025-03-13T00:00:00Z", "executions": 1, "success_rate": 0.0, "average_ms": 300},
    ]
    query = {"granularity": "hourly", "end_date": "2025-03-12"}
    hourly = api.get(f"/jobs/{job_id}/metrics", params=query).json()["data"]
    assert [(b["period_start"], b["executions"]) for b in hourly["metrics"]["series"]] == [("2025-03-12T15:00:00Z", 2)]
    assert hourly["metrics"]["success_rate"] == 100.0
    weekly = api.get(f"/jobs/{job_id}/metrics", params={"granularity": "weekly"}).json()["data"]["metrics"]["series"]
    assert [(b["period_start"], b["executions"]) for b in weekly] == [("2025-03-10T00:00:00Z", 3)]


def test_metrics_of_a_job_that_never_ran_are_zero(api, job_id):
    metrics = api.get(f"/jobs/{job_id}/metrics").json()["data"]["metrics"]
    assert metrics["execution_times"] == {"average_ms": 0, "min_ms": 0, "max_ms": 0, "p95_ms": 0}
    assert metrics["series"] == []
    assert metrics["resource_usage"] == {"average_cpu_percent": 0.0, "average_memory_mb": 0.0}


def test_job_statistics_count_finished_executions(api, runtime, job_id):
    gw = api.gateway_id
    save(runtime, succeeded(gw, job_id, BASE, 100), timed_out(gw, job_id, BASE + timedelta(minutes=1), 300),
         missed(gw, job_id, BASE + timedelta(minutes=2)))
    job = api.get(f"/jobs/{job_id}").json()["data"]["job"]
    assert job["statistics"] == {
        "total_executions": 2, "successful_executions": 1, "failed_executions": 1, "average_duration_ms": 200,
        "last_execution": "2025-03-12T15:11:30Z", "last_status": "timeout",
    }
    assert job["status"] == "error"
