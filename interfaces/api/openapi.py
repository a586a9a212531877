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
from interfaces.api.schemas import conflicts as k
from interfaces.api.schemas import documented_requests as r
from interfaces.api.schemas import execution_answers as x
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


@dataclass(frozen=True)
class Operation:
    data: type[msgspec.Struct]
    errors: tuple[int, ...] = _EVERY
    request: Any = None  # a struct, or a tuple of tagged structs (a union)
    request_required: bool = True
    status: int = 200
    conditional: bool = False  # honours If-Match


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
}
ANSWERS = {key: a.envelope(op.data) for key, op in OPERATIONS.items()}

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
            operation["parameters"] = [*parameters, _GATEWAY_HEADER, *([_IF_MATCH] if described.conditional else [])]
            if described.request is not None:
                operation["requestBody"] = {"required": described.request_required, "content": _json(requests[key])}
            responses = {str(described.status): {"description": "Success", "content": _json(answers[key])}}
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
