"""Query routes on jobs: the filtered list and one job's detail (viewer role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter

from domain.errors import ValidationFailed
from domain.schedules import SCHEDULE_TYPES
from interfaces.auth import requires
from interfaces.envelope import ok
from interfaces.runtime import Runtime
from projections import job_queries
from projections.job_list import JobListView
from projections.job_queries import JobFilter

ENCODER = msgspec.json.Encoder()


def job_filter(
    status: Literal["active", "inactive", "error"] | None,
    job_type: str | None,
    tags: str | None,
    enabled: bool | None,
    limit: int,
    offset: int,
) -> JobFilter:
    if job_type is not None and job_type not in SCHEDULE_TYPES:
        raise ValidationFailed(f"Unknown job type {job_type!r}", {"field": "type", "allowed": sorted(SCHEDULE_TYPES)})
    tag_list = tuple(t.strip() for t in (tags or "").split(",") if t.strip())
    return JobFilter(status=status, type=job_type, tags=tag_list, enabled=enabled, limit=limit, offset=offset)


class JobQueries(Controller):
    path = "/jobs"
    guards = [requires("viewer")]

    @get("/")
    async def list_jobs(
        self,
        runtime: NamedDependency[Runtime],
        gateway_id: NamedDependency[str],
        status: FromQuery[Literal["active", "inactive", "error"] | None] = None,
        job_type: Annotated[str | None, QueryParameter(name="type")] = None,
        tags: FromQuery[str | None] = None,
        enabled: FromQuery[bool | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[bytes]:
        """List the gateway's jobs, filtered by status, type, tags (any of, comma-separated) and enabled."""
        selection = job_filter(status, job_type, tags, enabled, limit, offset)
        key = (gateway_id, selection)
        position = runtime.progress.position(JobListView.tracking_table)
        body = runtime.list_cache.get(key, position)
        if body is None:
            data = await sync_to_thread(job_queries.list_jobs, runtime.reads, gateway_id, selection)
            body = ENCODER.encode(ok(data, "Jobs retrieved successfully"))
            runtime.list_cache.put(key, position, body)
        return Response(body, media_type=MediaType.JSON)

    @get("/{job_id:str}", sync_to_thread=True)
    def job_detail(self, job_id: FromPath[str], runtime: NamedDependency[Runtime], gateway_id: NamedDependency[str]) -> Response[dict[str, Any]]:
        """One job: configuration, statistics, metadata and its next 10 fire instants. ETag is its version."""
        job = job_queries.job_detail(runtime.reads, gateway_id, job_id, runtime.clock())
        return Response(ok({"job": job}, "Job details retrieved successfully"), headers={"ETag": f'"{job["version"]}"'})
