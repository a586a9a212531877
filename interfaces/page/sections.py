"""The data the page embeds in `<div id="app" data-scheduler data-jobs data-gateways data-metrics>`:
each attribute is the JSON of the same query functions the API answers with, so the page needs no
API call to draw its first screen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec

from domain.actions import ACTION_TYPES
from domain.schedules import SCHEDULE_TYPES
from interfaces.api.executions import resource_usage
from interfaces.api.status import status_data
from interfaces.auth.tokens import Principal
from interfaces.runtime import Runtime
from projections import execution_queries, gateway_queries, job_queries
from projections.job_queries import JobFilter

ENCODE = msgspec.json.Encoder().encode
API_PREFIX = "/api/v1/scheduler"


def embedded(runtime: Runtime, principal: Principal, gateway_id: str, *, csrf: str, socket_token: str) -> dict[str, str]:
    """The four attributes, JSON text (the template escapes them for the attribute)."""
    reads, now = runtime.reads, runtime.clock()
    everything = JobFilter(limit=max(runtime.settings.max_jobs_per_gateway, 1))
    jobs = job_queries.list_jobs(reads, gateway_id, everything)["jobs"]
    gateways = gateway_queries.list_gateways(reads, principal.allowed, now, runtime.offline_after)
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    scheduler = {
        "gateway_id": gateway_id,
        "server_gateway_id": runtime.settings.gateway_id,
        "user": {"name": principal.subject, "role": principal.role},
        "status": status_data(runtime, gateway_id),
        "templates": {"schedule_types": SCHEDULE_TYPES, "action_types": ACTION_TYPES},
        "tags": job_queries.tags(reads, gateway_id, 100),
        "api": API_PREFIX,
        "ws": API_PREFIX + "/ws",
        "csrf_token": csrf,
        "socket_token": socket_token,
        "rendered_at": now,
    }
    metrics = {
        "statistics": execution_queries.statistics(reads, gateway_id, "24h", now - timedelta(hours=24), now),
        "resource_usage": resource_usage(runtime, gateway_id),
        "active": execution_queries.active_executions(reads, gateway_id, now, midnight),
        "feed_position": runtime.app.recorder.max_notification_id() or 0,
    }
    return {
        "scheduler": ENCODE(scheduler).decode(),
        "jobs": ENCODE(jobs).decode(),
        "gateways": ENCODE(gateways).decode(),
        "metrics": ENCODE(metrics).decode(),
    }
