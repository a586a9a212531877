"""Execution history retention: finished executions older than the cutoff leave the event store
and the read models together, in one transaction, so that the read models stay exactly what a
replay of the remaining log would build (job statistics then cover the retained history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection

_FINISHED = "('success', 'failed', 'timeout', 'missed')"
_LOCK_KEY = 7_342_002


@dataclass(frozen=True)
class Pruned:
    executions: int
    events: int
    log_lines: int


def prune_executions(conn: Connection, cutoff: datetime, batch: int = 5000) -> Pruned:
    """Remove up to `batch` finished executions that ended before `cutoff` (call until 0)."""
    with conn.transaction():
        if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK_KEY,)).fetchone()[0]:
            return Pruned(0, 0, 0)  # another process is pruning
        conn.execute(
            "CREATE TEMP TABLE doomed ON COMMIT DROP AS"
            f" SELECT aggregate_id, gateway_id, execution_id, job_id, status, coalesce(duration_ms, 0) AS ms"
            f" FROM executions WHERE end_time < %s AND status IN {_FINISHED}"  # noqa: S608
            " ORDER BY end_time LIMIT %s",
            (cutoff, batch),
        )
        # Take out what the job list counted for them (Succeeded / final Failed), exactly as
        # projections/job_list.py adds it, so the row equals a replay without these executions.
        conn.execute(
            "UPDATE jobs j SET total_executions = j.total_executions - d.n,"
            " successful_executions = j.successful_executions - d.ok,"
            " failed_executions = j.failed_executions - (d.n - d.ok),"
            " total_duration_ms = j.total_duration_ms - d.ms,"
            " finished_executions = j.finished_executions - d.n"
            " FROM (SELECT gateway_id, job_id, count(*) AS n, count(*) FILTER (WHERE status = 'success') AS ok,"
            "       sum(ms) AS ms FROM doomed WHERE status <> 'missed' GROUP BY gateway_id, job_id) d"
            " WHERE j.gateway_id = d.gateway_id AND j.job_id = d.job_id"
        )
        # A job left with no started (or no finished) execution has no last one any more.
        conn.execute(
            "UPDATE jobs j SET last_execution = CASE WHEN EXISTS (SELECT 1 FROM executions e"
            "   WHERE e.gateway_id = j.gateway_id AND e.job_id = j.job_id AND e.status <> 'missed'"
            "   AND e.aggregate_id NOT IN (SELECT aggregate_id FROM doomed)) THEN j.last_execution END,"
            " last_status = CASE WHEN EXISTS (SELECT 1 FROM executions e"
            "   WHERE e.gateway_id = j.gateway_id AND e.job_id = j.job_id"
            f"   AND e.status IN {_FINISHED} AND e.status <> 'missed'"  # noqa: S608
            "   AND e.aggregate_id NOT IN (SELECT aggregate_id FROM doomed)) THEN j.last_status END"
            " WHERE (j.gateway_id, j.job_id) IN (SELECT gateway_id, job_id FROM doomed)"
        )
        logs = conn.execute(
            "DELETE FROM execution_logs l USING doomed d"
            " WHERE l.gateway_id = d.gateway_id AND l.execution_id = d.execution_id"
        ).rowcount
        executions = conn.execute(
            "DELETE FROM executions e USING doomed d WHERE e.aggregate_id = d.aggregate_id"
        ).rowcount
        events = conn.execute(
            "DELETE FROM scheduler_events s USING doomed d WHERE s.originator_id = d.aggregate_id"
        ).rowcount
        conn.execute("DELETE FROM scheduler_snapshots s USING doomed d WHERE s.originator_id = d.aggregate_id")
    return Pruned(executions, events, logs)
