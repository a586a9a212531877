"""Bulk operations on every job of the gateway (admin role): run all, disable all, reset all; and
the execution group a run-all started (viewer role). Each bulk operation is one operation of the
guard (application/operations.py, OPERATION_IN_PROGRESS while another runs on the gateway), its
changes one command through the commit point, its id on every event (docs/decisions.md 48-52)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody
from litestar.status_codes import HTTP_200_OK

from application.commands import CommandContext, DisableAll, ResetAll, RunAll
from application.dispatch.follow_ups import DISABLE_ALL, RUN_ALL
from application.operations import SYNC_EXPIRY, Operation
from application.scheduler import Saved
from domain.errors import GatewayOffline
from interfaces.api.dependencies import Context
from interfaces.api.schemas import decode_body
from interfaces.api.schemas.bulk import DisableAllRequest, ResetAllRequest, RunAllRequest
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from projections import gateway_queries, group_queries

T = TypeVar("T")
RESET_ALL = "reset_all"


def _body(body: bytes, kind: type[T]) -> T:
    """An empty body is the defaults."""
    return decode_body(body, kind) if body.strip() else kind()


def _operate(ctx: Context, operation: Operation, command: Any, then: Callable[[Saved], None] | None = None) -> Saved:
    """The command under the operation's id; the operation fails with it, else `then` or finish."""
    runtime = ctx.runtime
    try:
        saved = runtime.app.execute(command, CommandContext(ctx.principal.subject, ctx.request_id, operation.id))
    except BaseException:
        runtime.operations.finish(operation.id, "failed")
        raise
    if then is None:
        runtime.operations.finish(operation.id)
    else:
        then(saved)
    runtime.wait(saved.recorded)
    return saved


def _online(ctx: Context) -> None:
    runtime = ctx.runtime
    gateway = gateway_queries.gateway(runtime.reads, ctx.gateway_id, runtime.clock(), runtime.offline_after)
    if gateway["status"] != "online":
        raise GatewayOffline(f"Gateway {ctx.gateway_id} is offline (last seen {gateway['last_seen']})", None)


class BulkOperations(Controller):
    opt = {"role": "admin"}

    @post("/jobs/run/all", status_code=HTTP_200_OK, sync_to_thread=True)
    def run_all(self, ctx: NamedDependency[Context], body: RawBody) -> dict[str, Any]:
        """Run every enabled job (with one of `include_tags`, if given, and none of `exclude_tags`)
        once, as manual runs of one execution group; `sequential`: each when the one before it has
        finished. GATEWAY_OFFLINE without a worker heartbeating for the gateway."""
        data = _body(body, RunAllRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        _online(ctx)
        runtime, now = ctx.runtime, ctx.runtime.clock()
        group_id = f"group_{now:%Y%m%d%H%M%S}_{secrets.token_hex(3)}"
        # A sequential group's operation runs until the group ends (the dispatcher ends it).
        operation = runtime.operations.begin(
            ctx.gateway_id, RUN_ALL, ctx.principal.subject, expires=None if data.sequential else SYNC_EXPIRY,
            follow_up_at=now, detail={"group_id": group_id, "sequential": data.sequential},
        )
        command = RunAll(ctx.gateway_id, group_id, tuple(data.include_tags), tuple(data.exclude_tags), data.sequential)

        def then(saved: Saved) -> None:
            if not data.sequential or saved.report.status != "started":
                runtime.operations.finish(operation.id)

        answer = _operate(ctx, operation, command, then).report
        body_out = {
            "execution_group_id": group_id, "gateway_id": ctx.gateway_id, "total_jobs": answer.total_jobs,
            "started_jobs": answer.started_jobs, "status": answer.status, "sequential": data.sequential,
            "operation_id": operation.id,
        }
        return ok(body_out, "All jobs execution started")

    @post("/jobs/disable/all", status_code=HTTP_200_OK, sync_to_thread=True)
    def disable_all(self, ctx: NamedDependency[Context], body: RawBody) -> dict[str, Any]:
        """Disable every enabled job in one transaction; with `duration_minutes`, the gateway's
        dispatcher enables again, at `disabled_until`, each job this operation disabled that nobody
        has configured since."""
        data = _body(body, DisableAllRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        runtime, now = ctx.runtime, ctx.runtime.clock()
        until = None if data.duration_minutes is None else now + timedelta(minutes=data.duration_minutes)
        operation = runtime.operations.begin(
            ctx.gateway_id, DISABLE_ALL, ctx.principal.subject, follow_up_at=until,
            detail={"reason": data.reason, "disabled_until": None if until is None else until.isoformat()},
        )
        reason = data.reason or "disabled by a bulk operation"
        saved = _operate(ctx, operation, DisableAll(ctx.gateway_id, reason))
        body_out = {"gateway_id": ctx.gateway_id, "disabled_count": len(saved.report), "disabled_until": until,
                    "operation_id": operation.id}
        return ok(body_out, "All jobs disabled successfully")

    @post("/jobs/reset/all", status_code=HTTP_200_OK, sync_to_thread=True)
    def reset_all(self, ctx: NamedDependency[Context], body: RawBody) -> dict[str, Any]:
        """Reset every job to its default configuration (docs/api.md says what that is);
        `keep_data: false` also restarts its statistics and forgets its finished executions in
        the read models (the log keeps every event)."""
        data = _body(body, ResetAllRequest)
        same_gateway(ctx.gateway_id, data.gateway_id)
        operation = ctx.runtime.operations.begin(
            ctx.gateway_id, RESET_ALL, ctx.principal.subject, detail={"keep_data": data.keep_data},
        )
        saved = _operate(ctx, operation, ResetAll(ctx.gateway_id, data.keep_data))
        body_out = {"gateway_id": ctx.gateway_id, "reset_count": len(saved.report),
                    "kept_execution_history": data.keep_data, "operation_id": operation.id}
        return ok(body_out, "All jobs reset to defaults")


class ExecutionGroups(Controller):
    opt = {"role": "viewer"}

    @get("/execution-groups/{group_id:str}", sync_to_thread=True)
    def execution_group(self, group_id: FromPath[str], ctx: NamedDependency[Context]) -> dict[str, Any]:
        """A run-all's execution group: its state and each member's execution, in run order."""
        data = group_queries.group(ctx.runtime.reads, ctx.gateway_id, group_id)
        return ok(data, "Execution group retrieved successfully")
