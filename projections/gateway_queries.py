"""Queries of the gateways read model joined with worker heartbeats and job counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.errors import GatewayNotFound
from projections import job_queries
from projections.read_store import ReadStore

_SELECT = (
    "SELECT g.gateway_id, g.name, g.location, g.latitude, g.longitude, h.last_seen,"
    " coalesce(j.jobs_count, 0) AS jobs_count, coalesce(j.active_jobs, 0) AS active_jobs"
    " FROM gateways g"
    " LEFT JOIN (SELECT gateway_id, max(last_seen) AS last_seen FROM gateway_heartbeats GROUP BY gateway_id) h"
    "   USING (gateway_id)"
    " LEFT JOIN (SELECT gateway_id, count(*) AS jobs_count, count(*) FILTER (WHERE status = 'active')"
    "   AS active_jobs FROM jobs GROUP BY gateway_id) j USING (gateway_id)"
)


def _shape(row: dict[str, Any], now: datetime, stale_after: timedelta) -> dict[str, Any]:
    online = row["last_seen"] is not None and now - row["last_seen"] <= stale_after
    return {
        "id": row["gateway_id"],
        "name": row["name"],
        "status": "online" if online else "offline",
        "location": row["location"],
        "last_seen": row["last_seen"],
        "jobs_count": row["jobs_count"],
        "active_jobs": row["active_jobs"],
    }


def list_gateways(
    store: ReadStore, allowed: list[str] | None, now: datetime, stale_after: timedelta
) -> list[dict[str, Any]]:
    """`allowed` None means every gateway (a token for '*')."""
    if allowed is None:
        rows = store.all(_SELECT + " ORDER BY g.gateway_id")
    else:
        rows = store.all(_SELECT + " WHERE g.gateway_id = ANY(%(allowed)s) ORDER BY g.gateway_id", {"allowed": allowed})
    return [_shape(r, now, stale_after) for r in rows]


def gateway(store: ReadStore, gateway_id: str, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    row = store.one(_SELECT + " WHERE g.gateway_id = %(gateway_id)s", {"gateway_id": gateway_id})
    if row is None:
        raise GatewayNotFound(f"Gateway {gateway_id} not found", {"gateway_id": gateway_id})
    return _shape(row, now, stale_after)


def gateway_jobs(store: ReadStore, gateway_id: str, now: datetime, stale_after: timedelta) -> dict[str, Any]:
    """The gateway (GATEWAY_NOT_FOUND if unknown) with all its jobs and their counts."""
    found = gateway(store, gateway_id, now, stale_after)
    jobs = job_queries.gateway_jobs(store, gateway_id)
    return {
        "gateway_id": gateway_id, "gateway_name": found["name"], "total_jobs": len(jobs),
        "active_jobs": sum(1 for j in jobs if j["status"] == "active"), "jobs": jobs,
    }
