"""The ImportJobs command at the commit point (in-memory store: the logic, fast): merge skips what
exists, replace leaves exactly the file's jobs, one bad job anywhere records nothing, the plan token
refuses an apply after a change, every event carries the import's operation id."""

from __future__ import annotations

import uuid

import pytest

from application.commands import CommandContext, ImportJobs, ToggleJob
from application.scheduler import Scheduler
from domain.errors import ImportFailed, VersionConflict
from domain.identity import job_uuid


def _app(max_jobs: int = 1000) -> Scheduler:
    return Scheduler({"PERSISTENCE_MODULE": "eventsourcing.popo"}, max_jobs=max_jobs)


def _job(job_id: str, **kw: object) -> dict[str, object]:
    job = {"id": job_id, "name": f"job {job_id}", "type": "interval", "schedule": {"interval_seconds": 60},
           "action": {"type": "publish", "topic": f"t/{job_id}"}}
    job.update(kw)
    return job


def _head(app: Scheduler) -> int:
    return app.recorder.max_notification_id() or 0


def _import(app: Scheduler, gw: str, jobs: list, strategy: str = "merge", token: str | None = None, op: str = "op-1"):
    return app.execute(ImportJobs(gw, jobs, strategy, token), CommandContext("importer", "req-1", op))  # type: ignore[arg-type]


@pytest.fixture
def gw() -> str:
    return f"gw-{uuid.uuid4().hex[:8]}"


def test_merge_creates_new_jobs_skips_existing_ones_and_twice_records_nothing(gw):
    app = _app()
    first = _import(app, gw, [_job("a"), _job("b")])
    assert [(s.job_id, s.action) for s in first.report.steps] == [("a", "create"), ("b", "create")]
    events = list(app.events.get(job_uuid(gw, "a")))
    assert [(type(e).__qualname__, e.actor, e.operation_id) for e in events] == [("Job.Created", "importer", "op-1")]
    head = _head(app)
    again = _import(app, gw, [_job("a"), _job("b", name="renamed"), _job("c")], op="op-2")
    assert [(s.job_id, s.action, s.reason) for s in again.report.steps] == [
        ("a", "skip", "exists"), ("b", "skip", "exists"), ("c", "create", None)]
    assert app.job(gw, "b").config.name == "job b"
    head = _head(app)
    twice = _import(app, gw, [_job("a"), _job("c")], op="op-3")
    assert twice.recorded == () and _head(app) == head


def test_replace_updates_changed_jobs_deletes_others_and_keeps_unchanged_ones_untouched(gw):
    app = _app()
    _import(app, gw, [_job("a"), _job("b"), _job("c")])
    version_a = app.job(gw, "a").version
    saved = _import(app, gw, [_job("a"), _job("b", schedule={"interval_seconds": 30}), _job("d")], "replace", op="op-r")
    steps = {s.job_id: s for s in saved.report.steps}
    assert {k: v.action for k, v in steps.items()} == {"a": "skip", "b": "update", "c": "delete", "d": "create"}
    assert steps["a"].reason == "unchanged" and app.job(gw, "a").version == version_a
    assert steps["b"].changes == {"schedule": {"before": {"interval_seconds": 60, "jitter_percentage": 0},
                                               "after": {"interval_seconds": 30, "jitter_percentage": 0}}}
    assert sorted(app.gateway(gw).job_ids) == ["a", "b", "d"]
    assert [type(e).__qualname__ for e in app.events.get(job_uuid(gw, "c"))][-1] == "Job.Deleted"
    assert {e.operation_id for e in app.events.get(job_uuid(gw, "c"))} >= {"op-r"}


def test_one_bad_job_anywhere_records_nothing_and_names_every_bad_job(gw):
    app = _app()
    _import(app, gw, [_job("a")])
    head = _head(app)
    jobs = [_job("b"), _job("c", schedule={"interval_seconds": 0}), _job("d"), _job("e", action={"type": "teleport"}),
            _job("b")]
    with pytest.raises(ImportFailed) as refused:
        _import(app, gw, jobs, "replace")
    errors = refused.value.details["errors"]
    assert [(e["index"], e["id"], e["field"]) for e in errors] == [
        (1, "c", "schedule.interval_seconds"), (3, "e", "action.type"), (4, "b", "id")]
    assert _head(app) == head and app.gateway(gw).job_ids == ["a"]


def test_a_plan_token_refuses_the_apply_once_the_gateway_changed(gw):
    app = _app()
    _import(app, gw, [_job("a")])
    events, report = app.preview(ImportJobs(gw, [_job("a", name="new")], "replace"), CommandContext("x", None))
    assert [type(e).__qualname__ for e in events] == ["Job.Updated"] and app.job(gw, "a").config.name == "job a"
    app.execute(ToggleJob(gw, "a", False, "pause"), CommandContext("other", None))
    head = _head(app)
    with pytest.raises(VersionConflict) as refused:
        _import(app, gw, [_job("a", name="new")], "replace", token=report.plan_token)
    assert refused.value.details["reason"] == "plan_outdated" and _head(app) == head
    _, fresh = app.preview(ImportJobs(gw, [_job("a", name="new")], "replace"), CommandContext("x", None))
    assert _import(app, gw, [_job("a", name="new")], "replace", token=fresh.plan_token).report.count("update") == 1


def test_a_deleted_id_and_the_job_limit_are_faults_of_their_jobs(gw):
    app = _app(max_jobs=2)
    _import(app, gw, [_job("a")])
    _import(app, gw, [_job("b")], "replace")  # deletes a
    with pytest.raises(ImportFailed) as refused:
        _import(app, gw, [_job("a"), _job("c"), _job("d")])
    assert [(e["id"], e["reason"]) for e in refused.value.details["errors"]] == [
        ("a", "deleted"), ("d", "max jobs exceeded")]


def test_a_large_import_snapshots_the_gateway_once_as_saved(gw):
    from domain.identity import gateway_uuid

    app = _app()
    saved = _import(app, gw, [_job(f"j{i:03d}") for i in range(250)])
    assert saved.report.count("create") == 250 and all(s.next_executions == () for s in saved.report.steps)
    snapshots = list(app.snapshots.get(gateway_uuid(gw)))  # type: ignore[union-attr]
    # Versions 100 and 200 were crossed: one snapshot, of the gateway as saved (decision 322).
    assert [s.originator_version for s in snapshots] == [251]
    assert len(app.gateway(gw).job_ids) == 250 and app.gateway(gw).version == 251


def test_a_plan_reports_the_next_three_fire_times_of_each_job(gw):
    app = _app()
    _, report = app.preview(ImportJobs(gw, [_job("a"), _job("b", enabled=False)], upcoming=True),
                            CommandContext("x", None))
    first, second = report.steps
    assert len(first.next_executions) == 3 and second.next_executions == ()
    assert [(b - a).total_seconds() for a, b in zip(first.next_executions, first.next_executions[1:])] == [60, 60]


def test_a_batch_holding_an_import_answers_each_command_its_own_outcome(gw):
    """Group commit (decision 80) executes a batch holding an import one command at a time: each
    answers its own report, and an import of what exists records nothing while its neighbour in
    the batch saves."""
    app = _app()
    _import(app, gw, [_job("a")])
    ctx = CommandContext("importer", "req-2", "op-2")
    imported, toggled, again = app.execute_batch([
        (ImportJobs(gw, [_job("a"), _job("b")], "merge", None), ctx),  # type: ignore[arg-type]
        (ToggleJob(gw, "a", False, "batch neighbour", None), CommandContext("op", None)),
        (ImportJobs(gw, [_job("b")], "merge", None), CommandContext("importer", "req-3", "op-3")),  # type: ignore[arg-type]
    ])
    assert [(s.job_id, s.action) for s in imported.report.steps] == [("a", "skip"), ("b", "create")]
    assert [(s.job_id, s.action) for s in again.report.steps] == [("b", "skip")] and again.recorded == ()
    assert toggled.job.enabled is False
    events = list(app.events.get(job_uuid(gw, "b")))
    assert [(type(e).__qualname__, e.operation_id) for e in events] == [("Job.Created", "op-2")]
