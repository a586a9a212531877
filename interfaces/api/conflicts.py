"""POST /conflicts/check: a candidate's predicted runs against the gateway's enabled jobs
(docs/api.md, "Conflict check"); and the same check for a create or update that asks for it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import RawBody
from litestar.status_codes import HTTP_200_OK

from domain.errors import ScheduleConflict
from domain.schedules import Schedule, supported_instant
from interfaces.api.dependencies import Context
from interfaces.api.schemas import decode_body
from interfaces.api.schemas.conflicts import CheckConflictsRequest
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from projections import conflict_queries
from projections.conflict_queries import CheckRequest



def check_request(data: CheckConflictsRequest) -> CheckRequest:
    return CheckRequest(
        job_id=data.job_id, schedule=data.schedule, action=data.action,
        estimated_duration_seconds=data.estimated_duration_seconds,
        start=None if data.start is None else supported_instant(data.start, "start"),
        horizon_days=data.horizon_days, window_minutes=data.window_minutes, step_minutes=data.step_minutes,
    )


def report(ctx: Context, request: CheckRequest, candidate: Schedule | None = None) -> dict[str, Any]:
    return conflict_queries.check(
        ctx.runtime.reads, ctx.gateway_id, request, now=ctx.runtime.clock(),
        max_concurrent=ctx.runtime.settings.max_concurrent_jobs, candidate=candidate,
    )


def refuse_conflicts(ctx: Context, request: CheckRequest, candidate: Schedule | None = None) -> None:
    """A create or update with `check_conflicts: true`: SCHEDULE_CONFLICT with the report, if any."""
    found = report(ctx, request, candidate)
    if found["has_conflicts"]:
        raise ScheduleConflict(f"The schedule conflicts with {len(found['conflicts'])} existing job runs", found)


class Conflicts(Controller):
    opt = {"role": "viewer"}

    @post("/conflicts/check", status_code=HTTP_200_OK, sync_to_thread=True)
    def check_conflicts(self, body: RawBody, ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Predict the candidate's runs (an existing job's, or a schedule's) over the horizon and
        sweep them against every enabled job of the gateway; recommend nearby start times."""
        data = decode_body(body, CheckConflictsRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        return ok(report(ctx, check_request(data)), "Conflict check completed")
