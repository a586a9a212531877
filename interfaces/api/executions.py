"""Query routes on executions (viewer role): one execution, a job's history, logs and metrics,
gateway statistics, the live monitor and resource usage."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Annotated, Any, Literal

import psutil
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from domain.errors import ValidationFailed
from interfaces.api.dependencies import Context
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from interfaces.runtime import Runtime
from projections import execution_queries as queries
from projections.execution_queries import Window

TIME_RANGES = {
    "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90),
}
_PROCESS = psutil.Process()

Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses NUL in text: refuse it at the edge
DateText = Annotated[str | None, Parameter(max_length=64)]
IdText = Annotated[str | None, Parameter(max_length=128, pattern=NO_NUL)]
NamedGateway = Annotated[str | None, Parameter(max_length=64)]  # the `gateway_id` query parameter


def _bound(raw: str | None, field: str, *, end: bool) -> datetime | None:
    """An ISO date (a whole UTC day: an end date includes it) or an instant with Z or an offset."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise ValueError("no offset") from None
            return value.astimezone(UTC) + (timedelta(microseconds=1) if end else timedelta())
        return datetime.combine(day, clock_time(), UTC) + (timedelta(days=1) if end else timedelta())
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"{field} must be an ISO date (2025-03-12) or an instant with Z or an offset",
            {"field": field, "value": raw},
        ) from None


def window(start_date: str | None, end_date: str | None) -> Window:
    selected = Window(_bound(start_date, "start_date", end=False), _bound(end_date, "end_date", end=True))
    if selected.start is not None and selected.end is not None and selected.start >= selected.end:
        raise ValidationFailed("start_date must be before end_date", {"field": "start_date"})
    return selected


class _NetworkMeter:
    """Network throughput (sent + received) since the previous reading; 0 on the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, int] | None = None

    def kbps(self) -> float:
        counters = psutil.net_io_counters()
        total = counters.bytes_sent + counters.bytes_recv if counters else 0
        now = time.monotonic()
        with self._lock:
            last, self._last = self._last, (now, total)
        if last is None or now <= last[0]:
            return 0.0
        return round(max(0, total - last[1]) * 8 / 1000 / (now - last[0]), 1)


_NETWORK = _NetworkMeter()


def resource_usage(runtime: Runtime, gateway_id: str) -> dict[str, Any]:
    return {
        "gateway_id": gateway_id,
        "max_concurrent_jobs": runtime.settings.max_concurrent_jobs,
        "current_concurrent_jobs": runtime.running_count(gateway_id),
        "cpu_usage_percent": round(_PROCESS.cpu_percent(interval=None), 1),
        "memory_usage_mb": round(_PROCESS.memory_info().rss / 2**20, 1),
        "storage_usage_mb": queries.database_size_mb(runtime.reads),
        "network_usage_kbps": _NETWORK.kbps(),
    }


def _midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), clock_time(), UTC)


class ExecutionQueries(Controller):
    opt = {"role": "viewer"}

    @get("/executions/{execution_id:str}", sync_to_thread=True)
    def execution_status(self, execution_id: FromPath[str], ctx: NamedDependency[Context]) -> dict[str, Any]:
        """One execution: its status (`completed` once it succeeded), timing and result."""
        found = queries.execution(ctx.runtime.reads, ctx.gateway_id, execution_id)
        return ok({"execution": found}, "Execution status retrieved successfully")

    @get("/jobs/{job_id:str}/history", sync_to_thread=True)
    def job_history(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], start_date: DateText = None, end_date: DateText = None,
        status: FromQuery[Literal["success", "failed", "timeout", "missed", "running"] | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50, offset: Offset = 0,
    ) -> dict[str, Any]:
        """A job's executions, newest first, by start date (ISO date or instant) and status."""
        selected = window(start_date, end_date)
        data = queries.job_history(ctx.runtime.reads, ctx.gateway_id, job_id, selected, status, limit, offset)
        return ok(data, "Job execution history retrieved successfully")

    @get("/jobs/{job_id:str}/logs", sync_to_thread=True)
    def job_logs(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], execution_id: IdText = None,
        level: FromQuery[Literal["info", "warning", "error", "debug"] | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100, offset: Offset = 0,
    ) -> dict[str, Any]:
        """A job's log lines: one execution's in order, else the job's newest first."""
        data = queries.job_logs(ctx.runtime.reads, ctx.gateway_id, job_id, execution_id, level, limit, offset)
        return ok(data, "Job logs retrieved successfully")

    @get("/jobs/{job_id:str}/metrics", sync_to_thread=True)
    def job_metrics(
        self, job_id: FromPath[str], ctx: NamedDependency[Context],
        granularity: FromQuery[Literal["hourly", "daily", "weekly"]] = "daily", start_date: DateText = None,
        end_date: DateText = None,
    ) -> dict[str, Any]:
        """Execution times (average, min, max, p95), success rate, resource use and a series per period."""
        data = queries.job_metrics(ctx.runtime.reads, ctx.gateway_id, job_id, granularity, window(start_date, end_date))
        return ok(data, "Job metrics retrieved successfully")


class Analytics(Controller):
    opt = {"role": "viewer"}

    @get("/statistics", sync_to_thread=True)
    def statistics(
        self, ctx: NamedDependency[Context], gateway_id: NamedGateway = None,
        time_range: FromQuery[Literal["24h", "7d", "30d", "90d"]] = "24h",
    ) -> dict[str, Any]:
        """Executions of the gateway over the time range; `gateway_id`, if given, must be the context."""
        same_gateway(ctx.gateway_id, gateway_id)
        now = ctx.runtime.clock()
        data = queries.statistics(ctx.runtime.reads, ctx.gateway_id, time_range, now - TIME_RANGES[time_range], now)
        return ok({"statistics": data}, "Scheduler statistics retrieved successfully")

    @get("/monitor/active", sync_to_thread=True)
    def active_executions(self, ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Executions running (or between attempts) now, with progress against their timeout."""
        now = ctx.runtime.clock()
        data = queries.active_executions(ctx.runtime.reads, ctx.gateway_id, now, _midnight(now))
        return ok(data, "Active executions retrieved successfully")

    @get("/resources/usage", sync_to_thread=True)
    def resource_usage(self, ctx: NamedDependency[Context], gateway_id: NamedGateway = None) -> dict[str, Any]:
        """This process's CPU and memory, the database's size, network throughput and job slots."""
        same_gateway(ctx.gateway_id, gateway_id)
        return ok({"resource_usage": resource_usage(ctx.runtime, ctx.gateway_id)}, "Resource usage retrieved successfully")
