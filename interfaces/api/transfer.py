"""POST /jobs/export (viewer: it reveals nothing GET /jobs/{id} does not) and POST /jobs/import
(admin: it can replace every job of a gateway), both through interfaces/transfer/operations.py."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import RawBody
from litestar.status_codes import HTTP_200_OK

from domain.errors import ValidationFailed
from interfaces.api.dependencies import Context
from interfaces.api.schemas import decode_body
from interfaces.api.schemas.transfer import ExportRequest, ImportForm
from interfaces.auth import same_gateway
from interfaces.envelope import ok
from interfaces.transfer import operations
from interfaces.transfer.files import MAX_IMPORT_BYTES

_FORM_FIELDS = frozenset(ImportForm.__struct_fields__)
_BOOLEANS = {"true": True, "false": False}
# The form around the file: its fields, the multipart framing (a few KiB at most).
_FORM_ALLOWANCE = 64 * 1024


class Export(Controller):
    opt = {"role": "viewer"}

    @post("/jobs/export", status_code=HTTP_200_OK, sync_to_thread=True)
    def export_jobs(self, ctx: NamedDependency[Context], body: RawBody) -> Response[bytes]:
        """Export the gateway's jobs as a file (attachment): JSON or YAML (the whole document), or
        CSV (one job per row, no history). Each job is in the shape a create accepts, id kept."""
        request = decode_body(body, ExportRequest) if body.strip() else ExportRequest()
        same_gateway(ctx.gateway_id, request.gateway_id)
        exported = operations.export_jobs(
            ctx.runtime, ctx.gateway_id, fmt=request.format, include_history=request.include_history,
            include_statistics=request.include_statistics,
        )
        return Response(exported.content, media_type=exported.media_type,
                        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'})


def _field(form: Any, name: str) -> str | None:
    values = form.getall(name) if name in form else []
    if len(values) > 1:
        raise ValidationFailed(f"{name} is given {len(values)} times", {"field": name, "reason": "repeated"})
    if values and not isinstance(values[0], str):
        raise ValidationFailed(f"{name} must be a form field, not a file", {"field": name, "reason": "wrong type"})
    return values[0] if values else None


def _choice(form: Any, name: str, choices: dict[str, Any], default: Any) -> Any:
    raw = _field(form, name)
    if raw is None:
        return default
    if raw not in choices:
        raise ValidationFailed(f"{name} must be one of {', '.join(choices)}", {"field": name, "reason": "invalid"})
    return choices[raw]


class Import(Controller):
    opt = {"role": "admin"}

    @post("/jobs/import", status_code=HTTP_200_OK, request_max_body_size=MAX_IMPORT_BYTES + _FORM_ALLOWANCE,
          opt={"file_upload": True})
    async def import_jobs(self, request: Request[Any, Any, Any], ctx: NamedDependency[Context]) -> dict[str, Any]:
        """Import an export file (multipart `configFile`): checked whole, then applied in one
        transaction or not at all (IMPORT_FAILED names each bad job). `merge` skips jobs whose id
        exists; `replace` leaves the gateway with exactly the file's jobs. `dry_run` answers the
        plan and its `plan_token`, writing nothing; an apply given that token is refused with
        VERSION_CONFLICT if the gateway's jobs changed since."""
        form = await request.form()
        unknown = sorted(set(form) - _FORM_FIELDS)
        if unknown:
            raise ValidationFailed(f"Unknown form fields: {', '.join(unknown)}", {"field": unknown[0], "reason": "unknown"})
        files = form.getall("configFile") if "configFile" in form else []
        if len(files) != 1 or not isinstance(files[0], UploadFile):
            raise ValidationFailed("configFile must be one uploaded file", {"field": "configFile", "reason": "missing"})
        same_gateway(ctx.gateway_id, _field(form, "gateway_id"))
        strategy = _choice(form, "strategy", {"merge": "merge", "replace": "replace"}, "merge")
        dry_run = _choice(form, "dry_run", _BOOLEANS, False)
        token = _field(form, "plan_token")
        content = await files[0].read()
        answer = await anyio.to_thread.run_sync(partial(
            operations.import_jobs, ctx.runtime, ctx.gateway_id, content, files[0].filename, strategy=strategy,
            dry_run=dry_run, plan_token=token, actor=ctx.principal.subject, request_id=ctx.request_id,
        ))
        return ok(answer, "Import planned; nothing was written" if dry_run else "Jobs imported successfully")
