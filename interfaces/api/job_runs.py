"""POST /jobs/{job_id}/run: ask the gateway's dispatcher for a run now (operator role)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK

from application.commands import RunJob
from domain.errors import GatewayOffline, ResourceLimitExceeded
from interfaces.api.dependencies import Context
from interfaces.api.schemas import RunJobRequest, decode_body
from interfaces.envelope import ok
from projections import execution_queries, gateway_queries


class JobRuns(Controller):
    opt = {"role": "operator"}

    @post("/jobs/{job_id:str}/run", status_code=HTTP_200_OK, sync_to_thread=True)
    def run_job(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], body: RawBody
    ) -> dict[str, Any]:
        """Run a job now. Refused with GATEWAY_OFFLINE when the gateway's worker is not heartbeating,
        and with RESOURCE_LIMIT_EXCEEDED at its concurrency limit unless `force` is true."""
        request = decode_body(body, RunJobRequest | None) if body.strip() else None
        request = request or RunJobRequest()
        ctx.runtime.app.job(ctx.gateway_id, job_id)  # JOB_NOT_FOUND before anything else
        gateway = gateway_queries.gateway(ctx.runtime.reads, ctx.gateway_id, ctx.runtime.clock(), ctx.runtime.offline_after)
        if gateway["status"] != "online":
            raise GatewayOffline(f"Gateway {ctx.gateway_id} is offline (last seen {gateway['last_seen']})", None)
        running = execution_queries.running_count(ctx.runtime.reads, ctx.gateway_id)
        if not request.force and running >= ctx.runtime.settings.max_concurrent_jobs:
            raise ResourceLimitExceeded(
                f"{running} executions are running (limit {ctx.runtime.settings.max_concurrent_jobs}); pass force to queue anyway",
                {"running": running, "max_concurrent_jobs": ctx.runtime.settings.max_concurrent_jobs},
            )
        saved = ctx.runtime.app.execute(RunJob(ctx.gateway_id, job_id, request.parameters, request.force), ctx.cause)
        ctx.runtime.wait(saved.recorded)
        assert saved.job is not None
        data_out = {"execution_id": saved.execution_id, "job_id": job_id, "status": "started", "trigger": "manual",
                    "start_time": saved.job.modified_on}
        return ok(data_out, "Job execution started")
