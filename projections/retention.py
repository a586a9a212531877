"""Retention in the read models: the rows of finished executions older than a cutoff go, and the job
statistics give back exactly what those executions had added (the event store's part of retention
is application/maintenance/retention.py; interfaces/maintenance.py runs both in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import Connection
from psycopg.rows import tuple_row

from domain.execution import COMPLETED, FINAL
from projections.analytics import BUCKETS
from projections.concurrency import forget_pruned
from projections.execution_counts import forget_counted


@dataclass(frozen=True)
class Forgotten:
    aggregate_ids: tuple[UUID, ...]
    log_lines: int
    gateway_ids: tuple[str, ...] = ()  # of each aggregate id, in the same order


def forget_executions(conn: Connection, cutoff: datetime, batch: int) -> Forgotten:
    """Within the caller's transaction, remove up to `batch` FINAL executions (missed included) that
    ended before `cutoff`, oldest first, from the read models; returns their aggregate ids, whose
    events must leave the log in the same transaction."""
    params = {"cutoff": cutoff, "batch": batch, "final": list(FINAL), "completed": list(COMPLETED)}
    conn.execute(
        "CREATE TEMP TABLE doomed ON COMMIT DROP AS"
        " SELECT aggregate_id, gateway_id, execution_id, job_id, status, coalesce(duration_ms, 0) AS ms, start_time"
        " FROM executions WHERE end_time < %(cutoff)s AND status = ANY(%(final)s::text[])"
        " ORDER BY end_time LIMIT %(batch)s",
        params,
    )
    # Take out what the job list counted for them (Succeeded / final Failed: the COMPLETED ones),
    # exactly as projections/job_list.py adds it, so the row equals a replay without them.
    conn.execute(
        "UPDATE jobs j SET total_executions = j.total_executions - d.n,"
        " successful_executions = j.successful_executions - d.ok,"
        " failed_executions = j.failed_executions - (d.n - d.ok),"
        " total_duration_ms = j.total_duration_ms - d.ms,"
        " finished_executions = j.finished_executions - d.n"
        " FROM (SELECT gateway_id, job_id, count(*) AS n, count(*) FILTER (WHERE status = 'success') AS ok,"
        "       sum(ms) AS ms FROM doomed WHERE status = ANY(%(completed)s::text[]) GROUP BY gateway_id, job_id) d"
        " WHERE j.gateway_id = d.gateway_id AND j.job_id = d.job_id",
        params,
    )
    forget_in_analytics(conn, params)
    forget_counted(conn)
    # A job left with no started (or no completed) execution has no last one any more.
    conn.execute(
        "UPDATE jobs j SET last_execution = CASE WHEN EXISTS (SELECT 1 FROM executions e"
        "   WHERE e.gateway_id = j.gateway_id AND e.job_id = j.job_id AND e.status <> 'missed'"
        "   AND e.aggregate_id NOT IN (SELECT aggregate_id FROM doomed)) THEN j.last_execution END,"
        " last_status = CASE WHEN EXISTS (SELECT 1 FROM executions e"
        "   WHERE e.gateway_id = j.gateway_id AND e.job_id = j.job_id AND e.status = ANY(%(completed)s::text[])"
        "   AND e.aggregate_id NOT IN (SELECT aggregate_id FROM doomed)) THEN j.last_status END"
        " WHERE (j.gateway_id, j.job_id) IN (SELECT gateway_id, job_id FROM doomed)",
        params,
    )
    log_lines = conn.execute(
        "DELETE FROM execution_logs l USING doomed d"
        " WHERE l.gateway_id = d.gateway_id AND l.execution_id = d.execution_id"
    ).rowcount
    deleted = conn.cursor(row_factory=tuple_row).execute(
        "DELETE FROM executions e USING doomed d WHERE e.aggregate_id = d.aggregate_id"
        " RETURNING e.aggregate_id, e.gateway_id"
    ).fetchall()
    return Forgotten(tuple(row[0] for row in deleted), log_lines, tuple(row[1] for row in deleted))


# bucket_of (projections/analytics.py) in SQL: numeric logarithms, exact at the powers of two.
_BUCKET_SQL = f"(least({BUCKETS - 1}, floor(2 * log(2::numeric, (x.ms + 1)::numeric)))::int + 1)"


def forget_in_analytics(conn: Connection, params: dict[str, object]) -> None:
    """Take out of the hourly roll-ups what the doomed COMPLETED executions added (their count,
    outcome, duration and histogram bucket), and drop hours left empty, as a replay has none."""
    conn.execute(
        "UPDATE execution_hours h SET executions = h.executions - d.n, successes = h.successes - d.ok,"
        " failures = h.failures - (d.n - d.ok), duration_ms = h.duration_ms - d.ms,"
        " histogram = (SELECT array_agg(h.histogram[i] - (SELECT count(*) FROM doomed x"
        "   WHERE x.gateway_id = h.gateway_id AND x.job_id = h.job_id AND date_trunc('hour', x.start_time, 'UTC') = h.hour"
        f"   AND x.status = ANY(%(completed)s::text[]) AND {_BUCKET_SQL} = i) ORDER BY i)"
        f"   FROM generate_series(1, {BUCKETS}) i)"
        " FROM (SELECT gateway_id, job_id, date_trunc('hour', start_time, 'UTC') AS hour, count(*) AS n,"
        "       count(*) FILTER (WHERE status = 'success') AS ok, sum(ms) AS ms FROM doomed"
        "       WHERE status = ANY(%(completed)s::text[]) GROUP BY 1, 2, 3) d"
        " WHERE h.gateway_id = d.gateway_id AND h.job_id = d.job_id AND h.hour = d.hour",
        params,
    )
    conn.execute("DELETE FROM execution_hours WHERE executions = 0")
    forget_pruned(conn)  # their runs, from the hours' peak concurrency
