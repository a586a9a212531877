"""Queries of the execution history: one execution, a job's history, logs and metrics, gateway
statistics, active executions and peak concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import ExecutionNotFound, JobNotFound
from domain.execution import ACTIVE, COMPLETED
from projections.concurrency import peak_concurrency
from projections.hourly_queries import completed_since, job_periods
from projections.execution_counts import job_counts
from projections.read_store import ReadStore

# A `running` filter means still going, between attempts included.
STATUS_FILTERS = {"success": ("success",), "failed": ("failed",), "timeout": ("timeout",),
                  "missed": ("missed",), "running": ACTIVE}
# Rates, durations and counts of executions are over the COMPLETED ones (missed never ran).
_COMPLETED_SQL = "status = ANY(%(completed)s::text[])"
_ACTIVE_SQL = "status = ANY(%(active)s::text[])"
_VOCABULARY = {"completed": list(COMPLETED), "active": list(ACTIVE)}
BUCKETS = {"hourly": "hour", "daily": "day", "weekly": "week"}
MAX_BUCKETS = 1000
DEFAULT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Window:
    """Executions that started in [start, end); either side may be open."""

    start: datetime | None = None
    end: datetime | None = None


def _rate(successes: int, finished: int) -> float:
    return round(100.0 * successes / finished, 1) if finished else 100.0


def _ms(value: Any) -> int:
    return round(value) if value is not None else 0


def _where(gateway_id: str, job_id: str, window: Window) -> tuple[str, dict[str, Any]]:
    clauses = ["gateway_id = %(gateway_id)s", "job_id = %(job_id)s"]
    params: dict[str, Any] = {**_VOCABULARY, "gateway_id": gateway_id, "job_id": job_id}
    if window.start is not None:
        clauses.append("start_time >= %(start)s")
        params["start"] = window.start
    if window.end is not None:
        clauses.append("start_time < %(end)s")
        params["end"] = window.end
    return " AND ".join(clauses), params


def job_name(store: ReadStore, gateway_id: str, job_id: str) -> str:
    # PostgreSQL refuses NUL in text; no id holds one, so such an id names nothing.
    row = None if "\x00" in job_id else store.one(
        "SELECT name FROM jobs WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s",
        {"gateway_id": gateway_id, "job_id": job_id},
    )
    if row is None:
        raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
    return row["name"]


def execution(store: ReadStore, gateway_id: str, execution_id: str) -> dict[str, Any]:
    row = None if "\x00" in execution_id else store.one(
        "SELECT * FROM executions WHERE gateway_id = %(gateway_id)s AND execution_id = %(execution_id)s",
        {"gateway_id": gateway_id, "execution_id": execution_id},
    )
    if row is None:
        raise ExecutionNotFound(f"Execution {execution_id} not found", {"execution_id": execution_id})
    return {
        "id": row["execution_id"], "job_id": row["job_id"], "job_name": row["job_name"],
        "status": "completed" if row["status"] == "success" else row["status"], "trigger": row["trigger"],
        "start_time": row["start_time"], "end_time": row["end_time"], "duration_ms": row["duration_ms"],
        "result": {"status": row["status"], "message": row["message"]},
    }


def job_history(
    store: ReadStore, gateway_id: str, job_id: str, window: Window, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """`total_executions` counts what the filters select (for paging); `success_rate` is over the
    finished executions of the window, whatever the status filter."""
    name = job_name(store, gateway_id, job_id)
    clause, params = _where(gateway_id, job_id, window)
    params.update(statuses=list(STATUS_FILTERS[status]) if status else None, limit=limit, offset=offset)
    selected = "(%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s::text[]))"
    if window.start is None and window.end is None:  # the whole history: the counts kept per status
        by_status = job_counts(store, gateway_id, job_id)
        wanted = STATUS_FILTERS[status] if status else by_status
        counts = {"total": sum(by_status.get(s, 0) for s in wanted), "ok": by_status.get("success", 0),
                  "finished": sum(by_status.get(s, 0) for s in COMPLETED)}
    else:
        counts = store.one(
            f"SELECT count(*) FILTER (WHERE {selected}) AS total, count(*) FILTER (WHERE status = 'success') AS ok,"
            f" count(*) FILTER (WHERE {_COMPLETED_SQL}) AS finished FROM executions WHERE {clause}",  # noqa: S608
            params,
        ) or {}
    rows = store.all(
        "SELECT execution_id, start_time, trigger, duration_ms, status, message FROM executions"
        f" WHERE {clause} AND {selected} ORDER BY start_time DESC, execution_id DESC"  # noqa: S608
        " LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    return {
        "job_id": job_id, "job_name": name, "total_executions": counts.get("total", 0),
        "success_rate": _rate(counts.get("ok", 0), counts.get("finished", 0)),
        "history": [_history_entry(r) for r in rows],
    }


def _history_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {"execution_id": row["execution_id"], "timestamp": row["start_time"], "trigger": row["trigger"],
            "duration_ms": row["duration_ms"], "status": row["status"], "message": row["message"]}


def job_logs(
    store: ReadStore, gateway_id: str, job_id: str, execution_id: str | None, level: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """One execution's log reads in order; a job's whole log newest first."""
    name = job_name(store, gateway_id, job_id)
    order = "timestamp, id" if execution_id else "timestamp DESC, id DESC"
    rows = store.all(
        "SELECT timestamp, level, message, execution_id FROM execution_logs"
        " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
        " AND (%(execution_id)s::text IS NULL OR execution_id = %(execution_id)s::text)"
        " AND (%(level)s::text IS NULL OR level = %(level)s::text)"
        f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s",  # noqa: S608
        {"gateway_id": gateway_id, "job_id": job_id, "execution_id": execution_id, "level": level,
         "limit": limit, "offset": offset},
    )
    return {"job_id": job_id, "job_name": name, "logs": rows}


def _resource(key: str) -> str:
    """A resource figure an executor reported in `details.resources`, 0 when absent or not a number."""
    path = f"details->'resources'->'{key}'"
    return f"avg(CASE WHEN jsonb_typeof({path}) = 'number' THEN ({path})::text::float8 ELSE 0 END)"


def job_metrics(
    store: ReadStore, gateway_id: str, job_id: str, granularity: str, window: Window, *, rollups: bool = True,
) -> dict[str, Any]:
    """Figures over the finished executions of the window; `series` holds the newest buckets that
    have any (at most MAX_BUCKETS), oldest first, its whole hours read from the hourly roll-ups
    (`rollups=False`: from the rows, the same answer). The totals read the rows: the p95, min, max
    and resource figures are exact only from them (decision 95)."""
    name = job_name(store, gateway_id, job_id)
    clause, params = _where(gateway_id, job_id, window)
    clause += f" AND {_COMPLETED_SQL}"
    totals = store.one(
        "SELECT count(*) AS finished, count(*) FILTER (WHERE status = 'success') AS ok, avg(duration_ms) AS average,"
        " min(duration_ms) AS min, max(duration_ms) AS max,"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,"
        f" {_resource('cpu_percent')} AS cpu, {_resource('memory_mb')} AS memory"
        f" FROM executions WHERE {clause}",  # noqa: S608
        params,
    ) or {}
    series = job_periods(store, gateway_id, job_id, BUCKETS[granularity], window.start, window.end, MAX_BUCKETS,
                         rollups=rollups)
    metrics = {
        "execution_times": {
            "average_ms": _ms(totals.get("average")), "min_ms": _ms(totals.get("min")),
            "max_ms": _ms(totals.get("max")), "p95_ms": _ms(totals.get("p95")),
        },
        "success_rate": _rate(totals.get("ok", 0), totals.get("finished", 0)),
        "resource_usage": {
            "average_cpu_percent": round(float(totals.get("cpu") or 0), 1),
            "average_memory_mb": round(float(totals.get("memory") or 0), 1),
        },
        "granularity": granularity,
        "series": [
            {"period_start": period, "executions": n, "success_rate": _rate(ok, n), "average_ms": _ms(average)}
            for period, n, ok, average in series
        ],
    }
    return {"job_id": job_id, "job_name": name, "metrics": metrics}


def statistics(
    store: ReadStore, gateway_id: str, time_range: str, since: datetime, now: datetime, *, rollups: bool = True,
) -> dict[str, Any]:
    """Finished executions that started since `since` (whole hours from the hourly roll-ups unless
    `rollups` is false); the job counts are the gateway's current ones."""
    jobs = store.one(
        "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active FROM jobs"
        " WHERE gateway_id = %(gateway_id)s",
        {"gateway_id": gateway_id},
    ) or {}
    runs = completed_since(store, gateway_id, since, now, rollups=rollups)
    finished, ok = runs["finished"], runs["ok"]
    return {
        "gateway_id": gateway_id, "time_range": time_range,
        "total_jobs": jobs.get("total", 0), "active_jobs": jobs.get("active", 0),
        "total_executions": finished, "successful_executions": ok, "failed_executions": finished - ok,
        "success_rate": _rate(ok, finished),
        "average_execution_time_ms": _ms(runs["ms"] / finished if finished else None),
        "peak_concurrent_jobs": peak_concurrency(store, gateway_id, since, now),
    }


def _progress(elapsed_ms: int, timeout: float | None) -> int:
    """Share of the job's timeout used so far; never 100 while it still runs."""
    limit = timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT_SECONDS
    return min(99, int(elapsed_ms / (limit * 1000) * 100))


def active_executions(store: ReadStore, gateway_id: str, now: datetime, midnight: datetime) -> dict[str, Any]:
    rows = store.all(
        "SELECT e.execution_id, e.job_id, e.job_name, e.start_time, e.status,"
        " CASE WHEN jsonb_typeof(j.options->'timeout_seconds') = 'number'"
        "  THEN (j.options->>'timeout_seconds')::float8 END AS timeout"
        " FROM executions e LEFT JOIN jobs j USING (gateway_id, job_id)"
        " WHERE e.gateway_id = %(gateway_id)s AND e.status = ANY(%(active)s::text[])"
        " ORDER BY e.start_time, e.execution_id",
        {**_VOCABULARY, "gateway_id": gateway_id},
    )
    active = []
    for r in rows:
        elapsed = max(0, round((now - r["start_time"]).total_seconds() * 1000))
        active.append({
            "execution_id": r["execution_id"], "job_id": r["job_id"], "job_name": r["job_name"],
            "start_time": r["start_time"], "duration_ms": elapsed, "progress": _progress(elapsed, r["timeout"]),
            "status": r["status"],
        })
    peak = peak_concurrency(store, gateway_id, midnight, now)
    return {"active_executions": active, "total_active": len(active), "peak_today": peak}


def database_size_mb(store: ReadStore) -> float:
    row = store.one("SELECT pg_database_size(current_database()) AS size")
    return round(row["size"] / 2**20, 1) if row else 0.0


def running_count(store: ReadStore, gateway_id: str) -> int:
    """Executions of the gateway running now (between attempts included), as recorded."""
    row = store.one(
        f"SELECT count(*) AS n FROM executions WHERE gateway_id = %(gateway_id)s AND {_ACTIVE_SQL}",  # noqa: S608
        {**_VOCABULARY, "gateway_id": gateway_id},
    )
    return int(row["n"]) if row else 0
