"""Command routes on jobs: create, update, delete, toggle (operator role)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, delete, post, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from interfaces.api.dependencies import Context
from interfaces.api.schemas import (
    CreateJobRequest,
    ToggleJobRequest,
    UpdateJobRequest,
    decode_body,
    fields_of,
)
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from projections import job_queries


# The raw body, decoded strictly by the handler (interfaces/api/schemas/requests.py says why); the
# OpenAPI document describes it with the structs of interfaces/api/schemas/documented_requests.py.
RawBody = Annotated[bytes, Body(media_type="application/json")]


class JobCommands(Controller):
    path = "/jobs"
    opt = {"role": "operator"}

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_job(
        self, body: RawBody, ctx: NamedDependency[Context]
    ) -> dict[str, Any]:
        """Create a scheduled job in the current gateway; answers once the job is listed."""
        data = decode_body(body, CreateJobRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        saved = ctx.runtime.app.create_job(ctx.gateway_id, fields_of(data, skip=("gateway_id",)), actor=ctx.principal.subject)
        ctx.runtime.wait(saved.recorded)
        job = saved.job
        body = {"job_id": job.job_id, "name": job.config.name, "next_execution": job.next_execution, "version": job.version}
        return ok(body, "Job created successfully")

    @put("/{job_id:str}", sync_to_thread=True)
    def update_job(
        self, job_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context],
        expected_version: NamedDependency[int | None],
    ) -> Response[dict[str, Any]]:
        """Update a job; fields not given keep their values. `If-Match: "<version>"` (or `version`
        in the body) makes the write conditional: a stale one is VERSION_CONFLICT."""
        data = decode_body(body, UpdateJobRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        patch = fields_of(data, skip=("gateway_id", "version"))
        version = expected_version if expected_version is not None else data.version
        saved = ctx.runtime.app.update_job(ctx.gateway_id, job_id, patch, actor=ctx.principal.subject, expected_version=version)
        ctx.runtime.wait(saved.recorded)
        body = {"job_id": job_id, "next_execution": saved.job.next_execution, "version": saved.job.version}
        return Response(ok(body, "Job updated successfully"), headers={"ETag": f'"{saved.job.version}"'})

    @delete("/{job_id:str}", status_code=HTTP_200_OK, sync_to_thread=True)
    def delete_job(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], expected_version: NamedDependency[int | None]
    ) -> dict[str, Any]:
        """Delete a job permanently (its events stay in the log)."""
        statistics = job_queries.job_statistics(ctx.runtime.reads, ctx.gateway_id, job_id)
        saved = ctx.runtime.app.delete_job(ctx.gateway_id, job_id, actor=ctx.principal.subject, expected_version=expected_version)
        ctx.runtime.wait(saved.recorded)
        body = {"deleted_job": job_id, "statistics": statistics}
        return ok(body, "Job deleted successfully")

    @post("/{job_id:str}/toggle", status_code=HTTP_200_OK, sync_to_thread=True)
    def toggle_job(
        self, job_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context],
        expected_version: NamedDependency[int | None],
    ) -> dict[str, Any]:
        """Enable or disable a job, with a reason kept in its history."""
        data = decode_body(body, ToggleJobRequest)
        saved = ctx.runtime.app.toggle_job(
            ctx.gateway_id, job_id, enabled=data.enabled, reason=data.reason, actor=ctx.principal.subject,
            expected_version=expected_version,
        )
        ctx.runtime.wait(saved.recorded)
        body = {"job_id": job_id, "enabled": saved.job.enabled, "next_execution": saved.job.next_execution}
        return ok(body, "Job enabled successfully" if data.enabled else "Job disabled successfully")
