"""The overview status route and the unauthenticated health and readiness probes."""

from __future__ import annotations

from typing import Any

import psutil
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST

from interfaces.api.dependencies import Context
from interfaces.envelope import ok
from interfaces.errors import error_response
from interfaces.metrics import exposition, registry_for
from interfaces.runtime import Runtime
from projections import gateway_queries, job_queries

_PROCESS = psutil.Process()


def _memory() -> str:
    rss = _PROCESS.memory_info().rss
    return f"{rss / 2**30:.1f} GB" if rss >= 2**30 else f"{rss / 2**20:.0f} MB"


def status_data(runtime: Runtime, gateway_id: str) -> dict[str, Any]:
    """The overview figures of a gateway: the status route's data, embedded in the page too."""
    counts = job_queries.job_counts(runtime.reads, gateway_id)
    gateways = gateway_queries.list_gateways(runtime.reads, [gateway_id], runtime.clock(), runtime.offline_after)
    online = bool(gateways) and gateways[0]["status"] == "online"
    return {
        "system_status": "healthy" if online else "degraded",
        **counts,
        "resource_usage": {
            "cpu": psutil.cpu_percent(interval=None),
            "memory": _memory(),
            "concurrent_jobs": runtime.running_count(gateway_id),
        },
    }


class Status(Controller):
    @get("/status", opt={"role": "viewer"}, sync_to_thread=True)
    def get_status(self, ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Scheduler health and job statistics of the current gateway."""
        return ok(status_data(ctx.runtime, ctx.gateway_id), "Scheduler status retrieved successfully")


class Health(Controller):
    @get("/healthz", exclude_from_auth=True, include_in_schema=False)
    async def healthz(self) -> dict[str, Any]:
        return ok({"status": "ok"}, "alive")

    @get("/metrics", exclude_from_auth=True, sync_to_thread=True, include_in_schema=False)
    def metrics(self, runtime: NamedDependency[Runtime]) -> Response[bytes]:
        """Prometheus text exposition (docs/operations.md lists the metrics)."""
        return Response(exposition(registry_for(runtime)), media_type=CONTENT_TYPE_LATEST)

    @get("/readyz", exclude_from_auth=True, sync_to_thread=True, include_in_schema=False)
    def readyz(self, runtime: NamedDependency[Runtime]) -> Response[Any]:
        """Ready: the database answers and every read model advances (one that cannot apply an
        event is named with the event, docs/operations.md says what to do)."""
        try:
            runtime.reads.one("SELECT 1 AS one")
        except Exception:  # noqa: BLE001 - any failure means not ready
            return error_response("SERVICE_UNAVAILABLE", "database unreachable")
        stuck = [
            {"projection": t.projection.name, "notification_id": t.failure.notification_id, "error": t.failure.error}
            for t in runtime.projections if t.failure is not None
        ]
        if stuck:
            return error_response("SERVICE_UNAVAILABLE", "a read model cannot advance", {"projections": stuck})
        for gateway_id, worker in list(runtime.workers.items()):
            healthy, detail = worker.dispatcher.writer.health() if worker.dispatcher else (True, "")
            if not healthy:
                return error_response("SERVICE_UNAVAILABLE", f"dispatcher of {gateway_id}: {detail}")
        return Response(ok({"status": "ready"}, "ready"))
