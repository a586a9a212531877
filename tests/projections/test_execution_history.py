"""The execution history and job list read models, fed by Execution events on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from interfaces.database import create_database, drop_database
from projections.runner import rebuild

from tests.conftest import job_body
from tests.projections.execution_events import (
    BASE, failed, log, missed, recorded_before_outcomes_named, save, started, succeeded, timed_out,
)


def new_job(runtime: Any) -> tuple[str, str]:
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    saved = runtime.app.create_job(gateway_id, job_body(), actor="tester")
    assert runtime.wait(saved.recorded)
    return gateway_id, saved.job.job_id


@pytest.fixture
def job(runtime: Any) -> tuple[str, str]:
    return new_job(runtime)


@pytest.fixture(scope="module")
def own_runtime(server_url: str, settings: Any) -> Iterator[Any]:
    """A runtime on a database of its own: a rebuild truncates every row of its views, and no
    other writer (a worker of the shared runtime, say) may append while it replays."""
    from interfaces.runtime import Runtime

    url = create_database(server_url, "gs_rebuild")
    rt = Runtime(replace(settings, database_url=url)).start()
    try:
        yield rt
    finally:
        rt.close()
        drop_database(server_url, url)


def execution_row(runtime: Any, gateway_id: str, execution_id: str) -> dict[str, Any]:
    row = runtime.reads.one(
        "SELECT * FROM executions WHERE gateway_id = %s AND execution_id = %s", (gateway_id, execution_id)
    )
    assert row is not None
    return row


def job_row(runtime: Any, gateway_id: str, job_id: str) -> dict[str, Any]:
    row = runtime.reads.one("SELECT * FROM jobs WHERE gateway_id = %s AND job_id = %s", (gateway_id, job_id))
    assert row is not None
    return row


def test_succeeded_execution_is_one_success_row_with_its_logs(runtime, job):
    gateway_id, job_id = job
    lines = [log(BASE, "info", "Starting Modbus poll"), log(BASE + timedelta(milliseconds=333), "debug", "Connected")]
    execution = succeeded(gateway_id, job_id, BASE, 120, message="Modbus data collected", logs=lines,
                          resources={"cpu_percent": 12.5})
    save(runtime, execution)
    row = execution_row(runtime, gateway_id, execution.execution_id)
    assert (row["status"], row["job_id"], row["trigger"], row["duration_ms"]) == ("success", job_id, "scheduled", 120)
    assert row["start_time"] == BASE and row["end_time"] == BASE + timedelta(milliseconds=120)
    assert row["message"] == "Modbus data collected" and row["details"] == {"resources": {"cpu_percent": 12.5}}
    logs = runtime.reads.all("SELECT timestamp, level, message FROM execution_logs WHERE execution_id = %s ORDER BY id",
                             (execution.execution_id,))
    assert [(r["level"], r["message"]) for r in logs] == [("info", "Starting Modbus poll"), ("debug", "Connected")]
    assert logs[1]["timestamp"] == BASE + timedelta(milliseconds=333)
    stats = job_row(runtime, gateway_id, job_id)
    assert (stats["total_executions"], stats["successful_executions"], stats["failed_executions"]) == (1, 1, 0)
    assert (stats["total_duration_ms"], stats["last_status"], stats["last_execution"]) == (120, "success", BASE)


def test_outcomes_recorded_before_they_named_their_job_project_alike(runtime, job):
    gateway_id, job_id = job
    old_ok = recorded_before_outcomes_named(succeeded(gateway_id, job_id, BASE, 100))
    old_failed = recorded_before_outcomes_named(failed(gateway_id, job_id, BASE + timedelta(minutes=1), 40))
    assert not any(getattr(e, "job_id", None) for e in old_ok.pending_events[1:])  # they really are old ones
    save(runtime, old_ok, old_failed)
    assert execution_row(runtime, gateway_id, old_failed.execution_id)["status"] == "failed"
    logs = runtime.reads.all(
        "SELECT gateway_id, job_id, execution_id FROM execution_logs WHERE execution_id = ANY(%s) ORDER BY id",
        ([old_ok.execution_id, old_failed.execution_id],),
    )
    assert [r["execution_id"] for r in logs] == [old_ok.execution_id] * 2 + [old_failed.execution_id]
    assert {(r["gateway_id"], r["job_id"]) for r in logs} == {(gateway_id, job_id)}
    stats = job_row(runtime, gateway_id, job_id)
    assert (stats["total_executions"], stats["successful_executions"], stats["total_duration_ms"]) == (2, 1, 140)
    assert runtime.reads.all("SELECT * FROM execution_jobs WHERE aggregate_id = ANY(%s)",
                             ([old_ok.id, old_failed.id],)) == []


def test_retried_execution_counts_once_when_it_finally_succeeds(runtime, job):
    gateway_id, job_id = job
    execution = started(gateway_id, job_id, BASE, max_attempts=2)
    will_retry = execution.fail(
        now=BASE + timedelta(seconds=1), duration_ms=1000, code="ACTION_FAILED", error="broker down", logs=[]
    )
    assert will_retry
    save(runtime, execution)
    row = execution_row(runtime, gateway_id, execution.execution_id)
    assert (row["status"], row["end_time"], row["message"]) == ("retrying", None, "broker down")
    assert job_row(runtime, gateway_id, job_id)["total_executions"] == 0

    execution.retry(now=BASE + timedelta(seconds=6))
    save(runtime, execution)
    assert execution_row(runtime, gateway_id, execution.execution_id)["status"] == "running"
    execution.succeed(now=BASE + timedelta(seconds=7), duration_ms=900, message="ok", logs=[])
    save(runtime, execution)
    row = execution_row(runtime, gateway_id, execution.execution_id)
    assert (row["status"], row["attempt"], row["duration_ms"]) == ("success", 2, 900)
    stats = job_row(runtime, gateway_id, job_id)
    assert (stats["total_executions"], stats["successful_executions"], stats["total_duration_ms"]) == (1, 1, 900)
    assert runtime.reads.one("SELECT 1 AS one FROM execution_jobs WHERE aggregate_id = %s", (execution.id,)) is None


def test_timeout_is_its_own_status_and_puts_the_job_in_error(runtime, job):
    gateway_id, job_id = job
    execution = timed_out(gateway_id, job_id, BASE, 300_000)
    save(runtime, execution)
    row = execution_row(runtime, gateway_id, execution.execution_id)
    assert (row["status"], row["code"], row["retry_count"]) == ("timeout", "EXECUTION_TIMEOUT", 0)
    stats = job_row(runtime, gateway_id, job_id)
    assert (stats["failed_executions"], stats["last_status"], stats["status"]) == (1, "timeout", "error")


def test_missed_run_is_history_but_not_an_execution(runtime, job):
    gateway_id, job_id = job
    execution = missed(gateway_id, job_id, BASE, reason="gateway was offline")
    save(runtime, execution)
    row = execution_row(runtime, gateway_id, execution.execution_id)
    assert (row["status"], row["start_time"], row["end_time"]) == ("missed", BASE, BASE)
    assert row["message"] == "gateway was offline"
    stats = job_row(runtime, gateway_id, job_id)
    assert (stats["total_executions"], stats["last_execution"]) == (0, None)


def test_unusable_log_values_do_not_stall_the_view(runtime, job):
    gateway_id, job_id = job
    lines = [{"timestamp": "not a time", "level": "INFO", "message": "nul \x00 byte"}, "not a line"]
    execution = succeeded(gateway_id, job_id, BASE, 5, message="a\x00b", logs=lines)  # type: ignore[list-item]
    save(runtime, execution)
    logs = runtime.reads.all("SELECT timestamp, level, message FROM execution_logs WHERE execution_id = %s",
                             (execution.execution_id,))
    end = BASE + timedelta(milliseconds=5)
    assert [(r["timestamp"], r["level"], r["message"]) for r in logs] == [(end, "info", "nul \ufffd byte")]
    assert execution_row(runtime, gateway_id, execution.execution_id)["message"] == "a\ufffdb"


SNAPSHOTS = {
    "executions": "SELECT * FROM executions ORDER BY aggregate_id",
    "execution_logs": "SELECT * FROM execution_logs ORDER BY id",
    "jobs": "SELECT * FROM jobs ORDER BY gateway_id, job_id",
    "execution_jobs": "SELECT * FROM execution_jobs ORDER BY aggregate_id",
}


def replay(runtime: Any, name: str) -> None:
    """Truncate one view and feed it the whole log again from position 0."""
    projection = next(t.projection for t in runtime.projections if t.projection.name == name)
    rebuild(runtime.app, projection)


def test_rebuild_from_zero_gives_identical_rows(own_runtime):
    runtime = own_runtime
    (gateway_id, job_id), (other_gateway, other_job) = new_job(runtime), new_job(runtime)
    retried = started(gateway_id, job_id, BASE + timedelta(minutes=4), max_attempts=3)
    retried.fail(now=BASE + timedelta(minutes=4, seconds=1), duration_ms=50, code="ACTION_FAILED", error="x", logs=[])
    save(runtime, succeeded(gateway_id, job_id, BASE, 100), failed(gateway_id, job_id, BASE + timedelta(minutes=1), 30),
         missed(gateway_id, job_id, BASE + timedelta(minutes=2)),
         started(gateway_id, job_id, BASE + timedelta(minutes=3)), retried,
         timed_out(other_gateway, other_job, BASE, 10),
         recorded_before_outcomes_named(succeeded(other_gateway, other_job, BASE + timedelta(minutes=5), 20)))
    before = {table: runtime.reads.all(sql) for table, sql in SNAPSHOTS.items()}
    assert before["execution_logs"] and before["execution_jobs"]
    replay(runtime, "execution_history")
    replay(runtime, "job_list")
    after = {table: runtime.reads.all(sql) for table, sql in SNAPSHOTS.items()}
    assert after == before
