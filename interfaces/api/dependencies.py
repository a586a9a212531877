"""The dependencies of the API routes: `ctx` (runtime, caller and gateway context, as the API
router's `authorize_request` hook established them) for every API route, `runtime` alone for the
probes, `expected_version` for conditional writes.

One dependency per route on purpose: Litestar resolves independent dependencies of one handler
concurrently in an anyio task group, which costs more than a cached read does (docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import Provide

from application.commands import CommandContext
from domain.errors import ValidationFailed
from interfaces.auth import Principal
from interfaces.runtime import Runtime


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    return request.app.state.runtime


@dataclass(frozen=True, slots=True)
class Context:
    """Who calls, in which gateway (X-Gateway-ID, checked against the token), with which runtime,
    in which request (the id interfaces/logs.py assigned)."""

    runtime: Runtime
    principal: Principal
    gateway_id: str
    request_id: str | None = None

    @property
    def cause(self) -> CommandContext:
        """What the commands of this request record on their events."""
        return CommandContext(self.principal.subject, self.request_id)


def _context(request: Request[Any, Any, Any]) -> Context:
    principal, gateway_id = request.state.caller  # set by the router's authorize_request hook
    return Context(request.app.state.runtime, principal, gateway_id, request.scope.get("state", {}).get("request_id"))


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
    "ctx": Provide(_context, sync_to_thread=False),
    "expected_version": Provide(_if_match, sync_to_thread=False),
}
