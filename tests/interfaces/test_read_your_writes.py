"""A command answers only once the read side shows it: the next read sees the write."""

from __future__ import annotations

from tests.conftest import job_body
from tests.interfaces.contract import (
    assert_error, assert_utc_instant, create_job, job_detail, listed_ids, ok_data,
)


def test_created_job_is_immediately_in_the_list_and_its_detail(api):
    response = api.post("/jobs", job_body(name="Fresh", tags=["fresh"]))
    assert response.status_code == 201, response.text
    created = response.json()["data"]
    assert listed_ids(api) == [created["job_id"]]
    job = job_detail(api, created["job_id"])
    assert (job["name"], job["metadata"]["tags"], job["version"]) == ("Fresh", ["fresh"], 1)
    assert job["next_execution"] == created["next_execution"]


def test_updated_fields_are_immediately_in_the_detail(api):
    job_id = create_job(api)
    before = job_detail(api, job_id)
    patch = {
        "name": "Modbus Poll (30s)", "schedule": {"interval_seconds": 30},
        "action": {"payload_template": '{"interval": "30s"}'}, "tags": ["modbus", "optimized"],
    }
    response = api.put(f"/jobs/{job_id}", patch)
    assert response.status_code == 200, response.text
    after = job_detail(api, job_id)
    assert after["name"] == "Modbus Poll (30s)"
    assert after["configuration"]["schedule"]["interval_seconds"] == 30
    # a partial action keeps the fields it does not name
    assert after["configuration"]["action"]["topic"] == "device/data/modbus"
    assert after["configuration"]["action"]["payload_template"] == '{"interval": "30s"}'
    assert after["metadata"]["tags"] == ["modbus", "optimized"]
    assert after["description"] == before["description"]
    assert after["version"] == before["version"] + 1 == response.json()["data"]["version"]
    assert after["next_execution"] == response.json()["data"]["next_execution"]
    assert assert_utc_instant(after["metadata"]["updated_at"]) > assert_utc_instant(before["metadata"]["updated_at"])
    [listed] = api.get("/jobs").json()["data"]["jobs"]
    assert (listed["name"], listed["tags"], listed["schedule"]["interval_seconds"]) == (
        "Modbus Poll (30s)", ["modbus", "optimized"], 30)


def test_disabled_job_is_immediately_listed_inactive(api):
    job_id = create_job(api)
    response = api.post(f"/jobs/{job_id}/toggle", {"enabled": False, "reason": "maintenance"})
    assert response.status_code == 200, response.text
    [listed] = api.get("/jobs").json()["data"]["jobs"]
    assert (listed["id"], listed["enabled"], listed["status"]) == (job_id, False, "inactive")
    assert listed_ids(api, status="inactive") == [job_id]
    job = job_detail(api, job_id)
    assert (job["metadata"]["disabled_reason"], job["next_execution"]) == ("maintenance", None)


def test_deleted_job_is_gone_from_its_detail_and_the_list(api):
    kept = create_job(api, name="Kept")
    doomed = create_job(api, name="Doomed")
    assert ok_data(api.delete(f"/jobs/{doomed}"), 200, "Job deleted successfully")["deleted_job"] == doomed
    assert_error(api.get(f"/jobs/{doomed}"), 404, "JOB_NOT_FOUND")
    assert listed_ids(api) == [kept]
    assert api.get("/jobs").json()["data"]["total_jobs"] == 1
    assert_error(api.delete(f"/jobs/{doomed}"), 404, "JOB_NOT_FOUND")
    assert_error(api.put(f"/jobs/{doomed}", {"name": "Back"}), 404, "JOB_NOT_FOUND")
