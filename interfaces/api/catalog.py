"""Routes that help build a job: templates, tags in use, and schedule validation with previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from domain.actions import ACTION_TYPES
from domain.errors import ValidationFailed
from domain.schedules import SCHEDULE_TYPES, parse_schedule, supported_instant
from interfaces.api.dependencies import Context
from interfaces.envelope import ok
from projections import job_queries

_PREVIEW_KEYS = ("type", "count", "start")


def _instant(raw: Any) -> datetime:
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationFailed("start must be an ISO-8601 instant with Z or an offset", {"field": "start"})
    return supported_instant(value, "start")


class Catalog(Controller):
    opt = {"role": "viewer"}

    @get("/templates")
    async def get_templates(self) -> dict[str, Any]:
        """Every schedule type with its parameters, and every action type."""
        return ok({"schedule_types": SCHEDULE_TYPES, "action_types": ACTION_TYPES}, "Job templates retrieved successfully")

    @get("/tags", sync_to_thread=True)
    def list_tags(
        self, ctx: NamedDependency[Context], limit: Annotated[int, Parameter(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """Tags used by the gateway's jobs, most used first."""
        return ok({"tags": job_queries.tags(ctx.runtime.reads, ctx.gateway_id, limit)}, "Tags retrieved successfully")

    @post("/schedules/validate", status_code=HTTP_200_OK)
    async def validate_schedule(self, request: Request[Any, Any, Any], ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Validate a schedule (type plus its parameters at the top level) and preview its next
        fire instants: `count` (default 5, at most 100) from `start` (default now)."""
        body = await request.json()
        if not isinstance(body, dict):
            raise ValidationFailed("The body must be a JSON object", {"field": "body"})
        count = body.get("count", 5)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise ValidationFailed("count must be an integer from 1 to 100", {"field": "count"})
        start = _instant(body["start"]) if body.get("start") is not None else ctx.runtime.clock()
        params = {k: v for k, v in body.items() if k not in _PREVIEW_KEYS}
        gateway = ctx.runtime.app.gateway(ctx.gateway_id)
        location = gateway.location_point if gateway else None
        schedule = parse_schedule(str(body.get("type")), params, anchor=start, default_location=location)
        data = {"valid": True, "next_executions": schedule.next_n(start, count), "description": schedule.describe()}
        return ok(data, "Schedule validation completed")
