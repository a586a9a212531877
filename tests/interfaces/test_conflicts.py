"""POST /conflicts/check and `check_conflicts` on create/update, through the real app and PostgreSQL.

Fixed horizons (`start`) in 2027 keep each case deterministic; the jobs' schedules lie there too,
or at times of day, so the test server's dispatcher does not run them meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import job_body
from tests.interfaces.contract import assert_error, create_job, ok_data
from tests.projections.execution_events import save, succeeded

MONDAY = "2027-01-04T00:00:00Z"
MESSAGE = "Conflict check completed"


def daily(at: str, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    return {"type": "daily", "time": at, "timezone": zone, **extra}


def new_job(api, name: str, schedule: dict[str, Any], topic: str = "plant/other", **overrides: Any) -> str:
    params = {k: v for k, v in schedule.items() if k != "type"}
    action = overrides.pop("action", {"type": "publish", "topic": topic, "payload_template": "{}"})
    return create_job(api, name=name, type=schedule["type"], schedule=params, action=action, **overrides)


def check(api, **body: Any) -> dict[str, Any]:
    return ok_data(api.post("/conflicts/check", {"start": MONDAY, **body}), 200, MESSAGE)


def test_overlapping_daily_jobs_report_the_contract_fields_and_a_move_that_really_removes_it(api, runtime):
    backup = new_job(api, "Daily Backup", daily("02:00", "Europe/Berlin"))
    ran = datetime(2026, 11, 2, 1, tzinfo=UTC)
    save(runtime, *(succeeded(api.gateway_id, backup, ran + timedelta(days=d), 300_000) for d in range(3)))
    data = check(api, job_id="job_new", gateway_id=api.gateway_id, schedule=daily("02:00", "Europe/Berlin"),
                 estimated_duration_seconds=300)
    assert data["has_conflicts"] is True
    (conflict,) = data["conflicts"]
    assert conflict == {
        "job_id": backup, "job_name": "Daily Backup", "conflict_type": "time_overlap", "conflict_period": "02:00-02:05",
        "severity": "medium", "occurrences": 7, "first_conflict_at": "2027-01-04T01:00:00Z", "shared_targets": [],
    }
    assert data["recommendations"][0] == "Schedule at 02:05 to avoid conflict"
    best = data["recommendation_details"][0]
    assert best["shift_minutes"] == 5 and best["removes_all_conflicts"] is True
    assert (best["conflicts_before"], best["conflicts_after"]) == (1, 0)
    assert (best["peak_concurrency_before"], best["peak_concurrency_after"]) == (2, 1)
    analysis = data["analysis"]
    assert (analysis["candidate_occurrences"], analysis["duration_source"], analysis["jobs_checked"]) == (7, "estimate", 1)
    assert (analysis["horizon_start"], analysis["horizon_end"]) == (MONDAY, "2027-01-11T00:00:00Z")

    again = check(api, schedule=best["schedule"], estimated_duration_seconds=300)
    assert again["has_conflicts"] is False and again["conflicts"] == [] and again["recommendations"] == []
    same = check(api, job_id="job_new", schedule=daily("02:00", "Europe/Berlin"), estimated_duration_seconds=300)
    assert same["recommendation_details"] == data["recommendation_details"]  # stable for the same input


def test_an_existing_job_is_checked_with_its_own_schedule_history_and_action_and_not_against_itself(api, runtime):
    first = new_job(api, "Cleanup A", daily("06:00"), action={"type": "file", "operation": "cleanup",
                                                                "pattern": "logs/*.log"})
    second = new_job(api, "Cleanup B", daily("06:00"), action={"type": "file", "operation": "cleanup",
                                                                 "pattern": "./logs/*.log"})
    save(runtime, succeeded(api.gateway_id, first, datetime(2026, 11, 2, 6, tzinfo=UTC), 90_000))
    data = check(api, job_id=first)
    assert [(c["job_id"], c["conflict_type"], c["severity"], c["shared_targets"]) for c in data["conflicts"]] == [
        (second, "shared_target", "high", ["file:logs/*.log"])]
    assert data["analysis"]["duration_source"] == "history_p95"
    assert data["analysis"]["candidate_duration_seconds"] == 90.0


def test_a_shared_mqtt_topic_is_high_and_another_topic_a_plain_overlap(api):
    same = new_job(api, "Same topic", daily("05:00"), topic="plant/line1")
    other = new_job(api, "Other topic", daily("05:00"), topic="plant/line2")
    data = check(api, schedule=daily("05:00"), action={"type": "publish", "topic": "plant/line1"})
    assert [(c["job_id"], c["conflict_type"], c["severity"]) for c in data["conflicts"]] == [
        (same, "shared_target", "high"), (other, "time_overlap", "medium")]


def test_cron_against_interval_counts_only_the_colliding_runs(api):
    cron = new_job(api, "Six-hourly", {"type": "cron", "cron_expression": "0 */6 * * *", "timezone": "UTC"})
    data = check(api, schedule={"type": "interval", "interval_seconds": 7200, "start_at": MONDAY},
                 estimated_duration_seconds=120, window_minutes=30)
    (conflict,) = data["conflicts"]
    assert (conflict["job_id"], conflict["occurrences"], conflict["severity"]) == (cron, 28, "low")  # 28 of 84 runs
    assert conflict["conflict_period"] == "00:00-00:01"
    best = data["recommendation_details"][0]
    assert best["removes_all_conflicts"] and best["schedule"]["start_at"] == "2027-01-04T00:05:00Z"
    again = check(api, schedule=best["schedule"], estimated_duration_seconds=120)
    assert again["has_conflicts"] is False


def test_the_spring_gap_moves_a_daily_run_onto_another_job(api):
    new_job(api, "Half past two", daily("02:30", "Europe/Berlin"))
    data = check(api, start="2027-03-22T00:00:00Z",
                 schedule={"type": "cron", "cron_expression": "0 3 * * *", "timezone": "Europe/Berlin"},
                 estimated_duration_seconds=120)
    (conflict,) = data["conflicts"]  # 2027-03-28: 02:30 does not exist and fires at 03:00 CEST
    assert (conflict["occurrences"], conflict["conflict_period"]) == (1, "03:00-03:01")
    assert conflict["first_conflict_at"] == "2027-03-28T01:00:00Z"


def test_the_autumn_repeat_fires_a_daily_run_once_at_the_first_pass(api):
    new_job(api, "Half past two", daily("02:30", "Europe/Berlin"))
    data = check(api, start="2027-10-27T00:00:00Z", schedule=daily("01:30", "UTC"), estimated_duration_seconds=60)
    (conflict,) = data["conflicts"]  # 02:30 CET = 01:30 UTC from 2027-11-01; 2027-10-31 fires at 02:30 CEST only
    assert conflict["occurrences"] == 2 and conflict["first_conflict_at"] == "2027-11-01T01:30:00Z"


def test_the_concurrency_limit_counts_the_candidate_and_is_reported_only_above_it(api, runtime):
    limit = runtime.settings.max_concurrent_jobs
    ids = [new_job(api, f"Batch {i}", daily("04:00")) for i in range(limit - 1)]
    at_limit = check(api, schedule=daily("04:00"))
    assert at_limit["analysis"]["peak_concurrency"] == limit
    assert {c["conflict_type"] for c in at_limit["conflicts"]} == {"time_overlap"}
    ids.append(new_job(api, "One more", daily("04:00")))
    over = check(api, schedule=daily("04:00"))
    limited = [c for c in over["conflicts"] if c["conflict_type"] == "concurrency_limit"]
    assert sorted(c["job_id"] for c in limited) == sorted(ids)
    assert all(c["severity"] == "high" and c["occurrences"] == 7 for c in limited)
    assert over["conflicts"][:len(limited)] == limited  # high first
    assert over["analysis"]["peak_concurrency"] == limit + 1
    assert over["recommendation_details"][0]["peak_concurrency_after"] == 1


def test_when_no_move_helps_the_answer_says_so(api):
    new_job(api, "Every minute", {"type": "interval", "interval_seconds": 60, "start_at": "2027-01-03T00:00:00Z"})
    data = check(api, schedule=daily("12:00"), horizon_days=1)
    assert data["has_conflicts"] is True and data["recommendation_details"] == []
    assert data["recommendations"] == ["No start within 120 minutes either side (in 5-minute steps) reduces the conflicts"]


def test_create_with_check_conflicts_is_refused_with_the_report_and_saves_nothing(api, event_log):
    existing = new_job(api, "Nightly", daily("03:15"))
    head = event_log.head()
    body = job_body(name="Clash", type="daily", schedule={"time": "03:15"}, id="clash", check_conflicts=True)
    error = assert_error(api.post("/jobs", body), 409, "SCHEDULE_CONFLICT")
    assert [c["job_id"] for c in error["details"]["conflicts"]] == [existing]
    assert error["details"]["recommendations"]
    assert event_log.head() == head
    assert_error(api.get("/jobs/clash"), 404, "JOB_NOT_FOUND")
    fine = job_body(name="Apart", type="daily", schedule={"time": "09:00"}, check_conflicts=True)
    assert api.post("/jobs", fine).status_code == 201


def test_update_with_check_conflicts_is_refused_and_changes_nothing(api, event_log):
    new_job(api, "Nightly", daily("03:15"))
    moving = new_job(api, "Mover", daily("08:00"))
    head = event_log.head()
    error = assert_error(api.put(f"/jobs/{moving}", {"schedule": {"time": "03:15"}, "check_conflicts": True}),
                         409, "SCHEDULE_CONFLICT")
    assert error["details"]["conflicts"][0]["conflict_period"] == "03:15-03:16"
    assert event_log.head() == head
    assert api.get(f"/jobs/{moving}").json()["data"]["job"]["configuration"]["schedule"]["time"] == "08:00"
    ok = api.put(f"/jobs/{moving}", {"schedule": {"time": "10:00"}, "check_conflicts": True})
    assert ok.status_code == 200, ok.text
    disabled = api.put(f"/jobs/{moving}", {"schedule": {"time": "03:15"}, "enabled": False, "check_conflicts": True})
    assert disabled.status_code == 200, disabled.text  # a disabled job runs nothing to collide


def test_a_viewer_may_check(api):
    data = ok_data(api.as_role("viewer").post("/conflicts/check", {"schedule": daily("01:00")}), 200, MESSAGE)
    assert data["has_conflicts"] is False and data["analysis"]["candidate_occurrences"] == 7


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "VALIDATION_ERROR"),
    ({"job_id": "nope"}, 404, "JOB_NOT_FOUND"),
    ({"schedule": {"time": "02:00"}}, 400, "VALIDATION_ERROR"),
    ({"schedule": {"type": "daily"}}, 400, "VALIDATION_ERROR"),
    ({"schedule": {"type": "cron", "cron_expression": "61 * * * *"}}, 400, "INVALID_CRON_EXPRESSION"),
    ({"schedule": daily("02:00"), "horizon_days": 0}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "horizon_days": 32}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "horizon_days": "7"}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "estimated_duration_seconds": -1}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "start": "2027-01-04T00:00:00"}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "window_minutes": 720, "step_minutes": 1}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "surprise": 1}, 400, "VALIDATION_ERROR"),
    ({"schedule": {"type": "interval", "interval_seconds": 1}, "horizon_days": 1}, 400, "VALIDATION_ERROR"),
    ({"schedule": daily("02:00"), "gateway_id": "someone-else"}, 403, "FORBIDDEN"),
])
def test_bad_bodies_get_their_codes(api, body, status, code):
    assert_error(api.post("/conflicts/check", body), status, code)


def test_a_body_that_is_not_json_is_a_validation_error(api):
    response = api.http.post(api.prefix + "/conflicts/check", content=b"{not json", headers=api.headers())
    assert_error(response, 400, "VALIDATION_ERROR")
