"""Queries of the audit / version read model (projections/audit.py): a job's audit, the gateway's
audit with filters, a job's version as of an instant or by number, an operation's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import JobNotFound
from domain.schedules import parse_schedule
from projections.read_store import ReadStore

_ENTRY = "version, timestamp, actor, action, reason, operation_id, request_id, changes"


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    operation_id: str | None = None
    limit: int = 50
    offset: int = 0


def _not_found(job_id: str, reason: str = "unknown") -> JobNotFound:
    return JobNotFound(f"Job {job_id} not found", {"job_id": job_id, "reason": reason})


def job_audit(store: ReadStore, gateway_id: str, job_id: str, limit: int, offset: int) -> dict[str, Any]:
    """Every change of the job, newest first (a deleted job's included)."""
    rows = store.all(
        f"SELECT count(*) OVER () AS total, {_ENTRY} FROM job_versions"  # noqa: S608 - constants
        " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s ORDER BY version DESC"
        " LIMIT %(limit)s OFFSET %(offset)s",
        {"gateway_id": gateway_id, "job_id": job_id, "limit": limit, "offset": offset},
    )
    if not rows:
        total = store.one(
            "SELECT count(*) AS n FROM job_versions WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s",
            {"gateway_id": gateway_id, "job_id": job_id},
        )
        if not total or not total["n"]:
            raise _not_found(job_id)
        return {"job_id": job_id, "total": total["n"], "limit": limit, "offset": offset, "entries": []}
    total = rows[0]["total"]
    for row in rows:
        del row["total"]
    return {"job_id": job_id, "total": total, "limit": limit, "offset": offset, "entries": rows}


def gateway_audit(store: ReadStore, gateway_id: str, f: AuditFilter) -> dict[str, Any]:
    where = ["gateway_id = %(gateway_id)s"]
    params: dict[str, Any] = {"gateway_id": gateway_id, "limit": f.limit, "offset": f.offset}
    for name in ("actor", "action", "operation_id"):
        value = getattr(f, name)
        if value is not None:
            where.append(f"{name} = %({name})s")
            params[name] = value
    if f.since is not None:
        where.append("timestamp >= %(since)s")
        params["since"] = f.since
    if f.until is not None:
        where.append("timestamp < %(until)s")
        params["until"] = f.until
    clause = " AND ".join(where)
    total = store.one(f"SELECT count(*) AS n FROM job_versions WHERE {clause}", params)  # noqa: S608
    rows = store.all(
        f"SELECT job_id, {_ENTRY} FROM job_versions WHERE {clause}"  # noqa: S608 - built from constants
        " ORDER BY timestamp DESC, position DESC LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    return {"total": total["n"] if total else 0, "limit": f.limit, "offset": f.offset, "entries": rows}


_VERSION = (
    "SELECT version, timestamp, actor, action, reason, snapshot FROM job_versions"
    " WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s"
)


def version_row(
    store: ReadStore, gateway_id: str, job_id: str, *, as_of: datetime | None = None, version: int | None = None
) -> dict[str, Any]:
    """The row in force at `as_of` (the last recorded at or before it), or version `version`."""
    params = {"gateway_id": gateway_id, "job_id": job_id, "as_of": as_of, "version": version}
    if version is not None:
        row = store.one(_VERSION + " AND version = %(version)s", params)
        if row is None:
            raise _not_found(job_id, "no such version")
        return row
    row = store.one(_VERSION + " AND timestamp <= %(as_of)s ORDER BY version DESC LIMIT 1", params)
    if row is None:
        raise _not_found(job_id, "not created at that instant")
    return row


def job_as_of(
    store: ReadStore, gateway_id: str, job_id: str, *, as_of: datetime | None = None, version: int | None = None
) -> dict[str, Any]:
    """The job as it was: its configuration, whether it was enabled, and the next fire as the
    service then computed it (from the instant asked; for a version, the one its event recorded)."""
    row = version_row(store, gateway_id, job_id, as_of=as_of, version=version)
    snap = row["snapshot"]
    at = as_of if as_of is not None else row["timestamp"]
    nxt = snap.get("next_execution")
    if as_of is not None:
        nxt = None
        if snap.get("enabled") and not snap.get("deleted"):
            schedule = parse_schedule(
                snap["type"], snap["schedule"], anchor=datetime.fromisoformat(snap["schedule_anchor"]), stored=True
            )
            nxt = schedule.next_after(as_of)
    return {
        "id": job_id, "gateway_id": gateway_id, "version": row["version"], "as_of": at,
        "recorded_at": row["timestamp"], "changed_by": row["actor"], "action": row["action"],
        "deleted": bool(snap.get("deleted")), "name": snap["name"], "description": snap["description"],
        "type": snap["type"], "enabled": bool(snap["enabled"]), "disabled_reason": snap.get("disabled_reason", ""),
        "tags": snap["tags"], "next_execution": nxt, "recorded_next_execution": snap.get("next_execution"),
        "configuration": {"schedule": snap["schedule"], "action": snap["action"], "options": snap["options"]},
    }


def versions_between(store: ReadStore, gateway_id: str, job_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The versions in force during [start, end]: the last one before start, and every one in it."""
    return store.all(
        "(SELECT version, timestamp, actor, action, reason, snapshot FROM job_versions"
        "  WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s AND timestamp <= %(start)s"
        "  ORDER BY version DESC LIMIT 1)"
        " UNION ALL (SELECT version, timestamp, actor, action, reason, snapshot FROM job_versions"
        "  WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s AND timestamp > %(start)s"
        "  AND timestamp <= %(end)s ORDER BY version) ORDER BY version",
        {"gateway_id": gateway_id, "job_id": job_id, "start": start, "end": end},
    )


def operation_rows(store: ReadStore, gateway_id: str, operation_id: str) -> list[dict[str, Any]]:
    """Every row an operation recorded, with the before-state of each and the job's last version."""
    return store.all(
        "SELECT v.job_id, v.version, v.action, v.snapshot AS after,"
        " (SELECT p.snapshot FROM job_versions p WHERE p.gateway_id = v.gateway_id AND p.job_id = v.job_id"
        "   AND p.version < v.version ORDER BY p.version DESC LIMIT 1) AS before,"
        " (SELECT max(l.version) FROM job_versions l WHERE l.gateway_id = v.gateway_id AND l.job_id = v.job_id)"
        "   AS latest"
        " FROM job_versions v WHERE v.gateway_id = %(gateway_id)s AND v.operation_id = %(operation_id)s"
        " ORDER BY v.position",
        {"gateway_id": gateway_id, "operation_id": operation_id},
    )
