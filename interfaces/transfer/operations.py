"""The export and import use cases, shared by the API and the CLI: read the read models into a
file; read a file, plan or apply it through the commit point as one operation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from application.commands import CommandContext, ImportJobs, ImportReport
from domain.errors import ValidationFailed
from interfaces.api.schemas.transfer import (
    EXPORT_TYPE,
    FORMAT_VERSION,
    Format,
    Strategy,
)
from interfaces.runtime import Runtime
from interfaces.transfer.files import MEDIA_TYPES, Progress, read_jobs, render
from projections import job_export

IMPORT_WAIT_SECONDS = 60.0  # the read models take every event of a large import before it answers


@dataclass(frozen=True)
class Exported:
    content: bytes
    media_type: str
    filename: str


def export_jobs(
    runtime: Runtime, gateway_id: str, *, fmt: Format = "json", include_history: bool = False,
    include_statistics: bool = True,
) -> Exported:
    """A gateway's jobs as a file (docs/api.md, "Export"). CSV holds one job per row: no history."""
    if fmt == "csv" and include_history:
        raise ValidationFailed("A CSV export holds no history; use json or yaml",
                               {"field": "include_history", "reason": "not with csv"})
    now = runtime.clock()
    rows = job_export.exported_jobs(runtime.reads, gateway_id)
    document: dict[str, Any] = {
        "export_type": EXPORT_TYPE, "format_version": FORMAT_VERSION, "timestamp": now, "gateway_id": gateway_id,
        "jobs": [row["job"] for row in rows], "statistics": None, "history": None,
    }
    if include_statistics:
        per_job = {row["job"]["id"]: row["statistics"] for row in rows}
        document["statistics"] = {
            "total_jobs": len(rows), "enabled_jobs": sum(1 for row in rows if row["job"]["enabled"]),
            **{k: sum(s[k] for s in per_job.values())
               for k in ("total_executions", "successful_executions", "failed_executions")},
            "jobs": per_job,
        }
    if include_history:
        document["history"] = job_export.exported_history(runtime.reads, gateway_id)
    return Exported(render(document, fmt), MEDIA_TYPES[fmt], f"jobs_export_{now:%Y%m%d}.{fmt}")


def new_import_id(runtime: Runtime) -> str:
    """The contract's `import_<UTC stamp>`, with a random suffix: two imports in a second differ."""
    return f"import_{runtime.clock():%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


def _answer(import_id: str, gateway_id: str, strategy: Strategy, dry_run: bool, processed: int,
            report: ImportReport) -> dict[str, Any]:
    return {
        "import_id": import_id, "operation_id": None if dry_run else import_id, "gateway_id": gateway_id, "strategy": strategy, "dry_run": dry_run,
        "processed": processed, "imported": report.count("create", "update"), "skipped": report.count("skip"),
        "deleted": report.count("delete"), "errors": 0, "plan_token": report.plan_token if dry_run else None,
        "jobs": [
            {"index": s.index, "id": s.job_id, "action": s.action, "reason": s.reason, "changes": s.changes,
             "next_executions": list(s.next_executions)}
            for s in report.steps
        ],
    }


def import_jobs(
    runtime: Runtime, gateway_id: str, content: bytes, filename: str | None, *, strategy: Strategy,
    dry_run: bool, plan_token: str | None, actor: str, request_id: str | None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Checks the whole file, then plans (dry run: nothing written) or applies it: every change
    in one transaction, each event carrying the import's id as its operation id."""
    jobs = read_jobs(content, filename, on_progress)
    import_id = new_import_id(runtime)
    command = ImportJobs(gateway_id, jobs, strategy, plan_token, upcoming=dry_run)
    context = CommandContext(actor, request_id, import_id)
    if dry_run:
        _, report = runtime.app.preview(command, context)
        return _answer(import_id, gateway_id, strategy, True, len(jobs), report)
    # An import is one operation on the gateway (application/operations.py): refused with
    # OPERATION_IN_PROGRESS while another runs; a dry run writes nothing and needs no guard.
    runtime.operations.begin(gateway_id, "import", actor, op_id=import_id)
    try:
        saved = runtime.app.execute(command, context)
    except BaseException:
        runtime.operations.finish(import_id, "failed")
        raise
    runtime.operations.finish(import_id)
    runtime.wait(saved.recorded, timeout=IMPORT_WAIT_SECONDS)
    return _answer(import_id, gateway_id, strategy, False, len(jobs), saved.report)
