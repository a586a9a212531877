"""The one mapping from domain events to the live feed's messages (interfaces/ws/routing.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from eventsourcing.utils import get_topic

from domain.execution import Execution
from domain.job import Job
from interfaces.ws.messages import JobRef, encode
from interfaces.ws.routing import (
    TOPICS,
    needs_job_ref,
    ref_of_created,
    route,
    to_message,
)

NOW = datetime(2025, 3, 12, 15, 10, 30, 123000, tzinfo=UTC)
GW, OTHER = "gw-a", "gw-b"


def _execution(**kw):
    fields = dict(gateway_id=GW, job_id="job_001", execution_id="exec_1", job_name="Modbus Poll",
                  trigger="scheduled", scheduled_for=NOW, now=NOW, max_attempts=3)
    fields.update(kw)
    return Execution.start(**fields)


def _job(**kw):
    fields = {"name": "Modbus Poll", "type": "interval", "schedule": {"interval_seconds": 10},
              "action": {"type": "publish", "topic": "t/x", "payload_template": "{}"}, "tags": ["modbus"]}
    fields.update(kw)
    return Job.create(gateway_id=GW, job_id="job_001", fields=fields, actor="alice", now=NOW)


def _wire(message):
    return json.loads(encode(message))


def test_a_started_run_is_job_started_with_its_position_and_utc_timestamp():
    started = _execution().pending_events[0]
    assert _wire(to_message(started, 42, GW)) == {
        "type": "job_started", "timestamp": "2025-03-12T15:10:30.123000Z", "position": 42,
        "data": {"job_id": "job_001", "job_name": "Modbus Poll", "execution_id": "exec_1", "trigger": "scheduled",
                 "scheduled_for": "2025-03-12T15:10:30.123000Z"},
    }


def test_outcomes_are_job_completed_and_job_failed_with_error_and_retry_count():
    run = _execution()
    run.fail(now=NOW + timedelta(seconds=1), duration_ms=5, code="ACTION_FAILED", error="boom", logs=[])
    run.retry(now=NOW + timedelta(seconds=2))
    run.succeed(now=NOW + timedelta(seconds=3), duration_ms=120, message="ok", logs=[])
    events = run.pending_events
    failed = _wire(to_message(events[1], 2, GW))
    assert failed["type"] == "job_failed"
    assert failed["data"] | {} == {
        "job_id": "job_001", "job_name": "Modbus Poll", "execution_id": "exec_1", "error": "boom", "retry_count": 0,
        "code": "ACTION_FAILED", "will_retry": True, "status": "retrying", "duration_ms": 5,
    }
    assert to_message(events[2], 3, GW) is None  # Retrying is not carried
    completed = _wire(to_message(events[3], 4, GW))
    assert completed == {
        "type": "job_completed", "timestamp": "2025-03-12T15:10:33.123000Z", "position": 4,
        "data": {"job_id": "job_001", "job_name": "Modbus Poll", "execution_id": "exec_1", "status": "success",
                 "duration_ms": 120},
    }


def test_a_final_failure_says_failed_or_timeout():
    run = _execution(max_attempts=1)
    run.fail(now=NOW, duration_ms=5, code="EXECUTION_TIMEOUT", error="too slow", logs=[])
    data = _wire(to_message(run.pending_events[-1], 9, GW))["data"]
    assert (data["status"], data["will_retry"], data["retry_count"]) == ("timeout", False, 0)


def test_a_missed_instant_is_job_missed_with_its_reason():
    missed = Execution.missed(gateway_id=GW, job_id="job_001", execution_id="exec_2", job_name="Modbus Poll",
                              scheduled_for=NOW, reason="downtime", now=NOW).pending_events[0]
    assert _wire(to_message(missed, 7, GW))["data"] == {
        "job_id": "job_001", "job_name": "Modbus Poll", "execution_id": "exec_2",
        "scheduled_for": "2025-03-12T15:10:30.123000Z", "reason": "downtime",
    }


def test_job_events_are_job_created_updated_toggled_deleted():
    job = _job()
    job.update({"name": "Renamed"}, actor="bob", now=NOW + timedelta(seconds=1))
    job.toggle(False, "maintenance", actor="bob", now=NOW + timedelta(seconds=2))
    job.delete(actor="carol", now=NOW + timedelta(seconds=3))
    created, updated, toggled, deleted = job.pending_events
    ref = ref_of_created(created)
    assert ref == JobRef(GW, "job_001", ("modbus",))
    assert needs_job_ref(created) is None and needs_job_ref(updated) == job.id
    wire = [_wire(to_message(e, i, GW, ref)) for i, e in enumerate(job.pending_events, start=1)]
    assert [m["type"] for m in wire] == ["job_created", "job_updated", "job_toggled", "job_deleted"]
    assert wire[0]["data"]["job_name"] == "Modbus Poll" and wire[0]["data"]["enabled"] is True
    assert wire[1]["data"]["job_name"] == "Renamed" and wire[1]["data"]["actor"] == "bob"
    assert wire[2]["data"] == {"job_id": "job_001", "enabled": False, "reason": "maintenance",
                               "next_execution": None, "actor": "bob"}
    assert wire[3]["data"] == {"job_id": "job_001", "actor": "carol"}
    assert [m["position"] for m in wire] == [1, 2, 3, 4]


def test_a_later_job_event_without_its_ref_is_not_carried():
    job = _job()
    job.delete(actor="carol", now=NOW)
    assert to_message(job.pending_events[1], 2, GW) is None


def test_another_gateways_events_are_none():
    started = _execution().pending_events[0]
    job = _job()
    job.delete(actor="x", now=NOW)
    assert to_message(started, 1, OTHER) is None
    assert to_message(job.pending_events[0], 2, OTHER) is None
    assert to_message(job.pending_events[1], 3, OTHER, JobRef(GW, "job_001")) is None
    assert route(started, 1)[0] == GW


def test_outcomes_recorded_before_they_named_their_execution_are_not_carried():
    run = _execution()
    run.succeed(now=NOW, duration_ms=1, message="", logs=[])
    old = run.pending_events[-1]
    object.__setattr__(old, "gateway_id", "")
    object.__setattr__(old, "execution_id", "")
    assert to_message(old, 5, GW) is None


def test_uninteresting_events_are_none_and_not_among_the_topics():
    job = _job()
    job.request_run("exec_9", {}, force=False, actor="a", now=NOW)
    requested = job.pending_events[-1]
    assert to_message(requested, 1, GW, JobRef(GW, "job_001")) is None
    assert "domain.job:Job.RunRequested" not in TOPICS and "domain.job:Job.Created" in TOPICS


# ---- what the filters look at: jobs and tags, carried by the events themselves ----------------


def test_execution_events_carry_the_jobs_tags_to_the_filters():
    run = _execution(tags=("modbus", "polling"))
    run.succeed(now=NOW, duration_ms=1, message="", logs=[])
    for i, event in enumerate(run.pending_events):
        routed = route(event, i)
        assert routed.job_ids == {"job_001"} and routed.tags == {"modbus", "polling"}
    missed = Execution.missed(gateway_id=GW, job_id="job_002", execution_id="exec_m", job_name="x",
                              scheduled_for=NOW, reason="late", now=NOW, tags=("backup",)).pending_events[0]
    assert route(missed, 9).tags == {"backup"}


def test_an_execution_event_recorded_before_tags_has_none():
    started = _execution(tags=("x",)).pending_events[0]
    object.__delattr__(started, "tags")  # as a v1 event loads: the field absent, the class default used
    assert started.tags == () and route(started, 1).tags == frozenset()


def test_later_job_events_carry_their_tags_and_older_ones_take_the_refs():
    job = _job()
    job.update({"tags": ["a", "b"]}, actor="bob", now=NOW + timedelta(seconds=1))
    job.toggle(False, "", actor="bob", now=NOW + timedelta(seconds=2))
    job.delete(actor="bob", now=NOW + timedelta(seconds=3))
    created, updated, toggled, deleted = job.pending_events
    ref = JobRef(GW, "job_001", ("from-ref",))
    assert route(created, 1).tags == {"modbus"}
    assert route(updated, 2, ref).tags == {"a", "b"}
    assert route(toggled, 3, ref).tags == {"a", "b"} and route(deleted, 4, ref).tags == {"a", "b"}
    object.__setattr__(toggled, "tags", None)  # as an event recorded before Toggled carried tags loads
    assert route(toggled, 3, ref).tags == {"from-ref"}


def test_a_group_of_runs_due_at_one_instant_is_a_schedule_event():
    from domain.fire_group import FireGroup

    group = FireGroup.start(GW, NOW, ["job_1", "job_2", "job_3"], ["a", "b", "a"], NOW).pending_events[0]
    routed = route(group, 77)
    assert _wire(routed.message) == {
        "type": "schedule_event", "timestamp": "2025-03-12T15:10:30.123000Z", "position": 77,
        "data": {"schedule_id": "instant_20250312151030123", "job_count": 3, "status": "started",
                 "job_ids": ["job_1", "job_2", "job_3"], "scheduled_for": "2025-03-12T15:10:30.123000Z"},
    }
    assert routed.job_ids == {"job_1", "job_2", "job_3"} and routed.tags == {"a", "b"}


def test_the_schedule_event_mapping_takes_a_group_id_a_count_and_a_status():
    from interfaces.ws.messages import schedule_event

    assert _wire(schedule_event("bulk_op_1", 12, "completed")) == {
        "schedule_id": "bulk_op_1", "job_count": 12, "status": "completed", "job_ids": [], "scheduled_for": None,
    }


def test_alerts_raised_and_cleared_are_resource_alert_about_no_job():
    from domain.resources import ResourceMonitor

    monitor = ResourceMonitor.create(GW, NOW)
    monitor.observe("cpu", 91.26, 85.0, 5.0, NOW)
    monitor.observe("cpu", 70.0, 85.0, 5.0, NOW + timedelta(seconds=30))
    _, raised, cleared = monitor.pending_events
    assert _wire(route(raised, 5).message) == {
        "type": "resource_alert", "timestamp": "2025-03-12T15:10:30.123000Z", "position": 5,
        "data": {"level": "warning", "resource": "cpu", "usage_percent": 91.3,
                 "message": "High CPU usage detected (91.3% >= 85%)", "state": "raised", "threshold": 85.0},
    }
    wire = _wire(route(cleared, 6).message)["data"]
    assert wire["state"] == "cleared" and wire["level"] == "info" and wire["usage_percent"] == 70.0
    assert route(raised, 5).job_ids == frozenset()
    assert to_message(raised, 5, OTHER) is None


def test_a_bulk_runs_execution_group_is_a_schedule_event_started_then_completed():
    from domain.execution_group import ExecutionGroup

    members = [{"job_id": "job_001", "execution_id": "exec_1"}, {"job_id": "job_002", "execution_id": "exec_2"}]
    group = ExecutionGroup.start(gateway_id=GW, group_id="group_1", sequential=False, members=members,
                                 include_tags=[], exclude_tags=[], now=NOW)
    group.member_started(0, now=NOW)
    group.member_started(1, now=NOW)
    group.member_finished(0, "success", now=NOW)
    group.member_finished(1, "failed", now=NOW)
    assert group.complete_if_done(now=NOW + timedelta(seconds=5))
    started, *_, completed = group.pending_events
    assert _wire(to_message(started, 7, GW))["data"] == {
        "schedule_id": "group_1", "job_count": 2, "status": "started", "job_ids": ["job_001", "job_002"],
        "scheduled_for": None}
    assert route(started, 7).job_ids == {"job_001", "job_002"}
    assert _wire(to_message(completed, 9, GW))["data"] == {
        "schedule_id": "group_1", "job_count": 2, "status": "completed_with_errors", "job_ids": [],
        "scheduled_for": None}
    assert to_message(completed, 9, OTHER) is None
    assert all(get_topic(type(e)) in TOPICS for e in (started, completed))


def test_a_reset_is_job_updated_without_a_lookup():
    job = _job()
    job.reset(keep_data=True, actor="admin", now=NOW + timedelta(minutes=1))
    reset = job.pending_events[-1]
    message = _wire(to_message(reset, 11, GW, JobRef(GW, "job_001", ("modbus",))))
    assert (message["type"], message["data"]["job_name"], message["data"]["enabled"], message["data"]["tags"]) == (
        "job_updated", "Modbus Poll", True, ["modbus"])
    assert get_topic(type(reset)) in TOPICS


def test_a_group_due_at_one_instant_completes_as_a_schedule_event_with_its_jobs():
    from domain.fire_group import FireGroup

    group = FireGroup.start(GW, NOW, ["job_1", "job_2"], ["a"], NOW, ["exec_1", "exec_2"])
    group.complete_if_done({"exec_1": "success", "exec_2": "timeout"}, now=NOW + timedelta(seconds=3))
    completed = group.pending_events[-1]
    routed = route(completed, 80)
    assert _wire(routed.message) == {
        "type": "schedule_event", "timestamp": "2025-03-12T15:10:33.123000Z", "position": 80,
        "data": {"schedule_id": "instant_20250312151030123", "job_count": 2, "status": "completed_with_errors",
                 "job_ids": ["job_1", "job_2"], "scheduled_for": "2025-03-12T15:10:30.123000Z"},
    }
    assert routed.job_ids == {"job_1", "job_2"} and routed.tags == {"a"}  # filtered as its Started is
    assert to_message(completed, 80, OTHER) is None and get_topic(type(completed)) in TOPICS
