"""Queries of the job list read model: list with filters, detail, gateway jobs, tags, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import JobNotFound
from domain.schedules import parse_schedule
from projections.read_store import ReadStore

UPCOMING = 10


@dataclass(frozen=True)
class JobFilter:
    status: str | None = None
    type: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool | None = None
    limit: int = 50
    offset: int = 0


def _average(row: dict[str, Any]) -> int:
    finished = row["finished_executions"]
    return round(row["total_duration_ms"] / finished) if finished else 0


@dataclass(frozen=True)
class ListPage:
    """A page of the job list: the selection's counts and the page's jobs as the JSON the list
    answers (one object per job, comma-separated, without the brackets; empty for none), UTF-8."""

    total_jobs: int
    active_jobs: int
    jobs_json: bytes


# A row's list answer: the parts its row keeps, stored generated columns (migrations 026 and 028;
# the average in list_last rounds half to even, as Python's round() of the detail does), around its
# status, itself generated. Concatenation only: nothing is formatted at read time.
_ANSWER = "list_head || '\"' || status || '\"' || list_schedule || list_next || list_tail || list_last"


def list_page(store: ReadStore, gateway_id: str, f: JobFilter) -> ListPage:
    """One statement: the counts over the whole selection and the page's answers, built and
    joined by PostgreSQL from the parts each row keeps (migration 026), never decoded here
    (docs/decisions.md 260). The page's keys come from the (gateway, created_at, job_id) index, then its 50 rows by
    their primary key: no sort of the selection's wide rows."""
    where = ["gateway_id = %(gateway_id)s"]
    params: dict[str, Any] = {"gateway_id": gateway_id, "limit": f.limit, "offset": f.offset}
    if f.status is not None:
        where.append("status = %(status)s")
        params["status"] = f.status
    if f.type is not None:
        where.append("type = %(type)s")
        params["type"] = f.type
    if f.tags:
        where.append("tags && %(tags)s")
        params["tags"] = list(f.tags)
    if f.enabled is not None:
        where.append("enabled = %(enabled)s")
        params["enabled"] = f.enabled
    clause = " AND ".join(where)
    row = store.first_row_text(
        f"SELECT c.total, c.active, (SELECT coalesce(string_agg({_ANSWER}, ',' ORDER BY created_at, job_id), '')"
        "  FROM jobs WHERE gateway_id = %(gateway_id)s AND job_id = ANY (ARRAY("
        f"   SELECT job_id FROM jobs WHERE {clause}"  # noqa: S608 - clause is built from constants
        "    ORDER BY created_at, job_id LIMIT %(limit)s OFFSET %(offset)s))) AS jobs"
        " FROM (SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active"
        f"  FROM jobs WHERE {clause}) c",  # noqa: S608
        params,
    )
    assert row is not None and row[0] is not None and row[1] is not None and row[2] is not None
    return ListPage(int(row[0]), int(row[1]), row[2])


def _upcoming(row: dict[str, Any], location: tuple[float, float] | None, now: datetime) -> list[datetime]:
    if not row["enabled"]:
        return []
    schedule = parse_schedule(
        row["type"], row["schedule"], anchor=row["schedule_anchor"], default_location=location, stored=True
    )
    return schedule.next_n(now, UPCOMING)


def job_detail(store: ReadStore, gateway_id: str, job_id: str, now: datetime) -> dict[str, Any]:
    row = store.one(
        "SELECT j.*, g.latitude, g.longitude FROM jobs j LEFT JOIN gateways g USING (gateway_id)"
        " WHERE j.gateway_id = %(gateway_id)s AND j.job_id = %(job_id)s",
        {"gateway_id": gateway_id, "job_id": job_id},
    )
    if row is None:
        raise JobNotFound(f"Job {job_id} not found", {"job_id": job_id})
    location = (row["latitude"], row["longitude"]) if row["latitude"] is not None else None
    return {
        "id": row["job_id"],
        "name": row["name"],
        "description": row["description"],
        "type": row["type"],
        "enabled": row["enabled"],
        "status": row["status"],
        "gateway_id": row["gateway_id"],
        "version": row["version"],
        "next_execution": row["next_execution"],
        "next_executions": _upcoming(row, location, now),
        "configuration": {"schedule": row["schedule"], "action": row["action"], "options": row["options"]},
        "statistics": {
            "total_executions": row["total_executions"],
            "successful_executions": row["successful_executions"],
            "failed_executions": row["failed_executions"],
            "average_duration_ms": _average(row),
            "last_execution": row["last_execution"],
            "last_status": row["last_status"],
        },
        "metadata": {
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "created_by": row["created_by"],
            "updated_by": row["updated_by"],
            "disabled_reason": row["disabled_reason"],
            "tags": row["tags"],
        },
    }


def gateway_jobs(store: ReadStore, gateway_id: str) -> list[dict[str, Any]]:
    rows = store.all(
        "SELECT job_id, name, type, enabled, status, next_execution FROM jobs"
        " WHERE gateway_id = %(gateway_id)s ORDER BY created_at, job_id",
        {"gateway_id": gateway_id},
    )
    return [
        {"id": r["job_id"], "name": r["name"], "type": r["type"], "enabled": r["enabled"],
         "status": r["status"], "next_execution": r["next_execution"]}
        for r in rows
    ]


def tags(store: ReadStore, gateway_id: str, limit: int) -> list[dict[str, Any]]:
    """A tag is used when a job carrying it last ran, or else when such a job last changed."""
    return store.all(
        "SELECT tag AS name, count(*) AS job_count,"
        " max(coalesce(greatest(last_execution, updated_at), updated_at)) AS last_used"
        " FROM jobs, unnest(tags) AS tag WHERE gateway_id = %(gateway_id)s"
        " GROUP BY tag ORDER BY job_count DESC, tag LIMIT %(limit)s",
        {"gateway_id": gateway_id, "limit": limit},
    )


def job_counts(store: ReadStore, gateway_id: str) -> dict[str, Any]:
    row = store.one(
        "SELECT count(*) AS total_jobs,"
        " count(*) FILTER (WHERE status = 'active') AS active_jobs,"
        " count(*) FILTER (WHERE status = 'error') AS failed_jobs,"
        " coalesce(sum(successful_executions), 0) AS successes,"
        " coalesce(sum(finished_executions), 0) AS finished,"
        " max(last_execution) AS last_execution,"
        " min(next_execution) AS next_scheduled"
        " FROM jobs WHERE gateway_id = %(gateway_id)s",
        {"gateway_id": gateway_id},
    )
    assert row is not None
    finished = int(row.pop("finished"))  # sum(bigint) is numeric: a Decimal
    successes = int(row.pop("successes"))
    row["success_rate"] = round(100.0 * successes / finished, 1) if finished else 100.0
    return row


def job_statistics(store: ReadStore, gateway_id: str, job_id: str) -> dict[str, Any]:
    """Execution counts of one job, e.g. for the answer to its deletion (zeros if unknown)."""
    row = store.one(
        "SELECT total_executions FROM jobs WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s",
        {"gateway_id": gateway_id, "job_id": job_id},
    )
    return row or {"total_executions": 0}
