"""The Job and Gateway aggregates: rules checked before events, state only from events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ActionNotSupported, JobNotFound, MaxJobsExceeded, ValidationFailed
from domain.gateway import Gateway
from domain.job import Job

NOW = datetime(2025, 3, 12, 15, 10, 20, tzinfo=timezone.utc)


def fields(**over):
    base = {
        "name": "Modbus Poll", "type": "interval", "schedule": {"interval_seconds": 10},
        "action": {"type": "publish", "topic": "device/data"}, "tags": ["modbus", "modbus", " polling "],
    }
    base.update(over)
    return base


def make(**over) -> Job:
    return Job.create(gateway_id="gw-1", job_id="job_001", fields=fields(**over), actor="alice", now=NOW)


def replay(job: Job) -> Job:
    events = job.collect_events()
    copy = None
    for event in events:
        copy = event.mutate(copy)
    return copy


def test_created_job_carries_actor_next_fire_and_clean_tags():
    job = make()
    (created,) = job.pending_events
    assert created.actor == "alice"
    assert created.next_execution == NOW + timedelta(seconds=10)
    assert job.config.tags == ["modbus", "polling"]
    assert job.id == Job.id_for("gw-1", "job_001")


def test_replay_rebuilds_the_same_state_without_revalidating():
    job = make()
    job.update({"schedule": {"interval_seconds": 30}, "tags": ["x"]}, actor="bob", now=NOW + timedelta(minutes=1))
    job.toggle(False, "maintenance", actor="bob", now=NOW + timedelta(minutes=2))
    copy = replay(job)
    assert copy.config == job.config and copy.enabled is False and copy.disabled_reason == "maintenance"
    assert copy.version == 3 and copy.next_execution is None


def test_an_update_of_the_same_schedule_type_merges_parameters_and_restarts_the_interval():
    job = make()
    later = NOW + timedelta(seconds=25)
    job.update({"schedule": {"interval_seconds": 30}}, actor="bob", now=later)
    assert job.config.schedule["interval_seconds"] == 30
    assert job.next_execution == later + timedelta(seconds=30)


def test_changing_the_type_needs_the_whole_schedule():
    job = make()
    with pytest.raises(ValidationFailed):
        job.update({"type": "daily", "schedule": {"interval_seconds": 5}}, actor="b", now=NOW)
    job.update({"type": "daily", "schedule": {"time": "01:00"}}, actor="b", now=NOW)
    assert job.config.schedule_type == "daily"
    assert job.next_execution == datetime(2025, 3, 13, 1, 0, tzinfo=timezone.utc)


def test_refused_commands_record_no_event():
    job = make()
    job.collect_events()
    for bad in ({"name": "  "}, {"action": {"type": "shell"}}, {"enabled": "yes"}, {"tags": "x"},
                {"schedule": {"interval_seconds": 0}}, {"options": {"overlap_policy": "sometimes"}}):
        with pytest.raises((ValidationFailed, ActionNotSupported)):
            job.update(bad, actor="b", now=NOW)
    assert job.pending_events == [] and job.version == 1


def test_toggling_to_the_current_state_records_nothing():
    job = make()
    job.collect_events()
    assert job.toggle(True, "", actor="a", now=NOW) is False
    assert job.pending_events == []


def test_a_deleted_job_refuses_every_command():
    job = make()
    job.delete(actor="a", now=NOW)
    with pytest.raises(JobNotFound):
        job.update({"name": "x"}, actor="a", now=NOW)
    with pytest.raises(JobNotFound):
        job.toggle(False, "", actor="a", now=NOW)
    with pytest.raises(JobNotFound):
        job.request_run("exec_1", {}, force=True, actor="a", now=NOW)


def test_a_disabled_job_runs_manually_only_when_forced():
    job = make(enabled=False)
    with pytest.raises(ValidationFailed):
        job.request_run("exec_1", {}, force=False, actor="a", now=NOW)
    job.request_run("exec_1", {"debug": True}, force=True, actor="a", now=NOW)
    assert job.pending_events[-1].parameters == {"debug": True}


def test_the_gateway_refuses_jobs_beyond_its_limit():
    gateway = Gateway.create("gw-1", NOW)
    gateway.add_job("a", max_jobs=2, now=NOW)
    gateway.add_job("b", max_jobs=2, now=NOW)
    with pytest.raises(MaxJobsExceeded):
        gateway.add_job("c", max_jobs=2, now=NOW)
    gateway.remove_job("a", now=NOW)
    gateway.add_job("c", max_jobs=2, now=NOW)
    assert gateway.job_ids == ["b", "c"]


def test_registering_unchanged_identity_records_nothing():
    gateway = Gateway.create("gw-1", NOW)
    gateway.register(name="GW", location="Building A", latitude=52.5, longitude=13.4, now=NOW)
    gateway.collect_events()
    gateway.register(name="GW", location="Building A", latitude=52.5, longitude=13.4, now=NOW)
    assert gateway.pending_events == [] and gateway.location_point == (52.5, 13.4)
