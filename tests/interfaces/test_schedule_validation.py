"""POST /schedules/validate for every schedule type, and the next 10 fire instants of a job."""

from __future__ import annotations

import pytest

from tests.conftest import job_body

START = "2025-03-15T00:00:00Z"
CASES = [
    ({"type": "interval", "interval_seconds": 90}, "2025-03-15T00:01:30Z"),
    ({"type": "daily", "time": "01:00", "timezone": "UTC", "skip_weekends": True}, "2025-03-17T01:00:00Z"),
    ({"type": "weekly", "days": ["mon", "fri"], "time": "08:30", "timezone": "Europe/Berlin"}, "2025-03-17T07:30:00Z"),
    ({"type": "monthly", "day": "last", "time": "23:00", "timezone": "UTC"}, "2025-03-31T23:00:00Z"),
    ({"type": "cron", "cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York"}, "2025-03-17T13:00:00Z"),
    ({"type": "sunrise", "event": "sunset", "offset_minutes": 30, "latitude": 52.52, "longitude": 13.405}, None),
    ({"type": "once", "at": "2025-04-01T12:00:00Z"}, "2025-04-01T12:00:00Z"),
]


@pytest.mark.parametrize(("schedule", "first"), CASES, ids=[c[0]["type"] for c in CASES])
def test_every_schedule_type_validates_with_a_preview_and_a_description(api, schedule, first):
    r = api.post("/schedules/validate", {**schedule, "start": START, "count": 3})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["valid"] is True and isinstance(data["description"], str) and data["description"]
    instants = data["next_executions"]
    assert instants == sorted(instants) and all(i.endswith("Z") and i > START for i in instants)
    assert len(instants) == (1 if schedule["type"] == "once" else 3)
    if first is not None:
        assert instants[0] == first


def test_the_contract_example_describes_weekday_office_hours(api):
    body = {"type": "cron", "cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York", "start": START}
    data = api.post("/schedules/validate", body).json()["data"]
    assert data["next_executions"][:2] == ["2025-03-17T13:00:00Z", "2025-03-17T14:00:00Z"]
    assert "between 09:00 AM and 05:59 PM" in data["description"]  # cron-descriptor words it so
    assert "Monday through Friday" in data["description"]


@pytest.mark.parametrize("count", [0, 101, "5", True])
def test_preview_counts_outside_1_to_100_are_refused(api, count):
    r = api.post("/schedules/validate", {"type": "interval", "interval_seconds": 10, "count": count})
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_hundred_instants_can_be_previewed(api):
    r = api.post("/schedules/validate", {"type": "interval", "interval_seconds": 10, "count": 100, "start": START})
    assert len(r.json()["data"]["next_executions"]) == 100


def test_job_detail_carries_its_next_ten_fire_instants(api):
    job_id = api.post("/jobs", job_body(type="cron", schedule={"cron_expression": "*/5 * * * *"})).json()["data"]["job_id"]
    job = api.get(f"/jobs/{job_id}").json()["data"]["job"]
    upcoming = job["next_executions"]
    assert len(upcoming) == 10 and upcoming[0] == job["next_execution"]
    assert all(i.endswith(":00Z") and int(i[14:16]) % 5 == 0 for i in upcoming)
