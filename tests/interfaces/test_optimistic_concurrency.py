"""ETag is a job's version; a PUT with a stale If-Match is VERSION_CONFLICT and changes nothing."""

from __future__ import annotations

import pytest

from tests.interfaces.contract import assert_error, create_job, job_detail, ok_data, stored_state


def test_job_detail_carries_its_version_as_etag(api):
    job_id = create_job(api)
    response = api.get(f"/jobs/{job_id}")
    assert response.headers["etag"] == '"1"'
    assert response.json()["data"]["job"]["version"] == 1


def test_put_with_the_current_if_match_succeeds_and_moves_the_etag(api):
    job_id = create_job(api)
    etag = api.get(f"/jobs/{job_id}").headers["etag"]
    response = api.put(f"/jobs/{job_id}", {"name": "Second"}, headers={"If-Match": etag})
    assert ok_data(response, 200, "Job updated successfully")["version"] == 2
    assert response.headers["etag"] == '"2"'
    detail = api.get(f"/jobs/{job_id}")
    assert detail.headers["etag"] == '"2"'
    assert detail.json()["data"]["job"]["name"] == "Second"


def test_put_with_a_stale_if_match_is_a_version_conflict_and_changes_nothing(api, event_log):
    job_id = create_job(api)
    stale = api.get(f"/jobs/{job_id}").headers["etag"]
    assert api.put(f"/jobs/{job_id}", {"name": "Won the race"}, headers={"If-Match": stale}).status_code == 200
    before = stored_state(api, job_id)
    head = event_log.head()
    error = assert_error(
        api.put(f"/jobs/{job_id}", {"name": "Lost the race"}, headers={"If-Match": stale}), 409, "VERSION_CONFLICT"
    )
    assert error["details"] == {"current_version": 2, "expected_version": 1}
    assert event_log.head() == head
    after = stored_state(api, job_id)
    assert after == before
    assert (after["name"], after["version"]) == ("Won the race", 2)
    assert api.get(f"/jobs/{job_id}").headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ['"7"', "7", 'W/"7"'])
def test_a_version_ahead_of_the_job_is_a_version_conflict(api, if_match):
    job_id = create_job(api)
    assert_error(api.put(f"/jobs/{job_id}", {"name": "x"}, headers={"If-Match": if_match}), 409, "VERSION_CONFLICT")
    assert job_detail(api, job_id)["name"] == "Modbus Poll"


def test_a_stale_version_in_the_body_is_a_version_conflict(api):
    job_id = create_job(api)
    assert api.put(f"/jobs/{job_id}", {"name": "Second"}).status_code == 200
    assert_error(api.put(f"/jobs/{job_id}", {"name": "Third", "version": 1}), 409, "VERSION_CONFLICT")
    assert job_detail(api, job_id)["name"] == "Second"
    assert ok_data(api.put(f"/jobs/{job_id}", {"name": "Third", "version": 2}), 200, "Job updated successfully")


def test_a_non_numeric_if_match_is_a_validation_error(api):
    job_id = create_job(api)
    assert_error(api.put(f"/jobs/{job_id}", {"name": "x"}, headers={"If-Match": "abc"}), 400, "VALIDATION_ERROR")
    assert job_detail(api, job_id)["version"] == 1


def test_a_put_without_if_match_is_unconditional(api):
    job_id = create_job(api)
    for name in ("Second", "Third"):
        assert api.put(f"/jobs/{job_id}", {"name": name}).status_code == 200
    assert (job_detail(api, job_id)["name"], job_detail(api, job_id)["version"]) == ("Third", 3)
