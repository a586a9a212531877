"""Command routes on jobs: create, update, delete, toggle (operator role)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from application.commands import CreateJob, DeleteJob, ToggleJob, UpdateJob
from application.scheduler import Saved
from domain.job import Job
from interfaces.api.conflicts import refuse_conflicts
from interfaces.api.dependencies import Context
from interfaces.api.schemas import (
    CreateJobRequest,
    ToggleJobRequest,
    UpdateJobRequest,
    decode_body,
)
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from projections import conflict_queries, job_queries
from projections.conflict_queries import CheckRequest

# Bodies arrive raw (`body: RawBody`) and are decoded strictly by each handler
# (interfaces/api/schemas/requests.py says why); the OpenAPI document describes them with the
# structs of interfaces/api/schemas/documented_requests.py.


def _create(gateway_id: str, data: CreateJobRequest) -> CreateJob:
    return CreateJob(
        gateway_id=gateway_id, name=data.name, type=data.type, schedule=data.schedule, action=data.action,
        description=data.description, enabled=data.enabled, tags=tuple(data.tags), options=data.options,
        job_id=data.id,
    )


def _update(gateway_id: str, job_id: str, data: UpdateJobRequest, version: int | None) -> UpdateJob:
    return UpdateJob(
        gateway_id=gateway_id, job_id=job_id, name=data.name, description=data.description, type=data.type,
        enabled=data.enabled, schedule=data.schedule, action=data.action,
        tags=None if data.tags is None else tuple(data.tags), options=data.options, expected_version=version,
    )


def _job(saved: Saved) -> Job:
    assert saved.job is not None  # every job command is about a job
    return saved.job


class JobCommands(Controller):
    opt = {"role": "operator"}

    @post("/jobs", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_job(
        self, body: RawBody, ctx: NamedDependency[Context]
    ) -> dict[str, Any]:
        """Create a scheduled job in the current gateway; answers once the job is listed."""
        data = decode_body(body, CreateJobRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        if data.check_conflicts and data.enabled:
            schedule = {**data.schedule, "type": data.type}
            refuse_conflicts(ctx, CheckRequest(job_id=data.id, schedule=schedule, action=data.action))
        saved = ctx.runtime.app.execute(_create(ctx.gateway_id, data), ctx.cause)
        ctx.runtime.wait(saved.recorded)
        job = _job(saved)
        body = {"job_id": job.job_id, "name": job.config.name, "next_execution": job.next_execution, "version": job.version}
        return ok(body, "Job created successfully")

    @put("/jobs/{job_id:str}", sync_to_thread=True)
    def update_job(
        self, job_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context],
        expected_version: NamedDependency[int | None],
    ) -> Response[dict[str, Any]]:
        """Update a job; fields not given keep their values. `If-Match: "<version>"` (or `version`
        in the body) makes the write conditional: a stale one is VERSION_CONFLICT."""
        data = decode_body(body, UpdateJobRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        version = expected_version if expected_version is not None else data.version
        command = _update(ctx.gateway_id, job_id, data, version)
        if data.check_conflicts:
            updated = conflict_queries.updated_candidate(
                ctx.runtime.reads, ctx.gateway_id, job_id, command.patch(), now=ctx.runtime.clock()
            )
            if updated is not None:
                refuse_conflicts(ctx, CheckRequest(job_id=job_id, action=updated[1]), updated[0])
        saved = ctx.runtime.app.execute(command, ctx.cause)
        ctx.runtime.wait(saved.recorded)
        job = _job(saved)
        body = {"job_id": job_id, "next_execution": job.next_execution, "version": job.version}
        return Response(ok(body, "Job updated successfully"), headers={"ETag": f'"{job.version}"'})

    @delete("/jobs/{job_id:str}", status_code=HTTP_200_OK, sync_to_thread=True)
    def delete_job(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], expected_version: NamedDependency[int | None]
    ) -> dict[str, Any]:
        """Delete a job permanently (its events stay in the log)."""
        statistics = job_queries.job_statistics(ctx.runtime.reads, ctx.gateway_id, job_id)
        saved = ctx.runtime.app.execute(DeleteJob(ctx.gateway_id, job_id, expected_version), ctx.cause)
        ctx.runtime.wait(saved.recorded)
        body = {"deleted_job": job_id, "statistics": statistics}
        return ok(body, "Job deleted successfully")

    @post("/jobs/{job_id:str}/toggle", status_code=HTTP_200_OK, sync_to_thread=True)
    def toggle_job(
        self, job_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context],
        expected_version: NamedDependency[int | None],
    ) -> dict[str, Any]:
        """Enable or disable a job, with a reason kept in its history."""
        data = decode_body(body, ToggleJobRequest)
        command = ToggleJob(ctx.gateway_id, job_id, data.enabled, data.reason, expected_version)
        saved = ctx.runtime.app.execute(command, ctx.cause)
        ctx.runtime.wait(saved.recorded)
        job = _job(saved)
        body = {"job_id": job_id, "enabled": job.enabled, "next_execution": job.next_execution}
        return ok(body, "Job enabled successfully" if data.enabled else "Job disabled successfully")
