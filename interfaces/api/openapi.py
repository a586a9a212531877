"""The OpenAPI document of the API, from the msgspec structs of `interfaces.api.schemas`.

Litestar builds the paths and the query and path parameters from the routes; each operation's
request body, its answers (the envelope around its `data`, and the error envelope of each status it
can answer with its codes), the X-Gateway-ID header and the security schemes are then set here from
the structs, so a client generated from the document reads what the API answers (schemathesis checks
that in the test suite)."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any, Union

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from interfaces.api.schemas import answers as a
from interfaces.api.schemas import bulk as b
from interfaces.api.schemas import conflicts as k
from interfaces.api.schemas import documented_requests as r
from interfaces.api.schemas import execution_answers as x
from interfaces.api.schemas import transfer as t
from interfaces.api.schemas import history as h
from interfaces.api.schemas.configuration import (
    SCHEDULE_PARAMETERS,
    ListedScheduleParameters,
)
from interfaces.api.schemas.errors import CODES_BY_STATUS, ERROR_ENVELOPES

API_PREFIX = "/api/v1/scheduler"
_REF = "#/components/schemas/{name}"
# Every API route: a malformed X-Gateway-ID (400), no or a bad token (401), the role or gateway not
# granted (403), a bug (500), the database away (503).
_EVERY = (400, 401, 403, 500, 503)
_BY_ID = (*_EVERY, 404)  # a path that names a job, an execution or a gateway
_WRITE = (*_BY_ID, 409, 413)  # a command with a body on one job
# A bulk operation: OPERATION_IN_PROGRESS; run all also GATEWAY_NOT_FOUND (a gateway never seen)
# and GATEWAY_OFFLINE (503), as a run of one job.
_BULK = (*_EVERY, 409, 413)


@dataclass(frozen=True)
class Operation:
    data: type[msgspec.Struct] | None  # None for a stream
    errors: tuple[int, ...] = _EVERY
    request: Any = None  # a struct, or a tuple of tagged structs (a union)
    request_required: bool = True
    status: int = 200
    conditional: bool = False  # honours If-Match
    request_media: str = "application/json"
    attachment: bool = False  # answers `data` itself as a file (JSON, YAML or CSV), not in the envelope
    stream: bool = False  # answers text/event-stream (the live feed's SSE), not the JSON envelope


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/status"): Operation(a.StatusData),
    ("GET", "/jobs"): Operation(a.JobListData),
    ("POST", "/jobs"): Operation(a.JobCreatedData, (*_EVERY, 409, 413), r.CreateJob, status=201),
    ("GET", "/jobs/{job_id}"): Operation(a.JobDetailData, _BY_ID),
    ("PUT", "/jobs/{job_id}"): Operation(a.JobUpdatedData, _WRITE, r.UpdateJob, conditional=True),
    ("DELETE", "/jobs/{job_id}"): Operation(a.JobDeletedData, (*_BY_ID, 409), conditional=True),
    ("POST", "/jobs/{job_id}/toggle"): Operation(a.JobToggledData, _WRITE, r.ToggleJob, conditional=True),
    ("POST", "/jobs/{job_id}/run"): Operation(a.RunStartedData, (*_WRITE, 429), r.RunJob, request_required=False),
    ("GET", "/jobs/{job_id}/history"): Operation(x.HistoryData, _BY_ID),
    ("GET", "/jobs/{job_id}/logs"): Operation(x.LogsData, _BY_ID),
    ("GET", "/jobs/{job_id}/metrics"): Operation(x.MetricsData, _BY_ID),
    ("GET", "/executions/{execution_id}"): Operation(x.ExecutionData, _BY_ID),
    ("GET", "/statistics"): Operation(x.StatisticsData),
    ("GET", "/monitor/active"): Operation(x.ActiveData),
    ("GET", "/resources/usage"): Operation(x.ResourceUsageData),
    ("GET", "/templates"): Operation(a.TemplatesData),
    ("GET", "/tags"): Operation(a.TagsData),
    ("POST", "/schedules/validate"): Operation(a.ValidationData, (*_EVERY, 413), r.ValidateSchedule),
    ("GET", "/gateways"): Operation(a.GatewaysData),
    ("POST", "/conflicts/check"): Operation(k.ConflictCheckData, (*_BY_ID, 413), k.CheckConflictsRequest),
    ("GET", "/gateways/{gateway_id}/jobs"): Operation(a.GatewayJobsData, _BY_ID),
    ("POST", "/jobs/export"): Operation(t.ExportDocument, (*_EVERY, 413), t.ExportRequest, request_required=False,
                                        attachment=True),
    ("POST", "/jobs/import"): Operation(t.ImportData, (*_EVERY, 409, 413), t.ImportForm,
                                        request_media="multipart/form-data"),
    ("POST", "/jobs/run/all"): Operation(b.RunAllData, (*_BULK, 404), b.RunAllRequest, request_required=False),
    ("POST", "/jobs/disable/all"): Operation(b.DisableAllData, _BULK, b.DisableAllRequest, request_required=False),
    ("POST", "/jobs/reset/all"): Operation(b.ResetAllData, _BULK, b.ResetAllRequest, request_required=False),
    ("GET", "/execution-groups/{group_id}"): Operation(b.ExecutionGroupData, _BY_ID),
    ("GET", "/events/stream"): Operation(None, stream=True),
    ("GET", "/jobs/{job_id}/audit"): Operation(h.JobAuditData, _BY_ID),
    ("GET", "/audit"): Operation(h.AuditData),
    ("GET", "/jobs/{job_id}/fires"): Operation(h.FiresData, _BY_ID),
    ("POST", "/jobs/{job_id}/revert"): Operation(h.JobRevertedData, _WRITE, h.RevertRequest, conditional=True),
    ("POST", "/operations/{operation_id}/undo"): Operation(h.UndoData, (*_BY_ID, 409, 413), h.UndoRequest,
                                                           request_required=False),
    ("GET", "/events"): Operation(h.EventsData),
}
# Answers of an operation beside its `data` struct's, by its query parameters (one of either):
# GET /jobs/{job_id}?as_of=|version= answers the job as it was (docs/api.md).
ALTERNATIVES: dict[tuple[str, str], tuple[type[msgspec.Struct], ...]] = {
    ("GET", "/jobs/{job_id}"): (h.JobVersionData,),
}
ANSWERS = {
    key: op.data if op.attachment else a.envelope(op.data) for key, op in OPERATIONS.items() if not op.stream
}
ANSWERS.update({(*key, i): a.envelope(alt) for key, alts in ALTERNATIVES.items()  # type: ignore[misc]
                for i, alt in enumerate(alts)})
_ATTACHMENT = {"Content-Disposition": {
    "description": 'attachment; filename="jobs_export_<YYYYMMDD>.<json|yaml|csv>"', "required": True,
    "schema": {"type": "string", "pattern": '^attachment; filename="[^"]+"$'},
}}
_CSV = {"type": "string", "description": "A header row (id, name, description, type, enabled, tags, schedule, "
        "action, options, then the statistics columns when included), one job per row"}
_LAST_EVENT_ID = {
    "name": "Last-Event-ID", "in": "header", "required": False,
    "description": "Resume after this position (an EventSource sends the last `id` it received); wins over `after`",
    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
}
_STREAM_DESCRIPTION = (
    "Server-Sent Events: each message is `event: <type>`, `id: <position>` (when it has one) and `data:` the"
    " live feed's JSON message (docs/live-feed.md: auth_ok, the history after the position, caught_up, then"
    " live events and heartbeats; resync_required then `end` when the position cannot be continued; `end` with"
    " code 4401 when the token expires)"
)

_GATEWAY_HEADER = {
    "name": "X-Gateway-ID", "in": "header", "required": True,
    "description": "The gateway context of the request; the token must grant it",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"},
}
_IF_MATCH = {
    "name": "If-Match", "in": "header", "required": False,
    "description": 'The job version read (its ETag, "<version>"): a stale one is VERSION_CONFLICT',
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,18}"?$'},
}
_SECURITY_SCHEMES = {
    "BearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "Authorization: Bearer <JWT> (only the Bearer scheme)"},
    "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "session_token",
                      "description": "The page's session: the same JWT in the session_token cookie"},
}


def _request_type(request: Any) -> Any:
    return Union[request] if isinstance(request, tuple) else request  # noqa: UP007 - a runtime union of structs


def _components() -> tuple[dict[str, Any], dict[tuple[str, str], Any], dict[tuple[str, str], Any], dict[int, Any]]:
    answer_keys = list(ANSWERS)
    request_keys = [key for key, op in OPERATIONS.items() if op.request is not None]
    types: list[Any] = [ANSWERS[k] for k in answer_keys]
    types += [_request_type(OPERATIONS[k].request) for k in request_keys]
    types += list(ERROR_ENVELOPES.values())
    types += [*SCHEDULE_PARAMETERS.values(), ListedScheduleParameters]
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    answers = dict(zip(answer_keys, schemas, strict=False))
    for key, alts in ALTERNATIVES.items():  # one of either answer
        answers[key] = {"anyOf": [answers[key], *(answers.pop((*key, i)) for i in range(len(alts)))]}
    requests = dict(zip(request_keys, schemas[len(answer_keys):], strict=False))
    errors = dict(zip(ERROR_ENVELOPES, schemas[len(answer_keys) + len(request_keys):], strict=False))
    return components, answers, requests, errors


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def wire_document(generated: dict[str, Any]) -> dict[str, Any]:
    """Litestar's document with every API operation described by our structs."""
    document = copy.deepcopy(generated)
    components, answers, requests, errors = _components()
    document["components"] = {"schemas": components, "securitySchemes": _SECURITY_SCHEMES}
    document["security"] = [{"BearerToken": []}, {"SessionCookie": []}]
    undescribed = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path.removeprefix(API_PREFIX))
            if not path.startswith(API_PREFIX):
                continue
            if key not in OPERATIONS:
                undescribed.append(key)
                continue
            described = OPERATIONS[key]
            parameters = [p for p in operation.get("parameters", []) if p.get("in") != "header"]
            operation["parameters"] = [*parameters, _GATEWAY_HEADER, *([_IF_MATCH] if described.conditional else []),
                                       *([_LAST_EVENT_ID] if described.stream else [])]
            if described.request is not None:
                content = {described.request_media: {"schema": requests[key]}}
                operation["requestBody"] = {"required": described.request_required, "content": content}
            if described.stream:
                stream = {"text/event-stream": {"schema": {"type": "string", "description": _STREAM_DESCRIPTION}}}
                responses = {"200": {"description": "The live feed", "content": stream}}
            else:
                responses = {str(described.status): {"description": "Success", "content": _json(answers[key])}}
            if described.attachment:
                responses[str(described.status)] = {
                    "description": "The file, as an attachment", "headers": _ATTACHMENT,
                    "content": {"application/json": {"schema": answers[key]}, "application/yaml": {"schema": answers[key]},
                                "text/csv": {"schema": _CSV}},
                }
            for status in described.errors:
                codes = ", ".join(CODES_BY_STATUS[status])
                responses[str(status)] = {"description": f"Error envelope: {codes}", "content": _json(errors[status])}
            operation["responses"] = responses
    if undescribed:
        raise RuntimeError(f"API operations without a description in interfaces/api/openapi.py: {undescribed}")
    return document


class WireJsonRenderPlugin(JsonRenderPlugin):
    """Serves `wire_document` of Litestar's document at /schema/openapi.json (built once)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._rendered: bytes | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        with self._lock:
            if self._rendered is None:
                self._rendered = super().render(request, wire_document(openapi_schema))
            return self._rendered
