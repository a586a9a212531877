"""Dependencies every controller takes: the runtime, the caller and the gateway context."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide

from domain.errors import ValidationFailed
from interfaces.auth import Principal, gateway_context
from interfaces.runtime import Runtime


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    return request.app.state.runtime


def _principal(request: Request[Any, Any, Any]) -> Principal:
    return request.user


def _gateway(request: Request[Any, Any, Any]) -> str:
    return gateway_context(request)


def _if_match(request: Request[Any, Any, Any]) -> int | None:
    """The job version a client read (ETag), when it asks for a conditional write."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    try:
        return int(raw.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise ValidationFailed("If-Match must be a job version", {"field": "If-Match", "reason": "not an integer"}) from None


DEPENDENCIES = {
    "runtime": Provide(_runtime, sync_to_thread=False),
    "principal": Provide(_principal, sync_to_thread=False),
    "gateway_id": Provide(_gateway, sync_to_thread=False),
    "expected_version": Provide(_if_match, sync_to_thread=False),
}
