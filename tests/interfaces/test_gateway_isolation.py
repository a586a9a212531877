"""Nothing of gateway A is visible or changeable through gateway B's context."""

from __future__ import annotations

from tests.conftest import job_body, token
from tests.interfaces.contract import assert_error, create_job, listed_ids, ok_data, stored_state


def test_a_job_of_gateway_a_is_invisible_from_gateway_b(api, other_api):
    mine = create_job(api, tags=["only-in-a"])
    theirs = create_job(other_api, tags=["only-in-b"])
    assert_error(other_api.get(f"/jobs/{mine}"), 404, "JOB_NOT_FOUND")
    assert listed_ids(other_api) == [theirs]
    assert listed_ids(other_api, tags="only-in-a") == []
    tags = ok_data(other_api.get("/tags"), 200, "Tags retrieved successfully")["tags"]
    assert [t["name"] for t in tags] == ["only-in-b"]
    jobs = ok_data(other_api.get(f"/gateways/{other_api.gateway_id}/jobs"), 200, "Gateway jobs retrieved successfully")
    assert [j["id"] for j in jobs["jobs"]] == [theirs]
    status = ok_data(other_api.get("/status"), 200, "Scheduler status retrieved successfully")
    assert status["total_jobs"] == 1
    assert listed_ids(api) == [mine]


def test_a_job_of_gateway_a_is_unchangeable_from_gateway_b(api, other_api, event_log):
    mine = create_job(api)
    before = stored_state(api, mine)
    head = event_log.head()
    assert_error(other_api.put(f"/jobs/{mine}", {"name": "Hijacked"}), 404, "JOB_NOT_FOUND")
    assert_error(other_api.delete(f"/jobs/{mine}"), 404, "JOB_NOT_FOUND")
    assert_error(other_api.post(f"/jobs/{mine}/toggle", {"enabled": False}), 404, "JOB_NOT_FOUND")
    assert event_log.head() == head
    assert stored_state(api, mine) == before


def test_a_body_naming_another_gateway_is_forbidden(api, other_api, event_log):
    mine = create_job(api)
    before = stored_state(api, mine)
    head = event_log.head()
    assert_error(api.post("/jobs", job_body(gateway_id=other_api.gateway_id)), 403, "FORBIDDEN")
    assert_error(api.put(f"/jobs/{mine}", {"gateway_id": other_api.gateway_id, "name": "Moved"}), 403, "FORBIDDEN")
    assert event_log.head() == head
    assert listed_ids(api) == [mine]
    assert listed_ids(other_api) == []
    assert stored_state(api, mine) == before


def test_a_body_naming_its_own_gateway_is_accepted(api):
    job_id = create_job(api, gateway_id=api.gateway_id)
    response = api.put(f"/jobs/{job_id}", {"gateway_id": api.gateway_id, "name": "Same place"})
    assert ok_data(response, 200, "Job updated successfully")["job_id"] == job_id


def test_a_gateway_job_list_not_granted_by_the_token_is_forbidden(api, other_api):
    create_job(other_api)
    only_mine = {"Authorization": f"Bearer {token('viewer', [api.gateway_id])}", "X-Gateway-ID": api.gateway_id}
    response = api.http.get(f"{api.prefix}/gateways/{other_api.gateway_id}/jobs", headers=only_mine)
    assert_error(response, 403, "FORBIDDEN")


def test_a_gateway_job_list_granted_by_the_token_answers_in_another_context(api, other_api):
    """The contract's example: univa-gw-01's jobs asked in the context of GW-3920A9."""
    theirs = create_job(other_api)
    create_job(api)
    jobs = ok_data(api.as_role("viewer").get(f"/gateways/{other_api.gateway_id}/jobs"), 200,
                   "Gateway jobs retrieved successfully")
    assert jobs["gateway_id"] == other_api.gateway_id
    assert [j["id"] for j in jobs["jobs"]] == [theirs]


def test_the_job_list_of_an_unknown_gateway_is_gateway_not_found(api):
    assert_error(api.get("/gateways/gw-never-seen-0001/jobs"), 404, "GATEWAY_NOT_FOUND")
