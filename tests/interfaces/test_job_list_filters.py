"""GET /jobs: status, type, tags (any of), enabled filters; limit and offset; counts of the selection."""

from __future__ import annotations

import pytest

from tests.interfaces.contract import assert_error, create_job, listed_ids

CRON = {"type": "cron", "schedule": {"cron_expression": "*/5 * * * *"}}
DAILY = {"type": "daily", "schedule": {"time": "03:00", "timezone": "Europe/Berlin"}}


@pytest.fixture
def fleet(api):
    """Four jobs of the test's gateway, created in this order."""
    return {
        "a": create_job(api, name="a", tags=["alpha"]),
        "b": create_job(api, name="b", tags=["beta"], **CRON),
        "c": create_job(api, name="c", tags=["alpha", "gamma"], enabled=False, **DAILY),
        "d": create_job(api, name="d", tags=["delta"], enabled=False),
    }


def names(api, fleet, **params):
    by_id = {v: k for k, v in fleet.items()}
    return [by_id[i] for i in listed_ids(api, **params)]


def test_unfiltered_list_has_every_job_in_creation_order(api, fleet):
    assert names(api, fleet) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(("status", "expected"), [("active", ["a", "b"]), ("inactive", ["c", "d"]), ("error", [])])
def test_status_filter_selects_by_status(api, fleet, status, expected):
    assert names(api, fleet, status=status) == expected


@pytest.mark.parametrize(("job_type", "expected"), [("interval", ["a", "d"]), ("cron", ["b"]), ("daily", ["c"]),
                                                    ("weekly", [])])
def test_type_filter_selects_by_schedule_type(api, fleet, job_type, expected):
    assert names(api, fleet, type=job_type) == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ("alpha", ["a", "c"]), ("gamma", ["c"]), ("beta,delta", ["b", "d"]), (" beta , gamma ", ["b", "c"]),
    ("alpha,gamma", ["a", "c"]), ("nothing", []), ("nothing,delta", ["d"]),
])
def test_tags_filter_selects_jobs_with_any_of_the_tags(api, fleet, tags, expected):
    assert names(api, fleet, tags=tags) == expected


@pytest.mark.parametrize(("enabled", "expected"), [("true", ["a", "b"]), ("false", ["c", "d"])])
def test_enabled_filter_selects_by_enabled_state(api, fleet, enabled, expected):
    assert names(api, fleet, enabled=enabled) == expected


def test_filters_combine_with_and(api, fleet):
    assert names(api, fleet, tags="alpha", enabled="false") == ["c"]
    assert names(api, fleet, type="interval", status="active") == ["a"]
    assert names(api, fleet, type="cron", enabled="false") == []


def test_counts_describe_the_whole_selection_not_the_page(api, fleet):
    for params in ({"limit": 1}, {"limit": 1, "offset": 3}, {"limit": 2, "offset": 2}, {"offset": 10}):
        data = api.get("/jobs", params=params).json()["data"]
        assert (data["total_jobs"], data["active_jobs"]) == (4, 2), params
    data = api.get("/jobs", params={"offset": 10}).json()["data"]
    assert data["jobs"] == []


def test_limit_and_offset_page_through_in_creation_order(api, fleet):
    assert names(api, fleet, limit=2) == ["a", "b"]
    assert names(api, fleet, limit=2, offset=2) == ["c", "d"]
    assert names(api, fleet, limit=3, offset=3) == ["d"]
    assert names(api, fleet, limit=1, offset=1) == ["b"]
    assert names(api, fleet, offset=4) == []


def test_limit_defaults_to_50_and_allows_100(api):
    created = [create_job(api, name=f"job {i}") for i in range(51)]
    default = api.get("/jobs").json()["data"]
    assert [j["id"] for j in default["jobs"]] == created[:50]
    assert default["total_jobs"] == 51
    assert listed_ids(api, limit=100) == created
    assert listed_ids(api, limit=100, offset=50) == created[50:]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", str(10**20)])
def test_limit_outside_1_to_100_is_a_validation_error(api, limit):
    error = assert_error(api.get("/jobs", params={"limit": limit}), 400, "VALIDATION_ERROR")
    assert "limit" in str(error["details"])


@pytest.mark.parametrize("offset", ["-1", "abc", str(10**20)])
def test_bad_offset_is_a_validation_error(api, offset):
    error = assert_error(api.get("/jobs", params={"offset": offset}), 400, "VALIDATION_ERROR")
    assert "offset" in str(error["details"])


@pytest.mark.parametrize(("name", "value"), [("status", "paused"), ("type", "hourly"), ("enabled", "maybe")])
def test_unknown_filter_value_is_a_validation_error(api, name, value):
    error = assert_error(api.get("/jobs", params={name: value}), 400, "VALIDATION_ERROR")
    assert name in str(error["details"])


def test_a_repeated_query_parameter_is_refused_not_reduced_to_one_value(api):
    answer = api.get("/jobs?tags=alpha&tags=beta")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert answer.json()["error"]["details"] == {"field": "tags", "reason": "repeated"}
    assert api.get("/jobs?tags=alpha,beta").status_code == 200
