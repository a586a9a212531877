"""The per-gateway job limit: the create past it is MAX_JOBS_EXCEEDED and writes nothing."""

from __future__ import annotations

from tests.conftest import job_body
from tests.interfaces.contract import assert_error, create_job, listed_ids


def test_create_past_the_job_limit_is_refused_and_writes_nothing(api, max_jobs_two, event_log):
    first, second = create_job(api, name="one"), create_job(api, name="two")
    head = event_log.head()
    error = assert_error(api.post("/jobs", job_body(name="three")), 409, "MAX_JOBS_EXCEEDED")
    assert error["details"]["max_jobs"] == 2
    assert event_log.head() == head
    assert listed_ids(api) == [first, second]
    assert api.get("/status").json()["data"]["total_jobs"] == 2


def test_the_job_limit_counts_per_gateway(api, other_api, max_jobs_two):
    create_job(api)
    create_job(api)
    assert_error(api.post("/jobs", job_body()), 409, "MAX_JOBS_EXCEEDED")
    other = create_job(other_api)
    assert listed_ids(other_api) == [other]
