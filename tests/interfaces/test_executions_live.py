"""Statistics, the live monitor, resource usage and refused query values, through the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import job_body
from tests.projections.execution_events import failed, missed, save, started, succeeded


@pytest.fixture
def job_id(api: Any) -> str:
    r = api.post("/jobs", job_body(options={"timeout_seconds": 60, "max_attempts": 2}))
    assert r.status_code == 201, r.text
    return r.json()["data"]["job_id"]


def test_statistics_count_the_range_and_the_peak_of_overlapping_runs(api, runtime, job_id):
    now = datetime.now(UTC)
    t = now - timedelta(hours=1)
    gw = api.gateway_id
    save(runtime,
         started(gw, job_id, now - timedelta(minutes=90)),  # still running: part of the peak, not of the totals
         succeeded(gw, job_id, t, 10_000),
         succeeded(gw, job_id, t + timedelta(seconds=5), 10_000),
         failed(gw, job_id, t + timedelta(seconds=12), 8_000),
         succeeded(gw, job_id, t + timedelta(seconds=20), 5_000),  # starts as the previous one ends
         missed(gw, job_id, t + timedelta(seconds=6)),
         succeeded(gw, job_id, now - timedelta(days=2), 1_000))
    r = api.as_role("viewer").get("/statistics")
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Scheduler statistics retrieved successfully"
    assert r.json()["data"]["statistics"] == {
        "gateway_id": gw, "time_range": "24h", "total_jobs": 1, "active_jobs": 1, "total_executions": 4,
        "successful_executions": 3, "failed_executions": 1, "success_rate": 75.0,
        "average_execution_time_ms": 8250, "peak_concurrent_jobs": 3,
    }
    week = api.get("/statistics", params={"time_range": "7d", "gateway_id": gw}).json()["data"]["statistics"]
    assert (week["time_range"], week["total_executions"], week["successful_executions"]) == ("7d", 5, 4)


def test_statistics_of_an_idle_gateway_are_zero(api):
    stats = api.get("/statistics", params={"time_range": "90d"}).json()["data"]["statistics"]
    assert (stats["total_jobs"], stats["total_executions"], stats["peak_concurrent_jobs"]) == (0, 0, 0)
    assert stats["average_execution_time_ms"] == 0


@pytest.mark.parametrize("path", ["/statistics", "/resources/usage"])
def test_naming_another_gateway_is_forbidden(api, path):
    r = api.get(path, params={"gateway_id": "gw-elsewhere"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "FORBIDDEN")


def test_monitor_shows_running_and_retrying_executions_with_progress(api, runtime, job_id):
    now = datetime.now(UTC)
    gw = api.gateway_id
    running = started(gw, job_id, now - timedelta(seconds=30))
    retrying = started(gw, job_id, now - timedelta(seconds=120), max_attempts=2)
    assert retrying.fail(now=now - timedelta(seconds=60), duration_ms=60_000, code="ACTION_FAILED", error="x", logs=[])
    save(runtime, running, retrying, succeeded(gw, job_id, now - timedelta(seconds=200), 100))  # overlaps neither
    r = api.as_role("viewer").get("/monitor/active")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["total_active"], data["peak_today"]) == (2, 2)
    first, second = data["active_executions"]
    assert (first["execution_id"], first["status"], first["progress"]) == (retrying.execution_id, "retrying", 99)
    assert (second["execution_id"], second["job_id"]) == (running.execution_id, job_id)
    assert second["job_name"] == "Modbus Poll"
    assert second["status"] == "running" and 50 <= second["progress"] <= 55
    assert 30_000 <= second["duration_ms"] < 35_000 and first["duration_ms"] >= 120_000
    assert second["start_time"].endswith("Z")
    other = api.__class__(api.http, "gw-elsewhere").get("/monitor/active").json()["data"]
    assert (other["active_executions"], other["total_active"]) == ([], 0)


def test_resource_usage_reports_process_database_and_slots(api, runtime):
    for _ in range(2):
        r = api.as_role("viewer").get("/resources/usage", params={"gateway_id": api.gateway_id})
        assert r.status_code == 200, r.text
    assert r.json()["message"] == "Resource usage retrieved successfully"
    usage = r.json()["data"]["resource_usage"]
    assert set(usage) == {"gateway_id", "max_concurrent_jobs", "current_concurrent_jobs", "cpu_usage_percent",
                          "memory_usage_mb", "storage_usage_mb", "network_usage_kbps"}
    assert (usage["gateway_id"], usage["max_concurrent_jobs"]) == (api.gateway_id, runtime.settings.max_concurrent_jobs)
    assert usage["current_concurrent_jobs"] == 0
    assert usage["memory_usage_mb"] > 10 and usage["storage_usage_mb"] > 1
    assert usage["cpu_usage_percent"] >= 0 and usage["network_usage_kbps"] >= 0


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("history", {"limit": 0}), ("history", {"limit": 501}), ("history", {"limit": "abc"}),
        ("history", {"offset": -1}), ("history", {"status": "bogus"}), ("history", {"start_date": "yesterday"}),
        ("history", {"start_date": "2025-03-12T10:00:00"}), ("history", {"end_date": "2025-02-30"}),
        ("history", {"start_date": "2025-03-13", "end_date": "2025-03-12"}),
        ("logs", {"level": "trace"}), ("logs", {"limit": 1001}), ("logs", {"limit": 0}),
        ("metrics", {"granularity": "monthly"}), ("metrics", {"start_date": "12/03/2025"}),
        ("metrics", {"end_date": "9999-12-31"}),
    ],
)
def test_bad_query_values_are_validation_errors(api, job_id, path, query):
    r = api.get(f"/jobs/{job_id}/{path}", params=query)
    assert r.status_code == 400, r.text
    assert (r.json()["success"], r.json()["error"]["code"]) == (False, "VALIDATION_ERROR")


def test_bad_time_range_is_a_validation_error(api):
    r = api.get("/statistics", params={"time_range": "1y"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "VALIDATION_ERROR")


def test_execution_routes_need_a_token(http, api):
    r = http.get("/api/v1/scheduler/monitor/active", headers={"X-Gateway-ID": api.gateway_id})
    assert r.status_code == 401


def test_nul_bytes_in_ids_are_not_found_or_refused(api, job_id):
    r = api.get("/executions/exec%00x")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "EXECUTION_NOT_FOUND")
    r = api.get("/jobs/job%00x/history")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "JOB_NOT_FOUND")
    r = api.get(f"/jobs/{job_id}/logs", params={"execution_id": "a\x00b"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "VALIDATION_ERROR")
    r = api.get(f"/jobs/{job_id}/history", params={"start_date": "2025-03-12\x00"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "VALIDATION_ERROR")
