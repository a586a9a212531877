"""Bearer JWT on every API route: 401 without a valid token, 403 for a role or gateway it lacks."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.conftest import JWT_SECRET, job_body, token
from tests.interfaces.contract import assert_error, create_job, job_detail, listed_ids, ok_data

API = "/api/v1/scheduler"

READS = [
    ("GET", "/status"), ("GET", "/jobs"), ("GET", "/jobs/{job}"), ("GET", "/templates"), ("GET", "/tags"),
    ("GET", "/gateways"), ("GET", "/gateways/{gateway}/jobs"),
]
WRITES = [
    ("POST", "/jobs", job_body()), ("PUT", "/jobs/{job}", {"name": "Renamed"}), ("DELETE", "/jobs/{job}", None),
    ("POST", "/jobs/{job}/toggle", {"enabled": False}),
]
EVERY_ROUTE = [(m, p, None) for m, p in READS] + WRITES + [
    ("POST", "/schedules/validate", {"type": "interval", "interval_seconds": 10}),
]


def forged(exp_offset: int, role: str = "operator", secret: str = JWT_SECRET) -> str:
    """A token in the shape Litestar's Token encodes, with a chosen expiry and role."""
    now = int(time.time())
    payload = {"sub": "tester", "iat": now - 3600, "exp": now + exp_offset, "extras": {"role": role, "gateways": ["*"]}}
    return jwt.encode(payload, secret, algorithm="HS256")


def call(http, method, path, body, headers):
    return http.request(method, API + path, json=body, headers=headers)


@pytest.fixture
def job_id(api):
    return create_job(api)


@pytest.mark.parametrize(("method", "path", "body"), EVERY_ROUTE)
def test_every_route_without_a_token_is_unauthorized(http, api, job_id, event_log, method, path, body):
    head = event_log.head()
    url = path.format(job=job_id, gateway=api.gateway_id)
    assert_error(call(http, method, url, body, {"X-Gateway-ID": api.gateway_id}), 401, "UNAUTHORIZED")
    assert event_log.head() == head


@pytest.mark.parametrize("bearer", [
    pytest.param("not-a-jwt", id="garbage"),
    pytest.param(forged(3600, secret="another-secret-of-enough-length-123456"), id="wrong-secret"),
    pytest.param(forged(-60), id="expired"),
    pytest.param(forged(3600, role="superuser"), id="unknown-role"),
])
def test_an_invalid_token_is_unauthorized(http, api, job_id, bearer):
    headers = {"Authorization": f"Bearer {bearer}", "X-Gateway-ID": api.gateway_id}
    assert_error(call(http, "GET", "/jobs", None, headers), 401, "UNAUTHORIZED")
    assert_error(call(http, "PUT", f"/jobs/{job_id}", {"name": "x"}, headers), 401, "UNAUTHORIZED")
    assert job_detail(api, job_id)["name"] == "Modbus Poll"


def test_a_forged_token_with_a_future_expiry_is_accepted(http, api, job_id):
    """The control of the expired case: only the expiry makes the difference."""
    headers = {"Authorization": f"Bearer {forged(600)}", "X-Gateway-ID": api.gateway_id}
    assert listed_ids(api) == [job_id]
    assert ok_data(call(http, "GET", "/jobs", None, headers), 200, "Jobs retrieved successfully")["total_jobs"] == 1


@pytest.mark.parametrize(("method", "path"), READS)
def test_viewer_can_read_every_read_route(api, job_id, method, path):
    viewer = api.as_role("viewer")
    response = viewer.get(path.format(job=job_id, gateway=api.gateway_id))
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True


def test_viewer_can_validate_a_schedule(api):
    response = api.as_role("viewer").post("/schedules/validate", {"type": "interval", "interval_seconds": 10})
    assert ok_data(response, 200, "Schedule validation completed")["valid"] is True


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_viewer_cannot_change_anything(http, api, job_id, event_log, method, path, body):
    before = {k: v for k, v in job_detail(api, job_id).items() if k != "next_executions"}
    head = event_log.head()
    headers = {"Authorization": f"Bearer {token('viewer')}", "X-Gateway-ID": api.gateway_id}
    assert_error(call(http, method, path.format(job=job_id), body, headers), 403, "FORBIDDEN")
    assert event_log.head() == head
    assert listed_ids(api) == [job_id]
    assert {k: v for k, v in job_detail(api, job_id).items() if k != "next_executions"} == before


def test_a_token_for_gateway_a_is_forbidden_in_gateway_b(http, api, other_api, event_log):
    scoped = {"Authorization": f"Bearer {token('operator', [other_api.gateway_id])}"}
    own = call(http, "GET", "/jobs", None, {**scoped, "X-Gateway-ID": other_api.gateway_id})
    assert ok_data(own, 200, "Jobs retrieved successfully")["total_jobs"] == 0
    head = event_log.head()
    elsewhere = {**scoped, "X-Gateway-ID": api.gateway_id}
    assert_error(call(http, "GET", "/jobs", None, elsewhere), 403, "FORBIDDEN")
    assert_error(call(http, "GET", "/status", None, elsewhere), 403, "FORBIDDEN")
    assert_error(call(http, "POST", "/jobs", job_body(), elsewhere), 403, "FORBIDDEN")
    assert event_log.head() == head
    assert listed_ids(api) == []


def test_a_scoped_token_lists_only_its_gateways(http, api, other_api):
    create_job(api)
    create_job(other_api)
    bearer = token("viewer", [other_api.gateway_id])
    headers = {"Authorization": f"Bearer {bearer}", "X-Gateway-ID": other_api.gateway_id}
    data = ok_data(call(http, "GET", "/gateways", None, headers), 200, "Gateways retrieved successfully")
    assert [g["id"] for g in data["gateways"]] == [other_api.gateway_id]


@pytest.mark.parametrize(("method", "path", "body"), [("GET", "/jobs", None), ("POST", "/jobs", job_body()),
                                                      ("GET", "/status", None)])
def test_a_request_without_x_gateway_id_is_a_validation_error(http, event_log, method, path, body):
    head = event_log.head()
    response = call(http, method, path, body, {"Authorization": f"Bearer {token()}"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "X-Gateway-ID"
    assert event_log.head() == head


def test_a_malformed_x_gateway_id_is_a_validation_error(http):
    headers = {"Authorization": f"Bearer {token()}", "X-Gateway-ID": "gw a/../b"}
    assert_error(call(http, "GET", "/jobs", None, headers), 400, "VALIDATION_ERROR")


def test_a_cached_page_is_authorized_like_any_read(http, api, other_api, monkeypatch):
    """The job list answers a page read before from its cache, in front of the handler: the caller
    must still hold a valid token that grants the gateway, and gets the handler's exact answer."""
    from projections import job_queries

    create_job(api)
    first = api.get("/jobs", params={"limit": 5, "offset": 0})

    def no_query(*_args, **_kwargs):
        raise AssertionError("the cached page should have answered")

    monkeypatch.setattr(job_queries, "list_page", no_query)
    again = api.get("/jobs", params={"offset": 0, "limit": 5, "ignored": "x"})  # same page, other spelling
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    foreign = {"Authorization": f"Bearer {token('admin', [other_api.gateway_id])}", "X-Gateway-ID": api.gateway_id}
    refused = http.get(API + "/jobs", params={"limit": 5, "offset": 0}, headers=foreign)
    assert_error(refused, 403, "FORBIDDEN")
    assert refused.headers["x-request-id"]
    expired = {"Authorization": f"Bearer {forged(-10)}", "X-Gateway-ID": api.gateway_id}
    assert_error(http.get(API + "/jobs", params={"limit": 5}, headers=expired), 401, "UNAUTHORIZED")
    no_context = {"Authorization": f"Bearer {token()}"}
    assert_error(http.get(API + "/jobs", params={"limit": 5}, headers=no_context), 400, "VALIDATION_ERROR")


def test_the_caller_is_refused_before_the_body_or_headers_are_read(http, api, other_api, job_id, event_log):
    """Authorization comes first: a viewer's malformed command, or a bad If-Match in a gateway the
    token does not grant, is 403, not a validation error that would tell what the route accepts."""
    head = event_log.head()
    viewer = {"Authorization": f"Bearer {token('viewer')}", "X-Gateway-ID": api.gateway_id,
              "Content-Type": "application/json"}
    assert_error(http.post(API + "/jobs", content=b"{not json", headers=viewer), 403, "FORBIDDEN")
    assert_error(http.post(API + f"/jobs/{job_id}/run", content=b"[1,", headers=viewer), 403, "FORBIDDEN")
    foreign = {"Authorization": f"Bearer {token('operator', [other_api.gateway_id])}",
               "X-Gateway-ID": api.gateway_id, "If-Match": "not-a-version"}
    assert_error(http.delete(API + f"/jobs/{job_id}", headers=foreign), 403, "FORBIDDEN")
    assert event_log.head() == head


def test_an_api_route_that_skips_authorization_stops_the_service():
    from litestar import Litestar, get

    from interfaces.app import API_PREFIX, check_authorized

    @get(f"{API_PREFIX}/open", opt={"role": "viewer"}, sync_to_thread=False)
    def open_route() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="must declare opt role"):
        check_authorized(Litestar(route_handlers=[open_route], logging_config=None))
