"""Retention removes old finished executions from the log and the read models alike: afterwards the
read models equal a replay of what remains."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from application.maintenance.retention import delete_execution_events
from interfaces.database import conninfo
from interfaces.maintenance import prune_executions
from projections.runner import rebuild
from tests.projections.execution_events import BASE, failed, missed, save, started, succeeded
from tests.projections.test_execution_history import SNAPSHOTS, new_job, own_runtime  # noqa: F401


def _projection(runtime, name):
    return next(t.projection for t in runtime.projections if t.projection.name == name)


def test_pruning_old_executions_keeps_read_models_equal_to_a_replay(own_runtime):  # noqa: F811
    runtime = own_runtime
    gateway_id, job_id = new_job(runtime)
    other_gateway, only_old_job = new_job(runtime)
    old = [succeeded(gateway_id, job_id, BASE, 100), failed(gateway_id, job_id, BASE + timedelta(minutes=1), 40),
           missed(gateway_id, job_id, BASE + timedelta(minutes=2)),
           succeeded(other_gateway, only_old_job, BASE, 10)]
    recent_at = BASE + timedelta(days=40)
    recent = [succeeded(gateway_id, job_id, recent_at, 70), started(gateway_id, job_id, recent_at)]
    save(runtime, *old, *recent)
    old_ids = [e.id for e in old]
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        result = prune_executions(conn, BASE + timedelta(days=30))
        again = prune_executions(conn, BASE + timedelta(days=30))
        left = conn.execute("SELECT count(*) FROM scheduler_events WHERE originator_id = ANY(%s)", (old_ids,)).fetchone()[0]
    assert (result.executions, again.executions, left) == (4, 0, 0)
    assert result.events == 7 and result.log_lines == 5
    jobs = {r["job_id"]: r for r in runtime.reads.all("SELECT * FROM jobs")}
    assert (jobs[job_id]["total_executions"], jobs[job_id]["total_duration_ms"]) == (1, 70)
    assert jobs[job_id]["last_status"] == "success"
    assert (jobs[only_old_job]["total_executions"], jobs[only_old_job]["last_status"]) == (0, None)
    assert jobs[only_old_job]["last_execution"] is None
    after_prune = {table: runtime.reads.all(sql) for table, sql in SNAPSHOTS.items()}
    rebuild(runtime.app, _projection(runtime, "execution_history"))
    rebuild(runtime.app, _projection(runtime, "job_list"))
    assert {table: runtime.reads.all(sql) for table, sql in SNAPSHOTS.items()} == after_prune


def test_configuration_events_are_never_pruned(runtime):
    gateway_id, job_id = new_job(runtime)
    job = runtime.app.job(gateway_id, job_id)
    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        deleted = delete_execution_events(conn, [job.id])
        left = conn.execute("SELECT count(*) FROM scheduler_events WHERE originator_id = %s", (job.id,)).fetchone()[0]
    assert (deleted, left) == (0, job.version)
