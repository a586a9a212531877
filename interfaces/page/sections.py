"""The data the page embeds in `<div id="app" data-scheduler data-jobs data-gateways data-metrics>`:
each attribute is the JSON of the same query functions the API answers with, so the page needs no
API call to draw its first screen."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta

import msgspec
from markupsafe import Markup

from domain.actions import ACTION_TYPES
from domain.schedules import SCHEDULE_TYPES
from interfaces.api.executions import resource_usage
from interfaces.api.status import status_data
from interfaces.auth.tokens import Principal
from interfaces.runtime import Runtime
from projections import execution_queries, gateway_queries, job_queries
from projections.job_list import JobListView
from projections.job_queries import JobFilter

ENCODE = msgspec.json.Encoder().encode
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="page-reads")  # below the read pool's size
API_PREFIX = "/api/v1/scheduler"


def attribute(text: str) -> Markup:
    """JSON text escaped for a single-quoted attribute: `&`, `'`, `<` and `>` as references (no
    value can end the attribute or open a tag); double quotes stay as they are, which keeps the
    page a third smaller than full escaping would."""
    return Markup(text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;"))


def jobs_attribute(runtime: Runtime, gateway_id: str) -> Markup:
    """Every job of the gateway as the list route shapes them, JSON escaped for the attribute.
    Kept while the job list has not moved (the answer cache of GET /jobs, decision 39, keyed
    apart): a thousand jobs cost most of a render to read, decode, encode and escape."""
    position = runtime.progress.position(JobListView.tracking_table)  # before the query runs
    key = ("page-jobs", gateway_id)
    cached = runtime.list_cache.get(key, position)
    if cached is not None:
        return Markup(cached.decode())
    everything = JobFilter(limit=max(runtime.settings.max_jobs_per_gateway, 1))
    page = job_queries.list_page(runtime.reads, gateway_id, everything)
    text = attribute(f"[{page.jobs_json.decode()}]")
    runtime.list_cache.put(key, position, str(text).encode())
    return text


def embedded(runtime: Runtime, principal: Principal, gateway_id: str, *, csrf: str, socket_token: str) -> dict[str, Markup]:
    """The four attributes, JSON escaped for their attribute (`attribute`). The reads are
    independent: they run side by side on the read pool."""
    reads, now = runtime.reads, runtime.clock()
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    reading = {
        "jobs": (jobs_attribute, runtime, gateway_id),
        "gateways": (gateway_queries.list_gateways, reads, principal.allowed, now, runtime.offline_after),
        "status": (status_data, runtime, gateway_id),
        "tags": (job_queries.tags, reads, gateway_id, 100),
        "statistics": (execution_queries.statistics, reads, gateway_id, "24h", now - timedelta(hours=24), now),
        "resource_usage": (resource_usage, runtime, gateway_id),
        "active": (execution_queries.active_executions, reads, gateway_id, now, midnight),
        "feed_position": (lambda: runtime.app.recorder.max_notification_id() or 0,),
    }
    futures = {name: _READERS.submit(*call) for name, call in reading.items()}
    got = {name: future.result() for name, future in futures.items()}
    scheduler = {
        "gateway_id": gateway_id,
        "server_gateway_id": runtime.settings.gateway_id,
        "user": {"name": principal.subject, "role": principal.role},
        "status": got["status"],
        "templates": {"schedule_types": SCHEDULE_TYPES, "action_types": ACTION_TYPES},
        "tags": got["tags"],
        "api": API_PREFIX,
        "ws": API_PREFIX + "/ws",
        "csrf_token": csrf,
        "socket_token": socket_token,
        "rendered_at": now,
    }
    metrics = {name: got[name] for name in ("statistics", "resource_usage", "active", "feed_position")}
    return {
        "scheduler": attribute(ENCODE(scheduler).decode()),
        "jobs": got["jobs"],
        "gateways": attribute(ENCODE(got["gateways"]).decode()),
        "metrics": attribute(ENCODE(metrics).decode()),
    }
