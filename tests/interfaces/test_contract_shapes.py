"""Every route of issue 2 answers the contract's envelope, message, field names and UTC instants."""

from __future__ import annotations

import re


from tests.conftest import job_body
from tests.interfaces.contract import (
    assert_instants_are_utc,
    assert_utc_instant,
    create_job,
    job_detail,
    ok_data,
)

API = "/api/v1/scheduler"
DAILY = {"type": "daily", "schedule": {"time": "01:00", "timezone": "UTC"}}


def test_status_reports_the_gateways_job_counts(api):
    enabled = create_job(api)
    create_job(api, enabled=False)
    data = ok_data(api.get("/status"), 200, "Scheduler status retrieved successfully")
    assert set(data) == {
        "system_status", "total_jobs", "active_jobs", "failed_jobs", "success_rate", "last_execution",
        "next_scheduled", "resource_usage",
    }
    assert data["system_status"] in {"healthy", "degraded"}
    assert (data["total_jobs"], data["active_jobs"], data["failed_jobs"]) == (2, 1, 0)
    assert data["success_rate"] == 100.0
    assert data["last_execution"] is None
    assert data["next_scheduled"] == job_detail(api, enabled)["next_execution"]
    assert_utc_instant(data["next_scheduled"])
    usage = data["resource_usage"]
    assert set(usage) == {"cpu", "memory", "concurrent_jobs"}
    assert isinstance(usage["cpu"], (int, float)) and 0 <= usage["cpu"]
    assert re.fullmatch(r"\d+(\.\d)? (MB|GB)", usage["memory"]), usage["memory"]
    assert usage["concurrent_jobs"] == 0


def test_create_answers_201_with_job_id_name_and_next_execution(api):
    body = job_body(name="Health Check", gateway_id=api.gateway_id, **DAILY)
    data = ok_data(api.post("/jobs", body), 201, "Job created successfully")
    assert {"job_id", "name", "next_execution"} <= set(data)
    assert re.fullmatch(r"job_[A-Za-z0-9_.-]+", data["job_id"]), data["job_id"]
    assert data["name"] == "Health Check"
    assert data["next_execution"].endswith("T01:00:00Z")
    assert_utc_instant(data["next_execution"])


def test_job_list_items_carry_the_contract_fields(api):
    job_id = create_job(api)
    data = ok_data(api.get("/jobs"), 200, "Jobs retrieved successfully")
    assert (data["total_jobs"], data["active_jobs"]) == (1, 1)
    [job] = data["jobs"]
    assert {
        "id", "name", "description", "type", "enabled", "status", "schedule", "action", "tags", "created_at",
        "last_execution", "execution_count", "average_duration_ms",
    } <= set(job)
    assert job["id"] == job_id
    assert (job["name"], job["description"]) == ("Modbus Poll", "Poll Modbus devices for sensor data")
    assert (job["type"], job["enabled"], job["status"]) == ("interval", True, "active")
    assert job["schedule"]["interval_seconds"] == 10
    assert_utc_instant(job["schedule"]["next_execution"])
    assert job["action"]["type"] == "publish" and job["action"]["topic"] == "device/data/modbus"
    assert job["tags"] == ["modbus", "polling"]
    assert (job["last_execution"], job["execution_count"], job["average_duration_ms"]) == (None, 0, 0)
    assert_instants_are_utc(data, at_least=2)


def test_job_detail_carries_configuration_statistics_and_metadata(api):
    job_id = create_job(api, gateway_id=api.gateway_id)
    data = ok_data(api.get(f"/jobs/{job_id}"), 200, "Job details retrieved successfully")
    assert set(data) == {"job"}
    job = data["job"]
    assert {"id", "name", "description", "type", "enabled", "status", "gateway_id", "configuration",
            "statistics", "metadata"} <= set(job)
    assert (job["id"], job["gateway_id"], job["type"], job["status"]) == (job_id, api.gateway_id, "interval", "active")
    assert job["configuration"]["schedule"]["interval_seconds"] == 10
    assert job["configuration"]["action"]["payload_template"] == '{"t": "${NOW}"}'
    assert job["statistics"] == {
        "total_executions": 0, "successful_executions": 0, "failed_executions": 0, "average_duration_ms": 0,
        "last_execution": None, "last_status": None,
    }
    assert job["metadata"]["tags"] == ["modbus", "polling"]
    created = assert_utc_instant(job["metadata"]["created_at"])
    assert assert_utc_instant(job["metadata"]["updated_at"]) == created
    assert_instants_are_utc(job, at_least=3)


def test_update_answers_job_id_and_next_execution(api):
    job_id = create_job(api, **DAILY)
    response = api.put(f"/jobs/{job_id}", {"schedule": {"time": "02:30"}, "tags": ["changed"]})
    data = ok_data(response, 200, "Job updated successfully")
    assert data["job_id"] == job_id
    assert data["next_execution"].endswith("T02:30:00Z")
    assert_utc_instant(data["next_execution"])


def test_delete_answers_deleted_job_and_its_statistics(api):
    job_id = create_job(api)
    data = ok_data(api.delete(f"/jobs/{job_id}"), 200, "Job deleted successfully")
    assert data == {"deleted_job": job_id, "statistics": {"total_executions": 0}}


def test_disabling_answers_job_id_enabled_false_and_its_message(api):
    job_id = create_job(api)
    response = api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "Temporarily disabled for maintenance"})
    data = ok_data(response, 200, "Job disabled successfully")
    assert (data["job_id"], data["enabled"]) == (job_id, False)


def test_enabling_answers_job_id_enabled_true_and_its_message(api):
    job_id = create_job(api, enabled=False)
    data = ok_data(api.post(f"/jobs/{job_id}/toggle", {"enabled": True}), 200, "Job enabled successfully")
    assert (data["job_id"], data["enabled"]) == (job_id, True)
    assert_utc_instant(data["next_execution"])


def test_toggling_to_the_current_state_answers_200_and_records_nothing(api, event_log):
    job_id = create_job(api)
    head = event_log.head()
    data = ok_data(api.post(f"/jobs/{job_id}/toggle", {"enabled": True}), 200, "Job enabled successfully")
    assert (data["job_id"], data["enabled"]) == (job_id, True)
    assert event_log.head() == head
    assert job_detail(api, job_id)["version"] == 1


def test_templates_offer_the_contract_schedule_and_action_types(api):
    data = ok_data(api.get("/templates"), 200, "Job templates retrieved successfully")
    assert set(data) == {"schedule_types", "action_types"}
    expected_schedules = {
        "interval": ("Execute at fixed time intervals", {"interval_seconds", "jitter_percentage"}),
        "daily": ("Execute once per day at specific time", {"time", "timezone", "skip_weekends"}),
        "cron": ("Execute based on cron expression", {"cron_expression", "timezone"}),
    }
    assert {"interval", "daily", "weekly", "monthly", "cron", "sunrise"} <= set(data["schedule_types"])
    for name, (description, parameters) in expected_schedules.items():
        assert data["schedule_types"][name]["description"] == description
        assert parameters <= set(data["schedule_types"][name]["parameters"])
    expected_actions = {
        "publish": ("Publish data to MQTT topic", {"topic", "payload_template", "qos"}),
        "system": ("Execute system operations", {"operation", "parameters"}),
        "file": ("Perform file operations", {"operation", "pattern", "retain_days"}),
    }
    assert set(data["action_types"]) == set(expected_actions)
    for name, (description, parameters) in expected_actions.items():
        assert data["action_types"][name]["description"] == description
        assert parameters <= set(data["action_types"][name]["parameters"])


def test_tags_count_the_gateways_jobs_per_tag(api):
    create_job(api, tags=["modbus", "health"])
    create_job(api, tags=["modbus"])
    data = ok_data(api.get("/tags"), 200, "Tags retrieved successfully")
    assert [(t["name"], t["job_count"]) for t in data["tags"]] == [("modbus", 2), ("health", 1)]
    assert all(set(t) == {"name", "job_count", "last_used"} for t in data["tags"])
    assert_instants_are_utc(data, at_least=2)
    limited = ok_data(api.get("/tags", params={"limit": 1}), 200, "Tags retrieved successfully")
    assert [t["name"] for t in limited["tags"]] == ["modbus"]


def test_gateways_list_the_context_gateway_with_its_job_counts(api):
    create_job(api)
    create_job(api, enabled=False)
    data = ok_data(api.get("/gateways"), 200, "Gateways retrieved successfully")
    mine = [g for g in data["gateways"] if g["id"] == api.gateway_id]
    assert len(mine) == 1
    gateway = mine[0]
    assert set(gateway) == {"id", "name", "status", "location", "last_seen", "jobs_count", "active_jobs"}
    assert (gateway["jobs_count"], gateway["active_jobs"]) == (2, 1)
    assert gateway["status"] in {"online", "offline"}
    assert gateway["last_seen"] is None or assert_utc_instant(gateway["last_seen"])
    assert all(g["status"] in {"online", "offline"} for g in data["gateways"])


def test_gateway_jobs_list_that_gateways_jobs(api):
    first = create_job(api, name="First")
    second = create_job(api, name="Second", enabled=False)
    data = ok_data(api.get(f"/gateways/{api.gateway_id}/jobs"), 200, "Gateway jobs retrieved successfully")
    assert {"gateway_id", "gateway_name", "total_jobs", "active_jobs", "jobs"} <= set(data)
    assert (data["gateway_id"], data["total_jobs"], data["active_jobs"]) == (api.gateway_id, 2, 1)
    assert isinstance(data["gateway_name"], str) and data["gateway_name"]
    assert [(j["id"], j["name"], j["type"], j["enabled"]) for j in data["jobs"]] == [
        (first, "First", "interval", True), (second, "Second", "interval", False),
    ]
    assert data["jobs"][1]["next_execution"] is None
    assert_instants_are_utc(data, at_least=1)


def test_schedule_validation_previews_the_next_executions(api):
    body = {"type": "cron", "cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York",
            "start": "2025-03-14T12:00:00Z", "count": 2}
    data = ok_data(api.post("/schedules/validate", body), 200, "Schedule validation completed")
    assert data["valid"] is True
    # 9 AM New York on Friday 2025-03-14 is 13:00Z (EDT since 9 March)
    assert data["next_executions"] == ["2025-03-14T13:00:00Z", "2025-03-14T14:00:00Z"]
    assert isinstance(data["description"], str) and "9" in data["description"]


def test_schedule_validation_previews_five_instants_by_default(api):
    data = ok_data(
        api.post("/schedules/validate", {"type": "interval", "interval_seconds": 30, "start": "2025-03-15T10:00:00Z"}),
        200, "Schedule validation completed",
    )
    assert data["next_executions"] == [f"2025-03-15T10:0{m}:{s}Z" for m, s in
                                       [(0, "30"), (1, "00"), (1, "30"), (2, "00"), (2, "30")]]


def test_health_and_readiness_probes_answer_without_a_token(http):
    assert ok_data(http.get("/healthz"), 200, "alive") == {"status": "ok"}
    assert ok_data(http.get("/readyz"), 200, "ready") == {"status": "ready"}


def test_openapi_schema_lists_every_scheduler_route(http):
    response = http.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    expected = {
        f"{API}/status": {"get"}, f"{API}/jobs": {"get", "post"}, f"{API}/jobs/{{job_id}}": {"get", "put", "delete"},
        f"{API}/jobs/{{job_id}}/toggle": {"post"}, f"{API}/templates": {"get"}, f"{API}/tags": {"get"},
        f"{API}/gateways": {"get"}, f"{API}/schedules/validate": {"post"},
        f"{API}/gateways/{{gateway_id}}/jobs": {"get"},  # the contract's parameter name
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path
