"""Gateway routes: the gateways the caller may see, and one gateway's jobs."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery

from interfaces.api.dependencies import Context
from interfaces.envelope import ok
from projections import gateway_queries


class Gateways(Controller):
    opt = {"role": "viewer"}

    @get("/gateways", sync_to_thread=True)
    def list_gateways(
        self, ctx: NamedDependency[Context],
        status: FromQuery[Literal["online", "offline"] | None] = None, online: FromQuery[bool | None] = None,
    ) -> dict[str, Any]:
        """Gateways the token grants, with liveness from worker heartbeats and job counts."""
        rows = gateway_queries.list_gateways(ctx.runtime.reads, ctx.principal.allowed, ctx.runtime.clock(), ctx.runtime.offline_after)
        if status is not None:
            rows = [g for g in rows if g["status"] == status]
        if online is not None:
            rows = [g for g in rows if (g["status"] == "online") == online]
        return ok({"gateways": rows}, "Gateways retrieved successfully")

    @get("/gateways/{gateway_id:str}/jobs", sync_to_thread=True)
    def gateway_jobs(self, gateway_id: FromPath[str], ctx: NamedDependency[Context]) -> dict[str, Any]:
        """All jobs of the gateway the path names: any gateway the token grants (the contract's own
        example asks for another gateway's jobs than the X-Gateway-ID context's); unknown: GATEWAY_NOT_FOUND."""
        if not ctx.principal.may_see(gateway_id):
            raise PermissionDeniedException(f"The token does not grant gateway {gateway_id}")
        runtime = ctx.runtime
        data = gateway_queries.gateway_jobs(runtime.reads, gateway_id, runtime.clock(), runtime.offline_after)
        return ok(data, "Gateway jobs retrieved successfully")
