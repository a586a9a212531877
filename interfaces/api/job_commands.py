"""Command routes on jobs: create, update, delete, toggle (operator role)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from interfaces.api.schemas import (
    CreateJobRequest,
    ToggleJobRequest,
    UpdateJobRequest,
    fields_of,
)
from interfaces.auth import Principal, requires, same_gateway
from interfaces.envelope import ok
from interfaces.runtime import Runtime
from projections import job_queries


class JobCommands(Controller):
    path = "/jobs"
    guards = [requires("operator")]

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_job(
        self, data: JSONBody[CreateJobRequest], runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], gateway_id: NamedDependency[str]
    ) -> dict[str, Any]:
        """Create a scheduled job in the current gateway; answers once the job is listed."""
        same_gateway(gateway_id, data.gateway_id)
        saved = runtime.app.create_job(gateway_id, fields_of(data, skip=("gateway_id",)), actor=principal.subject)
        runtime.wait(saved.recorded)
        job = saved.job
        body = {"job_id": job.job_id, "name": job.config.name, "next_execution": job.next_execution, "version": job.version}
        return ok(body, "Job created successfully")

    @put("/{job_id:str}", sync_to_thread=True)
    def update_job(
        self, job_id: FromPath[str], data: JSONBody[UpdateJobRequest], runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], gateway_id: NamedDependency[str],
        expected_version: NamedDependency[int | None],
    ) -> Response[dict[str, Any]]:
        """Update a job; fields not given keep their values. `If-Match: "<version>"` (or `version`
        in the body) makes the write conditional: a stale one is VERSION_CONFLICT."""
        same_gateway(gateway_id, data.gateway_id)
        patch = fields_of(data, skip=("gateway_id", "version"))
        version = expected_version if expected_version is not None else data.version
        saved = runtime.app.update_job(gateway_id, job_id, patch, actor=principal.subject, expected_version=version)
        runtime.wait(saved.recorded)
        body = {"job_id": job_id, "next_execution": saved.job.next_execution, "version": saved.job.version}
        return Response(ok(body, "Job updated successfully"), headers={"ETag": f'"{saved.job.version}"'})

    @delete("/{job_id:str}", status_code=HTTP_200_OK, sync_to_thread=True)
    def delete_job(
        self, job_id: FromPath[str], runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], gateway_id: NamedDependency[str], expected_version: NamedDependency[int | None]
    ) -> dict[str, Any]:
        """Delete a job permanently (its events stay in the log)."""
        statistics = job_queries.job_statistics(runtime.reads, gateway_id, job_id)
        saved = runtime.app.delete_job(gateway_id, job_id, actor=principal.subject, expected_version=expected_version)
        runtime.wait(saved.recorded)
        body = {"deleted_job": job_id, "statistics": statistics}
        return ok(body, "Job deleted successfully")

    @post("/{job_id:str}/toggle", status_code=HTTP_200_OK, sync_to_thread=True)
    def toggle_job(
        self, job_id: FromPath[str], data: JSONBody[ToggleJobRequest], runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], gateway_id: NamedDependency[str],
        expected_version: NamedDependency[int | None],
    ) -> dict[str, Any]:
        """Enable or disable a job, with a reason kept in its history."""
        saved = runtime.app.toggle_job(
            gateway_id, job_id, enabled=data.enabled, reason=data.reason, actor=principal.subject,
            expected_version=expected_version,
        )
        runtime.wait(saved.recorded)
        body = {"job_id": job_id, "enabled": saved.job.enabled, "next_execution": saved.job.next_execution}
        return ok(body, "Job enabled successfully" if data.enabled else "Job disabled successfully")
