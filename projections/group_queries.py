"""Queries of the execution groups read model: one group with each member and its execution."""

from __future__ import annotations

from typing import Any

from domain.errors import ExecutionGroupNotFound
from projections.read_store import ReadStore


def group(reads: ReadStore, gateway_id: str, group_id: str) -> dict[str, Any]:
    row = reads.one(
        "SELECT group_id, gateway_id, operation_id, sequential, status, total_jobs, include_tags, exclude_tags,"
        " actor, started_at, finished_at FROM execution_groups WHERE gateway_id = %(gateway_id)s"
        " AND group_id = %(group_id)s",
        {"gateway_id": gateway_id, "group_id": group_id},
    )
    if row is None:
        raise ExecutionGroupNotFound(f"Execution group {group_id} not found", {"execution_group_id": group_id})
    members = reads.all(
        "SELECT m.position, m.job_id, m.execution_id, m.state, m.outcome, m.started_at, m.finished_at,"
        " e.status AS execution_status, e.start_time, e.end_time, e.duration_ms"
        " FROM execution_group_members m LEFT JOIN executions e"
        "  ON e.gateway_id = m.gateway_id AND e.execution_id = m.execution_id"
        " WHERE m.gateway_id = %(gateway_id)s AND m.group_id = %(group_id)s ORDER BY m.position",
        {"gateway_id": gateway_id, "group_id": group_id},
    )
    counts = {state: sum(1 for m in members if m["state"] == state) for state in ("waiting", "started", "finished", "skipped")}
    return {
        "execution_group_id": row["group_id"], "gateway_id": row["gateway_id"], "operation_id": row["operation_id"],
        "sequential": row["sequential"], "status": row["status"], "total_jobs": row["total_jobs"],
        "include_tags": list(row["include_tags"]), "exclude_tags": list(row["exclude_tags"]),
        "started_at": row["started_at"], "finished_at": row["finished_at"],
        "waiting_jobs": counts["waiting"], "running_jobs": counts["started"], "finished_jobs": counts["finished"],
        "skipped_jobs": counts["skipped"],
        "members": [
            {
                "position": m["position"], "job_id": m["job_id"], "execution_id": m["execution_id"],
                "state": m["state"], "outcome": m["outcome"], "started_at": m["started_at"],
                "finished_at": m["finished_at"],
                "execution": None if m["execution_status"] is None else {
                    "status": m["execution_status"], "start_time": m["start_time"], "end_time": m["end_time"],
                    "duration_ms": m["duration_ms"],
                },
            }
            for m in members
        ],
    }
