"""Every failure becomes the contract's error envelope with the status of DESIGN.md's table."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import psycopg_pool
import structlog
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from domain.errors import SchedulerError
from interfaces.auth.channels import is_page, page_failure
from interfaces.envelope import failure

_log = structlog.get_logger("gateway_scheduler.errors")

STATUS = {
    "VALIDATION_ERROR": 400, "INVALID_CRON_EXPRESSION": 400, "ACTION_NOT_SUPPORTED": 400, "IMPORT_FAILED": 400,
    "UNAUTHORIZED": 401, "FORBIDDEN": 403,
    "JOB_NOT_FOUND": 404, "EXECUTION_NOT_FOUND": 404, "GATEWAY_NOT_FOUND": 404, "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "SCHEDULE_CONFLICT": 409, "OPERATION_IN_PROGRESS": 409, "MAX_JOBS_EXCEEDED": 409, "VERSION_CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413, "RESOURCE_LIMIT_EXCEEDED": 429,
    "GATEWAY_OFFLINE": 503, "SERVICE_UNAVAILABLE": 503,
    "EXPORT_FAILED": 500, "INTERNAL_ERROR": 500,
}
_HTTP_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "VALIDATION_ERROR",
               429: "RESOURCE_LIMIT_EXCEEDED", 503: "SERVICE_UNAVAILABLE"}
_DATABASE_DOWN = (psycopg.OperationalError, psycopg_pool.PoolTimeout, StoreOperationalError, StoreInterfaceError)


def error_response(code: str, message: str, details: Any = None, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(failure(code, message, details), status_code=STATUS.get(code, 500), headers=headers)


def _request_id(request: Request[Any, Any, Any]) -> str:
    return request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The API's envelope; a page route gets the page's answer instead (interfaces/auth/channels.py)."""
    answer = _envelope(request, exc)
    return page_failure(request, exc, answer) if is_page(request) else answer


def _envelope(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SchedulerError):
        return error_response(exc.code, exc.message, exc.details)
    if isinstance(exc, SerializationException):
        return error_response("VALIDATION_ERROR", "The body is not valid JSON", str(exc))
    if isinstance(exc, ValidationException):
        return error_response("VALIDATION_ERROR", "Request validation failed", exc.extra or exc.detail)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = _HTTP_CODES.get(exc.status_code, "VALIDATION_ERROR")
        return Response(
            failure(code, exc.detail, exc.extra or None), status_code=exc.status_code, headers=exc.headers
        )
    if isinstance(exc, psycopg.DataError):  # e.g. a NUL byte in a path or query value
        return error_response("VALIDATION_ERROR", "A value in the request cannot be stored or searched", str(exc))
    if isinstance(exc, _DATABASE_DOWN) or (isinstance(exc, HTTPException) and exc.status_code == 503):
        _log.warning("database_unavailable", error=str(exc), request_id=_request_id(request))
        return error_response("SERVICE_UNAVAILABLE", "The database is unreachable; retry shortly")
    request_id = _request_id(request)
    _log.exception("unhandled_exception", request_id=request_id, path=request.url.path)
    return Response(
        failure("INTERNAL_ERROR", "Internal error; quote the request id when reporting it", {"request_id": request_id}),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )
