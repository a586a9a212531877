"""What GET /jobs/{id}/fires reads: the versions in force over the window (audit read model) and
the executions recorded for it (execution history), handed to domain/explain.py."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from psycopg.rows import tuple_row

from domain.errors import JobNotFound
from domain.explain import Explanation, Run, Version, explain
from domain.schedules import parse_schedule
from projections.audit_queries import versions_between
from projections.read_store import ReadStore

_COLUMNS = "execution_id, trigger, status, scheduled_for, start_time, attempt, retry_count, code, message"
# Two index ranges (executions_job_scheduled_idx, executions_job_start_idx), not one OR: scheduled
# runs by the instant they were due, the others by when they started.
_RUNS = (
    f"SELECT {_COLUMNS} FROM executions WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
    " AND scheduled_for >= %(start)s AND scheduled_for <= %(end)s AND trigger IN ('scheduled', 'misfire')"
    f" UNION ALL SELECT {_COLUMNS} FROM executions WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
    " AND start_time >= %(start)s AND start_time <= %(end)s AND trigger NOT IN ('scheduled', 'misfire')"
)


def _version(row: dict[str, Any], parsed: dict[tuple[str, str, str], Any]) -> Version:
    """`parsed`: the schedules built so far, by (type, params, anchor): a toggle keeps its schedule."""
    snap = row["snapshot"]
    schedule = None
    if not snap.get("deleted"):
        key = (snap["type"], json.dumps(snap["schedule"], sort_keys=True), snap["schedule_anchor"])
        schedule = parsed.get(key)
        if schedule is None:
            schedule = parsed[key] = parse_schedule(
                snap["type"], snap["schedule"], anchor=datetime.fromisoformat(snap["schedule_anchor"]), stored=True
            )
    return Version(
        version=row["version"], since=row["timestamp"], actor=row["actor"], reason=row["reason"], schedule=schedule,
        schedule_type=snap["type"], params=snap["schedule"], enabled=bool(snap["enabled"]),
        disabled_reason=snap.get("disabled_reason", ""), deleted=bool(snap.get("deleted")),
    )


def job_fires(
    store: ReadStore, gateway_id: str, job_id: str, start: datetime, end: datetime, *, now: datetime,
    pruned_before: datetime | None,
) -> Explanation:
    rows = versions_between(store, gateway_id, job_id, start, end)
    if not rows:
        exists = store.one("SELECT 1 AS x FROM job_versions WHERE gateway_id = %(g)s AND job_id = %(j)s LIMIT 1",
                           {"g": gateway_id, "j": job_id})
        if exists is None:
            raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
        return Explanation()  # the window ends before the job was created
    with store.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        found = cursor.execute(_RUNS, {"gateway_id": gateway_id, "job_id": job_id, "start": start, "end": end},
                              prepare=True).fetchall()
    runs = [Run(*row) for row in found]
    parsed: dict[tuple[str, str, str], Any] = {}
    return explain([_version(r, parsed) for r in rows], runs, start, end, now=now, pruned_before=pruned_before)
