"""The executions counted per job and status (execution_counts) stay equal to a count of the rows of
`executions` through outcomes, retries, a reset, retention pruning and a rebuild, and a job's whole
history answers its totals from them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from application.commands import CommandContext, ResetAll
from interfaces.database import conninfo
from interfaces.maintenance import prune_executions
from projections import execution_queries
from projections.execution_queries import Window
from tests.projections.execution_events import BASE, failed, missed, save, started, succeeded, timed_out
from tests.projections.test_execution_history import new_job, own_runtime, replay  # noqa: F401

COUNTED = "SELECT gateway_id, job_id, status, executions FROM execution_counts ORDER BY 1, 2, 3"
COUNTED_FROM_ROWS = (
    "SELECT gateway_id, job_id, status, count(*) AS executions FROM executions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)


def counts(runtime: Any) -> list[dict[str, Any]]:
    kept = runtime.reads.all(COUNTED)
    assert kept == runtime.reads.all(COUNTED_FROM_ROWS)
    return kept


def of_job(runtime: Any, gateway_id: str, job_id: str) -> dict[str, int]:
    return {r["status"]: r["executions"] for r in counts(runtime) if (r["gateway_id"], r["job_id"]) == (gateway_id, job_id)}


def test_counts_follow_outcomes_retries_reset_pruning_and_rebuild(own_runtime: Any) -> None:  # noqa: F811
    runtime = own_runtime
    gateway_id, job_id = new_job(runtime)
    other_gateway, other_job = new_job(runtime)
    recent = BASE + timedelta(days=40)
    retried = started(gateway_id, job_id, recent, max_attempts=2)
    retried.fail(now=recent, duration_ms=5, code="ACTION_FAILED", error="refused", logs=[])
    running = started(gateway_id, job_id, recent)
    save(runtime, succeeded(gateway_id, job_id, BASE, 100), failed(gateway_id, job_id, BASE, 40),
         timed_out(gateway_id, job_id, BASE, 300), missed(gateway_id, job_id, BASE), retried, running,
         succeeded(gateway_id, job_id, recent, 70), succeeded(other_gateway, other_job, BASE, 10))
    assert of_job(runtime, gateway_id, job_id) == {
        "success": 2, "failed": 1, "timeout": 1, "missed": 1, "retrying": 1, "running": 1,
    }
    retried.retry(now=recent)
    save(runtime, retried)
    assert of_job(runtime, gateway_id, job_id) == {"success": 2, "failed": 1, "timeout": 1, "missed": 1, "running": 2}

    with psycopg.connect(conninfo(runtime.url), autocommit=True) as conn:
        assert prune_executions(conn, BASE + timedelta(days=30)).executions == 5
    assert of_job(runtime, gateway_id, job_id) == {"success": 1, "running": 2}
    assert of_job(runtime, other_gateway, other_job) == {}
    history = execution_queries.job_history(runtime.reads, gateway_id, job_id, Window(), None, 50, 0)
    assert (history["total_executions"], history["success_rate"]) == (3, 100.0)

    saved = runtime.app.execute(ResetAll(gateway_id, keep_data=False), CommandContext("tester", None))
    assert runtime.wait(saved.recorded)
    assert of_job(runtime, gateway_id, job_id) == {"running": 2}  # runs still going stay

    before = counts(runtime)
    replay(runtime, "execution_history")
    assert counts(runtime) == before


def test_whole_history_totals_come_from_the_counts_and_match_a_window_over_all(runtime: Any) -> None:
    gateway_id, job_id = new_job(runtime)
    save(runtime, succeeded(gateway_id, job_id, BASE, 100), succeeded(gateway_id, job_id, BASE, 80),
         failed(gateway_id, job_id, BASE, 40), missed(gateway_id, job_id, BASE), started(gateway_id, job_id, BASE))
    everything = Window(BASE - timedelta(days=1), BASE + timedelta(days=1))
    for status in (None, "success", "failed", "missed", "running", "timeout"):
        whole = execution_queries.job_history(runtime.reads, gateway_id, job_id, Window(), status, 2, 0)
        windowed = execution_queries.job_history(runtime.reads, gateway_id, job_id, everything, status, 2, 0)
        assert whole == windowed, status
    whole = execution_queries.job_history(runtime.reads, gateway_id, job_id, Window(), None, 2, 0)
    assert (whole["total_executions"], whole["success_rate"], len(whole["history"])) == (5, 66.7, 2)
