"""Bad input is refused with its code, never a 500, and writes nothing; odd but valid text round-trips."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import job_body
from tests.interfaces.contract import assert_error, create_job, job_detail, listed_ids, ok_data, stored_state

SQL = "'; DROP TABLE jobs; --"
JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024

REFUSED_CREATES = [
    pytest.param({"raw": b'{"name": "x", "type": '}, 400, "VALIDATION_ERROR", id="malformed-json"),
    pytest.param({"raw": b""}, 400, "VALIDATION_ERROR", id="empty-body"),
    pytest.param({"raw": b"[1, 2]"}, 400, "VALIDATION_ERROR", id="array-body"),
    pytest.param(job_body(enabled="yes"), 400, "VALIDATION_ERROR", id="enabled-string"),
    pytest.param(job_body(tags="x"), 400, "VALIDATION_ERROR", id="tags-string"),
    pytest.param(job_body(schedule=[]), 400, "VALIDATION_ERROR", id="schedule-array"),
    pytest.param(job_body(name=123), 400, "VALIDATION_ERROR", id="name-number"),
    pytest.param(job_body(action="publish"), 400, "VALIDATION_ERROR", id="action-string"),
    pytest.param(job_body(bogus=1), 400, "VALIDATION_ERROR", id="unknown-top-level-field"),
    pytest.param({k: v for k, v in job_body().items() if k != "name"}, 400, "VALIDATION_ERROR", id="missing-name"),
    pytest.param(job_body(name="   "), 400, "VALIDATION_ERROR", id="blank-name"),
    pytest.param(job_body(type="hourly"), 400, "VALIDATION_ERROR", id="unknown-schedule-type"),
    pytest.param(job_body(schedule={"interval_seconds": 10, "every": 2}), 400, "VALIDATION_ERROR",
                 id="unknown-schedule-parameter"),
    pytest.param(job_body(action={"type": "teleport"}), 400, "ACTION_NOT_SUPPORTED", id="unknown-action-type"),
    pytest.param(job_body(type="cron", schedule={"cron_expression": "61 * * * *"}), 400, "INVALID_CRON_EXPRESSION",
                 id="cron-out-of-range"),
    pytest.param(job_body(type="cron", schedule={"cron_expression": "* * *"}), 400, "INVALID_CRON_EXPRESSION",
                 id="cron-too-few-fields"),
    pytest.param(job_body(schedule={"interval_seconds": 10**30}), 400, "VALIDATION_ERROR", id="absurd-interval"),
    pytest.param(job_body(schedule={"interval_seconds": 0}), 400, "VALIDATION_ERROR", id="zero-interval"),
    pytest.param(job_body(schedule={"interval_seconds": -5}), 400, "VALIDATION_ERROR", id="negative-interval"),
    pytest.param(job_body(schedule={"interval_seconds": 1e308}), 400, "VALIDATION_ERROR", id="float-interval"),
    pytest.param(job_body(schedule={"interval_seconds": 10, "jitter_percentage": 1000}), 400, "VALIDATION_ERROR",
                 id="absurd-jitter"),
    pytest.param(job_body(tags=[f"t{i}" for i in range(10_000)]), 400, "VALIDATION_ERROR", id="ten-thousand-tags"),
    pytest.param(job_body(name="x" * 10_000), 400, "VALIDATION_ERROR", id="ten-thousand-character-name"),
    pytest.param(job_body(name="x" * 10_001), 400, "VALIDATION_ERROR", id="name-past-the-wire-limit"),
    pytest.param(job_body(name="Pump\x00 1"), 400, "VALIDATION_ERROR", id="nul-in-name"),
    pytest.param(job_body(description="a\x00b"), 400, "VALIDATION_ERROR", id="nul-in-description"),
    pytest.param(job_body(tags=["a\x00b"]), 400, "VALIDATION_ERROR", id="nul-in-tag"),
    pytest.param(job_body(action={"type": "publish", "topic": "a\x00b"}), 400, "VALIDATION_ERROR", id="nul-in-topic"),
    pytest.param(job_body(type="daily", schedule={"time": "01:00", "timezone": "UTC\x00"}), 400, "VALIDATION_ERROR",
                 id="nul-in-timezone"),
    pytest.param(job_body(description="x" * (MIB + 1)), 413, "PAYLOAD_TOO_LARGE", id="body-over-1-mib"),
]


def send_create(api, body):
    if "raw" in body:
        return api.post("/jobs", content=body["raw"], headers=JSON)
    return api.post("/jobs", body)


@pytest.mark.parametrize(("body", "status", "code"), REFUSED_CREATES)
def test_refused_create_answers_its_code_and_writes_nothing(api, event_log, body, status, code):
    existing = create_job(api)
    head = event_log.head()
    assert_error(send_create(api, body), status, code)
    assert event_log.head() == head
    assert listed_ids(api) == [existing]


def test_refused_create_names_the_offending_field(api):
    error = assert_error(api.post("/jobs", job_body(bogus=1)), 400, "VALIDATION_ERROR")
    assert "bogus" in json.dumps(error["details"])
    error = assert_error(api.post("/jobs", job_body(name="x" * 10_000)), 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "name"
    error = assert_error(api.post("/jobs", job_body(action={"type": "teleport"})), 400, "ACTION_NOT_SUPPORTED")
    assert error["details"]["field"] == "action.type"


REFUSED_UPDATES = [
    pytest.param({"raw": b'{"name": '}, 400, "VALIDATION_ERROR", id="malformed-json"),
    pytest.param({"enabled": "yes"}, 400, "VALIDATION_ERROR", id="enabled-string"),
    pytest.param({"tags": "x"}, 400, "VALIDATION_ERROR", id="tags-string"),
    pytest.param({"schedule": []}, 400, "VALIDATION_ERROR", id="schedule-array"),
    pytest.param({"bogus": 1}, 400, "VALIDATION_ERROR", id="unknown-top-level-field"),
    pytest.param({"type": "hourly"}, 400, "VALIDATION_ERROR", id="unknown-schedule-type"),
    pytest.param({"action": {"type": "teleport"}}, 400, "ACTION_NOT_SUPPORTED", id="unknown-action-type"),
    pytest.param({"type": "cron", "schedule": {"cron_expression": "99 99 * * *"}}, 400, "INVALID_CRON_EXPRESSION",
                 id="invalid-cron"),
    pytest.param({"schedule": {"interval_seconds": 10**30}}, 400, "VALIDATION_ERROR", id="absurd-interval"),
    pytest.param({"name": "x" * 10_000}, 400, "VALIDATION_ERROR", id="ten-thousand-character-name"),
    pytest.param({"name": "a\x00b"}, 400, "VALIDATION_ERROR", id="nul-in-name"),
    pytest.param({"description": "x" * (MIB + 1)}, 413, "PAYLOAD_TOO_LARGE", id="body-over-1-mib"),
]


@pytest.mark.parametrize(("body", "status", "code"), REFUSED_UPDATES)
def test_refused_update_answers_its_code_and_changes_nothing(api, event_log, body, status, code):
    job_id = create_job(api)
    before = stored_state(api, job_id)
    etag = api.get(f"/jobs/{job_id}").headers["etag"]
    head = event_log.head()
    path = f"/jobs/{job_id}"
    response = api.put(path, content=body["raw"], headers=JSON) if "raw" in body else api.put(path, body)
    assert_error(response, status, code)
    assert event_log.head() == head
    assert stored_state(api, job_id) == before
    assert before["version"] == 1
    assert api.get(f"/jobs/{job_id}").headers["etag"] == etag


@pytest.mark.parametrize("body", [
    pytest.param({"raw": b'{"enabled": '}, id="malformed-json"),
    pytest.param({"enabled": "no"}, id="enabled-string"),
    pytest.param({}, id="missing-enabled"),
    pytest.param({"enabled": False, "why": "x"}, id="unknown-field"),
    pytest.param({"enabled": False, "reason": "r" * 501}, id="reason-too-long"),
])
def test_refused_toggle_is_a_validation_error_and_changes_nothing(api, event_log, body):
    job_id = create_job(api)
    before = stored_state(api, job_id)
    head = event_log.head()
    path = f"/jobs/{job_id}/toggle"
    response = api.post(path, content=body["raw"], headers=JSON) if "raw" in body else api.post(path, body)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert event_log.head() == head
    assert stored_state(api, job_id) == before


@pytest.mark.parametrize("name", [
    pytest.param("Pump 🚀🔥💧 night run", id="emoji"),
    pytest.param("مضخة المياه الرئيسية", id="arabic-rtl"),
    pytest.param("משאבה ‏ראשית", id="hebrew-rtl-with-mark"),
    pytest.param("水泵监控 – 東京", id="cjk"),
    pytest.param("e\u0301 combining + ZWJ 👩‍🔧", id="combining-and-zwj"),
])
def test_unicode_names_and_tags_round_trip_exactly(api, name):
    response = api.post("/jobs", job_body(name=name, description=name, tags=[name[:20].strip()]))
    assert response.status_code == 201, response.text
    created = response.json()["data"]
    assert created["name"] == name
    job = job_detail(api, created["job_id"])
    assert (job["name"], job["description"], job["metadata"]["tags"]) == (name, name, [name[:20].strip()])
    [listed] = api.get("/jobs", params={"tags": name[:20].strip()}).json()["data"]["jobs"]
    assert (listed["id"], listed["name"]) == (created["job_id"], name)
    tags = api.get("/tags").json()["data"]["tags"]
    assert [t["name"] for t in tags] == [name[:20].strip()]


def test_sql_looking_strings_are_stored_and_returned_verbatim(api):
    job_id = create_job(api, name=SQL, description=f"{SQL} /* */ OR 1=1", tags=[SQL, "x' OR '1'='1"])
    job = job_detail(api, job_id)
    assert (job["name"], job["description"]) == (SQL, f"{SQL} /* */ OR 1=1")
    assert job["metadata"]["tags"] == [SQL, "x' OR '1'='1"]
    assert listed_ids(api, tags=SQL) == [job_id]
    assert listed_ids(api, tags="x' OR '1'='1") == [job_id]
    assert listed_ids(api, tags="' OR 1=1 --") == []
    assert_error(api.get("/jobs/' OR '1'='1"), 404, "JOB_NOT_FOUND")
    # the table is still there and still works
    second = create_job(api, name="After the attempt")
    assert listed_ids(api) == [job_id, second]
    assert ok_data(api.put(f"/jobs/{job_id}", {"name": SQL + " again"}), 200, "Job updated successfully")
    assert job_detail(api, job_id)["name"] == SQL + " again"


def test_nul_byte_in_a_query_filter_is_a_validation_error(api):
    create_job(api)
    assert_error(api.get("/jobs", params={"tags": "a\x00b"}), 400, "VALIDATION_ERROR")


def test_nul_byte_in_a_job_id_is_not_found_or_refused(api):
    response = api.get("/jobs/job%00x")
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["code"] in {"VALIDATION_ERROR", "JOB_NOT_FOUND"}


def test_nul_byte_in_a_job_id_of_a_command_is_not_found(api):
    assert_error(api.put("/jobs/job%00x", {"name": "x"}), 404, "JOB_NOT_FOUND")
    assert_error(api.post("/jobs/job%00x/toggle", {"enabled": False}), 404, "JOB_NOT_FOUND")


def test_schedule_validation_of_malformed_json_is_a_validation_error(api):
    assert_error(api.post("/schedules/validate", content=b'{"type": ', headers=JSON), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("body", "code"), [
    pytest.param({"type": "cron", "cron_expression": "not a cron"}, "INVALID_CRON_EXPRESSION", id="invalid-cron"),
    pytest.param({"type": "hourly"}, "VALIDATION_ERROR", id="unknown-type"),
    pytest.param({"interval_seconds": 10}, "VALIDATION_ERROR", id="missing-type"),
    pytest.param([1, 2], "VALIDATION_ERROR", id="array-body"),
    pytest.param({"type": "interval", "interval_seconds": 10, "count": 0}, "VALIDATION_ERROR", id="count-0"),
    pytest.param({"type": "interval", "interval_seconds": 10, "count": 101}, "VALIDATION_ERROR", id="count-101"),
    pytest.param({"type": "interval", "interval_seconds": 10, "start": "yesterday"}, "VALIDATION_ERROR",
                 id="bad-start"),
])
def test_schedule_validation_refuses_bad_schedules_with_their_code(api, body, code):
    assert_error(api.post("/schedules/validate", body), 400, code)


@pytest.mark.parametrize("path", ["/nope", "/jobs/abc/explode", "/gateways/x/jobs/y"])
def test_unknown_route_is_404_in_the_envelope(api, path):
    assert_error(api.get(path), 404, "NOT_FOUND")


def test_unknown_route_outside_the_api_is_404_in_the_envelope(http):
    assert_error(http.get("/definitely/not/here"), 404, "NOT_FOUND")


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/jobs"), ("DELETE", "/jobs"), ("PATCH", "/jobs/{job}"), ("POST", "/jobs/{job}"),
    ("GET", "/jobs/{job}/toggle"), ("DELETE", "/templates"), ("GET", "/schedules/validate"), ("POST", "/status"),
])
def test_wrong_method_is_405_in_the_envelope(api, event_log, method, path):
    job_id = create_job(api)
    head = event_log.head()
    response = api.http.request(method, api.prefix + path.format(job=job_id), headers=api.headers(), json={})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert event_log.head() == head


def test_create_with_the_id_of_an_existing_job_is_a_conflict_and_changes_nothing(api, event_log):
    job_id = f"job_fixed_{uuid.uuid4().hex[:8]}"
    assert create_job(api, id=job_id, name="Original") == job_id
    before = stored_state(api, job_id)
    head = event_log.head()
    response = api.post("/jobs", job_body(id=job_id, name="Impostor"))
    assert response.status_code == 409, response.text
    assert response.json()["success"] is False
    assert event_log.head() == head
    assert stored_state(api, job_id) == before
    assert listed_ids(api) == [job_id]
