"""Audit and time travel (issue 13): a job's audit and the gateway's, why a job did or did not
fire, revert (operator), undo of an operation and the raw event log (admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter, QueryParameter, RawBody
from litestar.status_codes import HTTP_200_OK

from application.commands import CommandContext, RevertJob, UndoOperation, UndoStep
from domain.diff import diff
from domain.errors import OperationNotFound, ValidationFailed
from domain.explain import MAX_WINDOW
from interfaces.api.dependencies import Context
from interfaces.api.schemas.history import RevertRequest, UndoRequest
from interfaces.api.schemas.requests import decode_body
from interfaces.envelope import ok
from projections import audit_queries
from projections.audit import DERIVED
from projections.audit_queries import AuditFilter
from projections.event_log import events_page
from projections.fires_queries import job_fires

InstantText = Annotated[str | None, Parameter(max_length=64)]
Text = Annotated[str | None, Parameter(max_length=200, pattern=r"^[^\x00]*$")]
Limit = Annotated[int, Parameter(ge=1, le=100)]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
NDJSON = "application/x-ndjson"
_ENCODER = msgspec.json.Encoder()


def instant(raw: str | None, field: str) -> datetime | None:
    """An ISO-8601 instant with Z or an offset (a naive one is refused: whose local time?)."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
        if value.tzinfo is None:
            raise ValueError("no offset")
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(f"{field} must be an instant with Z or an offset", {"field": field, "value": raw}) from None


class AuditQueries(Controller):
    opt = {"role": "viewer"}

    @get("/jobs/{job_id:str}/audit", sync_to_thread=True)
    def job_audit(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], limit: Limit = 50, offset: Offset = 0,
    ) -> dict[str, Any]:
        """Every change of the job, newest first, with who, why, the operation and before/after of each field."""
        data = audit_queries.job_audit(ctx.runtime.reads, ctx.gateway_id, job_id, limit, offset)
        return ok(data, "Job audit retrieved successfully")

    @get("/audit", sync_to_thread=True)
    def gateway_audit(
        self, ctx: NamedDependency[Context], actor: Text = None, action: Text = None, since: InstantText = None,
        until: InstantText = None, operation_id: Text = None, limit: Limit = 50, offset: Offset = 0,
    ) -> dict[str, Any]:
        """Changes of every job of the gateway, newest first; `since` inclusive, `until` exclusive."""
        selection = AuditFilter(actor, action, instant(since, "since"), instant(until, "until"), operation_id,
                                limit, offset)
        return ok(audit_queries.gateway_audit(ctx.runtime.reads, ctx.gateway_id, selection), "Audit retrieved successfully")

    @get("/jobs/{job_id:str}/fires", sync_to_thread=True)
    def job_fires(
        self, job_id: FromPath[str], ctx: NamedDependency[Context], from_: Annotated[str, QueryParameter(name="from", max_length=64)],
        to: Annotated[str, Parameter(max_length=64)],
    ) -> dict[str, Any]:
        """Every instant the schedule in force called for in [from, to] (at most 7 days), each explained."""
        start, end = instant(from_, "from"), instant(to, "to")
        assert start is not None and end is not None
        if end <= start:
            raise ValidationFailed("from must be before to", {"field": "from"})
        if end - start > MAX_WINDOW:
            raise ValidationFailed(f"the window is at most {MAX_WINDOW.days} days", {"field": "to", "max_days": MAX_WINDOW.days})
        now = ctx.runtime.clock()
        pruned = now - timedelta(days=ctx.runtime.settings.execution_retention_days)
        found = job_fires(ctx.runtime.reads, ctx.gateway_id, job_id, start, end, now=now, pruned_before=pruned)
        data = {"job_id": job_id, "from": start, "to": end, "pruned_before": pruned, "truncated": found.truncated,
                "count": len(found.entries), "fires": found.entries}
        return ok(data, "Job fires explained successfully")


class JobRevert(Controller):
    opt = {"role": "operator"}

    @post("/jobs/{job_id:str}/revert", status_code=HTTP_200_OK, sync_to_thread=True)
    def revert_job(
        self, job_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context],
        expected_version: NamedDependency[int | None],
    ) -> dict[str, Any]:
        """Restore the configuration the job had at `version` (enabled stays as it is), as a new version."""
        data = decode_body(body, RevertRequest)
        saved = ctx.runtime.app.execute(
            RevertJob(ctx.gateway_id, job_id, data.version, data.reason, expected_version), ctx.cause)
        ctx.runtime.wait(saved.recorded)
        assert saved.job is not None
        job = saved.job
        answer = {"job_id": job_id, "version": job.version, "reverted_to": data.version,
                  "next_execution": job.next_execution}
        return ok(answer, "Job reverted successfully")


def undo_plan(ctx: Context, operation_id: str) -> tuple[list[UndoStep], list[dict[str, Any]], list[dict[str, Any]]]:
    """From the audit read model: per job the operation touched, its before-state (the version
    before the operation's first change of it) and whether it changed since (a version after the
    operation's last). Returns the steps, the jobs left alone and the jobs that cannot be undone."""
    rows = audit_queries.operation_rows(ctx.runtime.reads, ctx.gateway_id, operation_id)
    if not rows:
        raise OperationNotFound(f"Operation {operation_id} not found", {"operation_id": operation_id})
    jobs: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["action"] == "run requested":
            continue  # a run cannot be taken back
        job = jobs.setdefault(row["job_id"], {"first": row, "last": row})
        job["last"] = row
    steps: list[UndoStep] = []
    skipped: list[dict[str, Any]] = []
    impossible: list[dict[str, Any]] = []
    for job_id, job in jobs.items():
        first, last = job["first"], job["last"]
        latest = last["latest"]
        if last["after"].get("deleted"):
            impossible.append({"job_id": job_id, "reason": "deleted by the operation; job ids are not reused"})
            continue
        if first["before"] is not None and not diff(first["before"], last["after"], ignore=DERIVED):
            skipped.append({"job_id": job_id, "reason": "already as before the operation",
                            "operation_version": last["version"], "current_version": latest})
            continue
        if latest > last["version"]:
            skipped.append({"job_id": job_id, "reason": "changed since the operation", "operation_version": last["version"],
                            "current_version": latest})
            continue
        steps.append(_step(job_id, first, latest))
    return steps, skipped, impossible


def _step(job_id: str, first: dict[str, Any], latest: int) -> UndoStep:
    if first["before"] is None:  # the operation created it
        return UndoStep(job_id, latest, "delete")
    return UndoStep(job_id, latest, "restore", first["version"] - 1)


class Operations(Controller):
    opt = {"role": "admin"}

    @post("/operations/{operation_id:str}/undo", status_code=HTTP_200_OK, sync_to_thread=True)
    def undo_operation(self, operation_id: FromPath[str], body: RawBody, ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Undo an operation by compensating events (audited under its id). Jobs changed since are
        left alone and reported, unless `force`; `dry_run` answers the plan and records nothing."""
        data = decode_body(body, UndoRequest) if body.strip() else UndoRequest()
        steps, skipped, impossible = undo_plan(ctx, operation_id)
        if data.force:
            rows = audit_queries.operation_rows(ctx.runtime.reads, ctx.gateway_id, operation_id)
            first = {}
            for row in rows:
                first.setdefault(row["job_id"], row)
            forced = [s["job_id"] for s in skipped if s["reason"] == "changed since the operation"]
            steps += [_step(job_id, first[job_id], next(s["current_version"] for s in skipped if s["job_id"] == job_id))
                      for job_id in forced]
            skipped = [s for s in skipped if s["job_id"] not in forced]
        planned = [{"job_id": s.job_id, "kind": s.kind, "from_version": s.expected_version,
                    "restores_version": s.restore_version or None} for s in steps]
        if steps and not data.dry_run:
            cause = CommandContext(ctx.principal.subject, ctx.request_id, operation_id)
            saved = ctx.runtime.app.execute(UndoOperation(ctx.gateway_id, operation_id, tuple(steps)), cause)
            ctx.runtime.wait(saved.recorded)
        answer = {"operation_id": operation_id, "dry_run": data.dry_run, "force": data.force, "undone": planned,
                  "skipped": skipped, "not_undoable": impossible}
        return ok(answer, "Operation undo planned" if data.dry_run else "Operation undone")

    @get("/events", sync_to_thread=True)
    def event_log(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[Context],
        after: Annotated[int, Parameter(ge=0, le=2**62)] = 0, limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> Response[Any]:
        """The gateway's events after a position, oldest first, decoded; NDJSON with Accept: application/x-ndjson."""
        page = events_page(ctx.runtime.reads, ctx.runtime.app.mapper, ctx.gateway_id, after, limit)
        if NDJSON in (request.headers.get("accept") or ""):
            body = b"".join(_ENCODER.encode(event) + b"\n" for event in page["events"])
            return Response(body, media_type=NDJSON, headers={"X-Next-After": str(page["next_after"])})
        return Response(_ENCODER.encode(ok(page, "Events retrieved successfully")), media_type=MediaType.JSON)
