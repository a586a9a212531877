"""Bulk operations (issue 12): run all (execution groups, sequential order, a restart mid-group),
disable all (re-enabled at the deadline, also across a dispatcher restart, leaving what an operator
changed), reset all (keep_data), the operation guard, roles and bad bodies; through the real app,
the real database and real dispatchers (with a fake executor and a clock that can be moved on)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from application.clock import utc_now
from application.dispatch.heartbeat import Heartbeat
from application.dispatch.process import DispatchProcess
from domain.job import Job
from interfaces.database import conninfo
from tests.application.dispatch_support import FakeExecutor, dispatcher, sleeper, wait_until
from tests.conftest import Api, job_body


class Shift:
    """The real clock moved on by `offset` (the dispatcher's, to reach a deadline now)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.offset


class Fleet:
    """An admin client of a fresh gateway, with its heartbeat, and dispatchers started on demand."""

    def __init__(self, http: Any, runtime: Any) -> None:
        self.runtime = runtime
        self.gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
        self.admin = Api(http, self.gateway_id, role="admin")
        self.clock = Shift()
        self.executor = FakeExecutor()
        self.dispatchers: list[Any] = []
        self.heartbeat: Heartbeat | None = None
        self.shared: DispatchProcess | None = None  # the parts a worker process shares, when used

    def use_process_parts(self) -> None:
        self.shared = DispatchProcess(self.runtime.app, conninfo(self.runtime.url), self.clock)

    def online(self) -> None:
        self.heartbeat = Heartbeat(conninfo(self.runtime.url), self.gateway_id, every=0.5)
        self.heartbeat.start()

    def start_dispatcher(self) -> Any:
        d = dispatcher(self.runtime, self.gateway_id, self.executor, clock=self.clock, shared=self.shared)
        d.start()
        self.dispatchers.append(d)
        assert wait_until(lambda: d.leadership.held and d.follow_ups.passes > 0, timeout=30)
        return d

    def job(self, **overrides: Any) -> str:
        body = job_body(schedule={"interval_seconds": 3600}, **overrides)
        r = self.admin.post("/jobs", body)
        assert r.status_code == 201, r.text
        return r.json()["data"]["job_id"]

    def detail(self, job_id: str) -> dict[str, Any]:
        r = self.admin.get(f"/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()["data"]["job"]

    def group(self, group_id: str) -> dict[str, Any]:
        r = self.admin.get(f"/execution-groups/{group_id}")
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def group_ended(self, group_id: str, timeout: float = 20) -> dict[str, Any]:
        assert wait_until(lambda: self.group(group_id)["status"] != "running", timeout=timeout), self.group(group_id)
        return self.group(group_id)

    def stop(self) -> None:
        for d in self.dispatchers:
            if not d._stopping.is_set():
                d.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.shared is not None:
            self.shared.stop()


@pytest.fixture
def fleet(http: Any, runtime: Any) -> Iterator[Fleet]:
    f = Fleet(http, runtime)
    try:
        yield f
    finally:
        f.stop()


def _events(runtime: Any, gateway_id: str, job_id: str) -> list[Any]:
    return runtime.app.job_events(gateway_id, job_id)


# ---- disable all ----------------------------------------------------------------------------


def test_disable_all_answers_the_contract_and_marks_every_event_with_its_operation(fleet, runtime):
    a, b = fleet.job(name="A"), fleet.job(name="B")
    off = fleet.job(name="off", enabled=False)
    r = fleet.admin.post("/jobs/disable/all", {"gateway_id": fleet.gateway_id, "reason": "maintenance",
                                               "duration_minutes": 60})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["message"] == "All jobs disabled successfully"
    data = body["data"]
    assert data["gateway_id"] == fleet.gateway_id and data["disabled_count"] == 2
    until = datetime.fromisoformat(data["disabled_until"])
    assert data["disabled_until"].endswith("Z")
    assert timedelta(minutes=59) < until - utc_now() <= timedelta(minutes=60)
    uuid.UUID(data["operation_id"])
    for job_id in (a, b):
        detail = fleet.detail(job_id)
        assert detail["enabled"] is False and detail["metadata"]["disabled_reason"] == "maintenance"
        last = _events(runtime, fleet.gateway_id, job_id)[-1]
        assert isinstance(last, Job.Toggled) and last.operation_id == data["operation_id"]
        assert last.actor == "tester" and last.request_id
    assert not any(getattr(e, "operation_id", None) for e in _events(runtime, fleet.gateway_id, off))
    operation = runtime.operations.get(data["operation_id"])
    assert operation.state == "completed" and operation.kind == "disable_all"


@pytest.mark.parametrize("parts", ["own-parts", "process-parts"])
def test_disable_all_re_enables_at_the_deadline_only_what_it_disabled_and_nobody_changed(fleet, runtime, parts):
    if parts == "process-parts":  # the process's follow-up thread (ProcessFollowUps) does it
        fleet.use_process_parts()
    untouched, edited, toggled = fleet.job(name="untouched"), fleet.job(name="edited"), fleet.job(name="toggled")
    before = fleet.job(name="disabled before", enabled=False)
    fleet.start_dispatcher()
    r = fleet.admin.post("/jobs/disable/all", {"reason": "window", "duration_minutes": 1})
    assert r.status_code == 200, r.text
    operation_id = r.json()["data"]["operation_id"]
    assert r.json()["data"]["disabled_count"] == 3
    # Meanwhile an operator renames one (it stays disabled, as set) and enables then disables another.
    assert fleet.admin.put(f"/jobs/{edited}", {"name": "edited by hand"}).status_code == 200
    for enabled in (True, False):
        assert fleet.admin.post(f"/jobs/{toggled}/toggle", {"enabled": enabled, "reason": "hand"}).status_code == 200
    passes = fleet.dispatchers[0].follow_ups.passes
    assert wait_until(lambda: fleet.dispatchers[0].follow_ups.passes >= passes + 2)
    assert fleet.detail(untouched)["enabled"] is False  # not before its deadline
    fleet.clock.offset = timedelta(minutes=1, seconds=1)
    assert wait_until(lambda: fleet.detail(untouched)["enabled"] is True, timeout=30)
    assert [fleet.detail(j)["enabled"] for j in (edited, toggled, before)] == [False, False, False]
    last = _events(runtime, fleet.gateway_id, untouched)[-1]
    assert isinstance(last, Job.Toggled) and last.enabled and last.operation_id == operation_id
    assert wait_until(lambda: runtime.operations.due(fleet.gateway_id, fleet.clock()) == [])


def test_disable_all_re_enables_on_time_across_a_dispatcher_restart(fleet, runtime):
    job_id = fleet.job(name="restart")
    first = fleet.start_dispatcher()
    r = fleet.admin.post("/jobs/disable/all", {"duration_minutes": 5})
    assert r.status_code == 200 and r.json()["data"]["disabled_count"] == 1
    first.stop()  # the dispatcher that saw the operation is gone; a new one knows it from the database
    second = fleet.start_dispatcher()
    assert second is not first and fleet.detail(job_id)["enabled"] is False
    fleet.clock.offset = timedelta(minutes=5, seconds=1)
    assert wait_until(lambda: fleet.detail(job_id)["enabled"] is True, timeout=30)
    events = _events(runtime, fleet.gateway_id, job_id)
    assert sum(1 for e in events if isinstance(e, Job.Toggled) and e.enabled) == 1


def test_disable_all_without_a_duration_leaves_the_jobs_disabled(fleet, runtime):
    job_id = fleet.job()
    r = fleet.admin.post("/jobs/disable/all", {})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["disabled_until"] is None
    assert runtime.operations.get(r.json()["data"]["operation_id"]).follow_up_at is None
    assert fleet.detail(job_id)["enabled"] is False


# ---- the guard ------------------------------------------------------------------------------


def test_a_bulk_operation_while_another_runs_on_the_gateway_is_operation_in_progress(fleet, runtime, event_log):
    fleet.job()
    running = runtime.operations.begin(fleet.gateway_id, "import", "someone")
    head = event_log.head()
    for path, body in (("/jobs/disable/all", {}), ("/jobs/reset/all", {}), ("/jobs/run/all", {})):
        r = fleet.admin.post(path, body)
        if path == "/jobs/run/all":  # refused as offline first: the gateway has no worker
            assert r.status_code == 503
            continue
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "OPERATION_IN_PROGRESS" and error["details"]["operation_id"] == running.id
    assert event_log.head() == head
    other = Api(fleet.admin.http, f"gw-{uuid.uuid4().hex[:10]}", role="admin")
    assert other.post("/jobs/disable/all", {}).status_code == 200  # another gateway is not blocked
    runtime.operations.finish(running.id)
    assert fleet.admin.post("/jobs/disable/all", {}).status_code == 200


def test_an_operation_whose_process_died_stops_blocking_once_expired(fleet, runtime):
    stale = runtime.operations.begin(fleet.gateway_id, "disable_all", "dead", expires=timedelta(seconds=-1))
    r = fleet.admin.post("/jobs/disable/all", {})
    assert r.status_code == 200, r.text
    assert runtime.operations.get(stale.id).state == "running"


# ---- run all --------------------------------------------------------------------------------


def test_run_all_starts_every_enabled_matching_job_once_as_one_group(fleet, runtime):
    a = fleet.job(name="A", tags=["x"])
    fleet.job(name="B", tags=["maintenance"])
    c = fleet.job(name="C", tags=["x", "y"])
    fleet.job(name="D", tags=["x"], enabled=False)
    fleet.online()
    fleet.start_dispatcher()
    r = fleet.admin.post("/jobs/run/all", {"gateway_id": fleet.gateway_id, "exclude_tags": ["maintenance"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"] == "All jobs execution started"
    data = body["data"]
    assert (data["total_jobs"], data["started_jobs"], data["status"]) == (2, 2, "started")
    assert data["execution_group_id"].startswith("group_")
    group = fleet.group_ended(data["execution_group_id"])
    assert group["status"] == "completed" and group["operation_id"] == data["operation_id"]
    assert [m["job_id"] for m in group["members"]] == [a, c]
    assert all(m["state"] == "finished" and m["execution"]["status"] == "success" for m in group["members"])
    ran = sorted(ctx.job_id for _, ctx in fleet.executor.calls)
    assert ran == sorted([a, c])
    for m in group["members"]:
        execution = fleet.admin.get(f"/executions/{m['execution_id']}").json()["data"]["execution"]
        assert execution["trigger"] == "manual"
    run_requests = [e for e in _events(runtime, fleet.gateway_id, a) if isinstance(e, Job.RunRequested)]
    assert [e.operation_id for e in run_requests] == [data["operation_id"]]
    r = fleet.admin.post("/jobs/run/all", {"include_tags": ["y"]})
    assert r.status_code == 200 and r.json()["data"]["total_jobs"] == 1
    assert [m["job_id"] for m in fleet.group_ended(r.json()["data"]["execution_group_id"])["members"]] == [c]


def test_run_all_with_nothing_to_run_is_a_completed_empty_group(fleet):
    fleet.job(tags=["only"])
    fleet.online()
    r = fleet.admin.post("/jobs/run/all", {"include_tags": ["nothing"], "sequential": True})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["total_jobs"], data["started_jobs"], data["status"]) == (0, 0, "completed")
    assert wait_until(lambda: fleet.admin.get(f"/execution-groups/{data['execution_group_id']}").status_code == 200)
    assert fleet.group(data["execution_group_id"])["status"] == "completed"
    assert fleet.admin.post("/jobs/disable/all", {}).status_code == 200  # its operation has ended


def test_sequential_run_all_starts_each_job_when_the_one_before_finished(fleet, runtime):
    jobs = [fleet.job(name=f"seq {i}") for i in range(3)]
    fleet.executor.behaviour = sleeper(0.3)
    fleet.online()
    fleet.start_dispatcher()
    r = fleet.admin.post("/jobs/run/all", {"sequential": True})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["total_jobs"], data["started_jobs"], data["status"], data["sequential"]) == (3, 1, "started", True)
    # The group's operation runs until the group ends: another bulk operation waits.
    refused = fleet.admin.post("/jobs/disable/all", {})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "OPERATION_IN_PROGRESS"
    group = fleet.group_ended(data["execution_group_id"])
    members = group["members"]
    assert [m["job_id"] for m in members] == jobs and group["status"] == "completed"
    for before, after in zip(members, members[1:], strict=False):
        assert after["execution"]["start_time"] >= before["execution"]["end_time"]
    assert [ctx.job_id for _, ctx in sorted(fleet.executor.calls, key=lambda c: c[0])] == jobs
    assert wait_until(lambda: runtime.operations.get(data["operation_id"]).state == "completed")
    assert fleet.admin.post("/jobs/disable/all", {}).status_code == 200


def test_sequential_run_all_carries_on_after_a_dispatcher_restart_mid_group(fleet, runtime):
    jobs = [fleet.job(name=f"restart {i}") for i in range(3)]
    fleet.executor.behaviour = sleeper(0.5)
    fleet.online()
    first = fleet.start_dispatcher()
    group_id = fleet.admin.post("/jobs/run/all", {"sequential": True}).json()["data"]["execution_group_id"]
    assert wait_until(lambda: fleet.group(group_id)["members"][0]["state"] == "finished", timeout=30)
    first.stop()
    states = [m["state"] for m in fleet.group(group_id)["members"]]
    assert states[2] == "waiting" and fleet.group(group_id)["status"] == "running"
    fleet.start_dispatcher()
    group = fleet.group_ended(group_id)
    assert group["status"] == "completed", group
    assert [m["job_id"] for m in group["members"]] == jobs
    runs = [ctx.execution_id for _, ctx in fleet.executor.calls]
    assert sorted(runs) == sorted(m["execution_id"] for m in group["members"])  # each exactly once


def test_an_unknown_execution_group_is_not_found(fleet):
    r = fleet.admin.get("/execution-groups/group_nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


# ---- reset all ------------------------------------------------------------------------------


def test_reset_all_restores_defaults_and_keep_data_false_forgets_statistics_and_history(fleet, runtime):
    tuned = fleet.job(name="tuned", enabled=False, options={"max_attempts": 3, "timeout_seconds": 10})
    ran = fleet.job(name="ran")
    fleet.online()
    fleet.start_dispatcher()
    run = fleet.admin.as_role("operator").post(f"/jobs/{ran}/run", {})
    assert run.status_code == 200, run.text
    execution_id = run.json()["data"]["execution_id"]
    assert wait_until(lambda: fleet.detail(ran)["statistics"]["total_executions"] == 1)

    r = fleet.admin.post("/jobs/reset/all", {"keep_data": True})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["reset_count"], data["kept_execution_history"]) == (2, True)
    assert r.json()["message"] == "All jobs reset to defaults"
    detail = fleet.detail(tuned)
    assert detail["enabled"] is True and detail["status"] == "active" and detail["metadata"]["disabled_reason"] == ""
    assert detail["configuration"]["options"]["max_attempts"] == 1
    assert detail["configuration"]["options"]["timeout_seconds"] == 300
    assert detail["next_execution"] is not None
    assert fleet.detail(ran)["statistics"]["total_executions"] == 1
    assert fleet.admin.get(f"/jobs/{ran}/history").json()["data"]["total_executions"] == 1

    r = fleet.admin.post("/jobs/reset/all", {"keep_data": False})
    assert r.status_code == 200 and r.json()["data"]["kept_execution_history"] is False
    operation_id = r.json()["data"]["operation_id"]
    statistics = fleet.detail(ran)["statistics"]
    assert statistics["total_executions"] == 0 and statistics["last_execution"] is None
    assert fleet.admin.get(f"/jobs/{ran}/history").json()["data"]["history"] == []
    assert fleet.admin.get(f"/executions/{execution_id}").status_code == 404
    last = _events(runtime, fleet.gateway_id, ran)[-1]
    assert isinstance(last, Job.Reset) and not last.keep_data and last.operation_id == operation_id
    assert fleet.executor.calls  # and the log keeps the execution's events
    assert runtime.app.execution(fleet.gateway_id, execution_id).status == "success"


# ---- roles and bad bodies -----------------------------------------------------------------------

BULK = ("/jobs/run/all", "/jobs/disable/all", "/jobs/reset/all")


@pytest.mark.parametrize("role", ["operator", "viewer"])
@pytest.mark.parametrize("path", BULK)
def test_bulk_operations_are_refused_to_operator_and_viewer(api, role, path, event_log):
    api.post("/jobs", job_body())
    head = event_log.head()
    r = api.as_role(role).post(path, {})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert event_log.head() == head


def test_a_viewer_reads_an_execution_group(fleet):
    fleet.job(enabled=False)
    fleet.online()
    group_id = fleet.admin.post("/jobs/run/all", {}).json()["data"]["execution_group_id"]
    assert wait_until(lambda: fleet.admin.get(f"/execution-groups/{group_id}").status_code == 200)
    assert fleet.admin.as_role("viewer").get(f"/execution-groups/{group_id}").status_code == 200


@pytest.mark.parametrize(("path", "body"), [
    ("/jobs/disable/all", {"duration_minutes": 0}),
    ("/jobs/disable/all", {"duration_minutes": -5}),
    ("/jobs/disable/all", {"duration_minutes": 60 * 24 * 31}),
    ("/jobs/disable/all", {"duration_minutes": "60"}),
    ("/jobs/disable/all", {"duration_minutes": 1.5}),
    ("/jobs/disable/all", {"reason": 7}),
    ("/jobs/disable/all", {"reason": "x" * 501}),
    ("/jobs/disable/all", {"until": "later"}),
    ("/jobs/reset/all", {"keep_data": "yes"}),
    ("/jobs/reset/all", {"keep_data": 0}),
    ("/jobs/run/all", {"sequential": "true"}),
    ("/jobs/run/all", {"exclude_tags": "maintenance"}),
    ("/jobs/run/all", {"include_tags": [""]}),
    ("/jobs/run/all", {"exclude_tags": [1]}),
    ("/jobs/run/all", [1, 2]),
])
def test_bad_bodies_are_validation_errors_and_write_nothing(fleet, path, body, event_log, runtime):
    fleet.job()
    head = event_log.head()
    r = fleet.admin.post(path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert event_log.head() == head
    assert runtime.reads.all("SELECT id FROM operations WHERE gateway_id = %(g)s", {"g": fleet.gateway_id}) == []


@pytest.mark.parametrize("path", BULK)
def test_a_body_that_is_not_json_or_names_another_gateway_is_refused(fleet, path, event_log):
    fleet.job()
    head = event_log.head()
    r = fleet.admin.http.post(fleet.admin.prefix + path, content=b"{not json",
                              headers=fleet.admin.headers({"Content-Type": "application/json"}))
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = fleet.admin.post(path, {"gateway_id": "gw-someone-else"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert event_log.head() == head
