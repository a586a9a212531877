"""The Scheduler's one commit point: every aggregate a command changes is saved together, each
event carrying the command's cause; a plan records nothing (in-memory store: the logic, fast)."""

from __future__ import annotations

import json
import uuid
from dataclasses import fields

import pytest
from eventsourcing.persistence import StoredEvent

from application.commands import CommandContext, CreateJob, DeleteJob, RunJob, ToggleJob, UpdateJob
from application.scheduler import CAUSE_FIELDS, Scheduler
from domain.errors import MaxJobsExceeded, VersionConflict
from domain.gateway import Gateway
from domain.identity import gateway_uuid, job_uuid
from domain.job import Job

ACTION = {"type": "publish", "topic": "t/commit", "payload_template": "x"}


def _app(max_jobs: int = 1000) -> Scheduler:
    return Scheduler({"PERSISTENCE_MODULE": "eventsourcing.popo"}, max_jobs=max_jobs)


def _create(gateway_id: str, **kw: object) -> CreateJob:
    return CreateJob(gateway_id=gateway_id, name="n", type="interval", schedule={"interval_seconds": 60},
                     action=ACTION, **kw)  # type: ignore[arg-type]


def _causes(app: Scheduler, aggregate_id: uuid.UUID) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(type(e).__qualname__, e.actor, e.request_id, e.operation_id) for e in app.events.get(aggregate_id)]


def _head(app: Scheduler) -> int:
    return app.recorder.max_notification_id() or 0


def test_every_event_of_a_command_carries_its_cause_as_stored():
    app, gw = _app(), f"gw-{uuid.uuid4().hex[:8]}"
    context = CommandContext("alice", "req-1", "op-7")
    job_id = app.execute(_create(gw), context).job.job_id  # type: ignore[union-attr]
    app.execute(ToggleJob(gw, job_id, False, "pause"), CommandContext("bob", "req-2"))
    app.execute(DeleteJob(gw, job_id), CommandContext("carol", "req-3"))
    assert _causes(app, job_uuid(gw, job_id)) == [
        ("Job.Created", "alice", "req-1", "op-7"),
        ("Job.Toggled", "bob", "req-2", None),
        ("Job.Deleted", "carol", "req-3", None),
    ]
    assert _causes(app, gateway_uuid(gw)) == [
        ("Gateway.Created", "alice", "req-1", "op-7"),
        ("Gateway.JobAdded", "alice", "req-1", "op-7"),
        ("Gateway.JobRemoved", "carol", "req-3", None),
    ]


class RacedScheduler(Scheduler):
    """Another writer changes the gateway between a command's load and its save, once."""

    race = False

    def gateway(self, gateway_id: str) -> Gateway | None:
        copy = super().gateway(gateway_id)
        if self.race:
            self.race = False
            other = super().gateway(gateway_id)
            assert other is not None
            other.register(name="raced", location="", latitude=None, longitude=None, now=self.clock())
            self.save(other)
        return copy


def test_the_aggregates_of_a_command_are_saved_all_or_nothing():
    app, gw = RacedScheduler({"PERSISTENCE_MODULE": "eventsourcing.popo"}), f"gw-{uuid.uuid4().hex[:8]}"
    job = app.execute(_create(gw), CommandContext("alice", "req-1")).job
    assert job is not None
    app.race = True
    with pytest.raises(VersionConflict, match="changed concurrently"):  # the gateway's save collided...
        app.execute(DeleteJob(gw, job.job_id, expected_version=job.version), CommandContext("bob", "req-2"))
    assert not app.job(gw, job.job_id).deleted  # ...so the job's was not recorded either
    app.race = True  # without If-Match the command re-runs on fresh state and both are recorded
    saved = app.execute(DeleteJob(gw, job.job_id), CommandContext("bob", "req-3"))
    assert sorted(topic for topic, _ in saved.recorded) == ["domain.gateway:Gateway.JobRemoved", "domain.job:Job.Deleted"]
    assert app.gateway(gw).job_ids == []  # type: ignore[union-attr]


def test_every_event_of_a_job_or_gateway_declares_the_cause_fields():
    classes = [Job.Created, Job.Updated, Job.Toggled, Job.Deleted, Job.RunRequested,
               Gateway.Created, Gateway.Registered, Gateway.JobAdded, Gateway.JobRemoved]
    for cls in classes:
        assert set(CAUSE_FIELDS) <= {f.name for f in fields(cls)}, cls


def test_an_event_recorded_before_the_cause_fields_loads_without_them():
    app, gw = _app(), f"gw-{uuid.uuid4().hex[:8]}"
    app.execute(_create(gw), CommandContext("alice", "req-1"))
    stored = app.mapper.to_stored_event(next(iter(app.events.get(gateway_uuid(gw), lte=1))))
    state = json.loads(stored.state)
    for name in CAUSE_FIELDS:
        state.pop(name)
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    event = app.mapper.to_domain_event(old)
    assert (event.actor, event.request_id, event.operation_id, event.gateway_id) == (None, None, None, gw)


def test_a_plan_returns_the_events_with_their_cause_and_records_nothing():
    app, gw = _app(), f"gw-{uuid.uuid4().hex[:8]}"
    job_id = app.execute(_create(gw), CommandContext("alice", "req-1")).job.job_id  # type: ignore[union-attr]
    before = _head(app)
    planned = app.plan(DeleteJob(gw, job_id), CommandContext("bob", "req-2", "op-1"))
    assert [(type(e).__qualname__, e.actor, e.request_id, e.operation_id) for e in planned] == [
        ("Job.Deleted", "bob", "req-2", "op-1"), ("Gateway.JobRemoved", "bob", "req-2", "op-1"),
    ]
    assert _head(app) == before
    assert not app.job(gw, job_id).deleted  # the plan's copies were dropped, not cached
    assert job_id in app.gateway(gw).job_ids  # type: ignore[union-attr]


def test_a_refused_command_records_no_event():
    app, gw = _app(max_jobs=1), f"gw-{uuid.uuid4().hex[:8]}"
    app.execute(_create(gw), CommandContext("alice", "req-1"))
    before = _head(app)
    with pytest.raises(MaxJobsExceeded):
        app.execute(_create(gw), CommandContext("alice", "req-2"))
    assert _head(app) == before


def test_a_stale_expected_version_is_a_conflict_and_records_nothing():
    app, gw = _app(), f"gw-{uuid.uuid4().hex[:8]}"
    job = app.execute(_create(gw), CommandContext("alice", "req-1")).job
    assert job is not None
    app.execute(UpdateJob(gw, job.job_id, name="renamed"), CommandContext("alice", "req-2"))
    before = _head(app)
    with pytest.raises(VersionConflict):
        app.execute(UpdateJob(gw, job.job_id, name="again", expected_version=job.version), CommandContext("bob", "r"))
    assert _head(app) == before
    assert app.job(gw, job.job_id).config.name == "renamed"


def test_a_run_request_answers_the_execution_id_it_recorded():
    app, gw = _app(), f"gw-{uuid.uuid4().hex[:8]}"
    job_id = app.execute(_create(gw), CommandContext("alice", "req-1")).job.job_id  # type: ignore[union-attr]
    saved = app.execute(RunJob(gw, job_id, {"k": "v"}), CommandContext("bob", "req-2"))
    requested = list(app.events.get(job_uuid(gw, job_id)))[-1]
    assert (requested.execution_id, requested.parameters, requested.request_id) == (saved.execution_id, {"k": "v"}, "req-2")


def test_something_that_is_not_a_command_is_refused():
    with pytest.raises(TypeError, match="not a command"):
        _app().execute({"name": "n"}, CommandContext("alice", None))  # type: ignore[arg-type]
