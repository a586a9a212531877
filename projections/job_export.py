"""What an export of a gateway's jobs reads from the read models: each job in the shape a create
accepts, its statistics, and its latest executions."""

from __future__ import annotations

from typing import Any

from projections.read_store import ReadStore

HISTORY_PER_JOB = 100  # the newest executions per job an export carries (docs/api.md, "Export")


def _average(row: dict[str, Any]) -> int:
    finished = row["finished_executions"]
    return round(row["total_duration_ms"] / finished) if finished else 0


def exported_jobs(store: ReadStore, gateway_id: str) -> list[dict[str, Any]]:
    """Every job of the gateway, oldest first: its settings (as a create takes them) and its counters."""
    rows = store.all(
        "SELECT job_id, name, description, type, enabled, schedule, action, tags, options, total_executions,"
        " successful_executions, failed_executions, finished_executions, total_duration_ms, last_execution,"
        " last_status FROM jobs WHERE gateway_id = %(gateway_id)s ORDER BY created_at, job_id",
        {"gateway_id": gateway_id},
    )
    return [
        {
            "job": {"id": r["job_id"], "name": r["name"], "description": r["description"], "type": r["type"],
                    "enabled": r["enabled"], "schedule": r["schedule"], "action": r["action"], "tags": r["tags"],
                    "options": r["options"]},
            "statistics": {"total_executions": r["total_executions"],
                           "successful_executions": r["successful_executions"],
                           "failed_executions": r["failed_executions"], "average_duration_ms": _average(r),
                           "last_execution": r["last_execution"], "last_status": r["last_status"]},
        }
        for r in rows
    ]


def exported_history(store: ReadStore, gateway_id: str) -> list[dict[str, Any]]:
    """The newest HISTORY_PER_JOB executions of each job of the gateway, newest first per job."""
    return store.all(
        "SELECT job_id, execution_id, trigger, status, scheduled_for, start_time, end_time, duration_ms, attempt,"
        " code, message FROM (SELECT e.*, row_number() OVER (PARTITION BY job_id ORDER BY start_time DESC,"
        " execution_id DESC) AS n FROM executions e WHERE gateway_id = %(gateway_id)s) ranked"
        " WHERE n <= %(limit)s ORDER BY job_id, start_time DESC, execution_id DESC",
        {"gateway_id": gateway_id, "limit": HISTORY_PER_JOB},
    )
