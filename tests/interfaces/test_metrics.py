"""Prometheus /metrics: no token needed; requests by route, the read side's positions and the
dispatcher's work, read from a real worker firing a real job."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import job_body
from tests.interfaces.test_job_runs import worker_api  # noqa: F401 - a real worker in a gateway of its own


def samples(http: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text) for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_by_route_and_show_the_read_side_positions(http, api):
    before = value(samples(http), "gateway_scheduler_http_requests_total",
                   method="GET", route="/api/v1/scheduler/jobs/{job_id}", status="404")
    api.get("/jobs/job_missing00000")
    api.get("/jobs/job_missing00001")
    created = api.post("/jobs", job_body())
    assert created.status_code == 201
    found = samples(http)
    assert value(found, "gateway_scheduler_http_requests_total",
                 method="GET", route="/api/v1/scheduler/jobs/{job_id}", status="404") == before + 2
    assert value(found, "gateway_scheduler_http_requests_total",
                 method="POST", route="/api/v1/scheduler/jobs", status="201") >= 1
    head = value(found, "gateway_scheduler_event_log_position")
    assert head > 0
    assert value(found, "gateway_scheduler_projection_position", projection="job_list") > 0
    assert ("process_cpu_seconds_total", frozenset()) in found


def test_requests_refused_before_any_route_are_counted_and_carry_a_request_id(http):
    before = samples(http)
    unknown = http.get("/api/v1/scheduler/no-such-route")
    assert unknown.status_code == 404 and unknown.headers["x-request-id"]
    anonymous = http.get("/api/v1/scheduler/jobs")
    assert anonymous.status_code == 401 and anonymous.headers["x-request-id"]
    after = samples(http)
    for labels in ({"method": "GET", "route": "unmatched", "status": "404"},
                   {"method": "GET", "route": "/api/v1/scheduler/jobs", "status": "401"}):
        assert value(after, "gateway_scheduler_http_requests_total", **labels) == \
            value(before, "gateway_scheduler_http_requests_total", **labels) + 1


def test_metrics_show_what_the_dispatcher_fired_and_how_late(http, worker_api):  # noqa: F811
    gateway = worker_api.gateway_id
    body = job_body(schedule={"interval_seconds": 1}, action={"type": "system", "operation": "health_check"})
    assert worker_api.post("/jobs", body).status_code == 201
    deadline = time.monotonic() + 20
    while True:
        found = samples(http)
        fired = value(found, "gateway_scheduler_fires_total", gateway_id=gateway)
        finished = sum(value(found, "gateway_scheduler_executions_finished_total", gateway_id=gateway, status=s)
                       for s in ("success", "failed"))
        launched = value(found, "gateway_scheduler_fire_lateness_seconds_count", gateway_id=gateway)
        # a fire is counted when recorded, its lateness when launched (up to 100 ms later): wait for both
        if (fired >= 2 and finished >= 1 and launched >= 2) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert fired >= 2 and finished >= 1
    assert value(found, "gateway_scheduler_dispatcher_leader", gateway_id=gateway) == 1
    assert value(found, "gateway_scheduler_fire_lateness_seconds_count", gateway_id=gateway) >= 2
    # the runs land in the histogram's finite buckets (none lost beyond 10 s), counted cumulatively
    buckets = [value(found, "gateway_scheduler_fire_lateness_seconds_bucket", gateway_id=gateway, le=le)
               for le in ("0.001", "0.01", "0.1", "1.0", "10.0")]
    assert buckets == sorted(buckets) and buckets[-1] >= 2
