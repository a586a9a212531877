"""Which gateway context a principal acts in, and with which role: the API names it with
X-Gateway-ID; the page takes that header, else the user's selection, else the server's own gateway;
a WebSocket its first message. Always within the token's grants."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from domain.errors import ValidationFailed
from domain.identity import check_gateway_id
from interfaces.api.request_body import refuse_nul
from interfaces.api.request_query import refuse_repeated
from interfaces.auth.sessions import csrf_refusal
from interfaces.auth.tokens import RANK, Principal

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
PAGE_SELECTION = "gateway_id"  # the page's query parameter naming the selected gateway
SELECTION_COOKIE = "scheduler_gateway"  # the page's remembered selection (set by its gateway switcher)


def require_role(principal: Principal, needed: str) -> None:
    if RANK[principal.role] < RANK[needed]:
        raise PermissionDeniedException(f"This needs the {needed} role; the token has {principal.role}")


def gateway_context(
    principal: Principal, *, header: str | None = None, selection: str | None = None, own: str | None = None
) -> str:
    """The first gateway named by the header, the selection, the server's own; it must be granted.
    VALIDATION_ERROR when none names one (the API passes no `own`: its header is required)."""
    gateway_id = header or selection or own
    if not gateway_id:
        raise ValidationFailed("The X-Gateway-ID header is required", {"field": "X-Gateway-ID", "reason": "missing"})
    check_gateway_id(gateway_id)
    if not principal.may_see(gateway_id):
        raise PermissionDeniedException(f"The token does not grant gateway {gateway_id}")
    return gateway_id


def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")  # absent, not an error, where the auth middleware did not run
    if not isinstance(user, Principal):
        raise NotAuthorizedException("A valid bearer token is required")
    return user


def authorize(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[Principal, str]:
    """The one authorization check of the API: the caller holds at least the role the route
    declares in its `opt` (viewer < operator < admin) and the token grants the gateway the request
    names with X-Gateway-ID. Litestar's guards would do the role part, at the price of a copy of
    the route handler per call (docs/decisions.md)."""
    user = _principal(connection)
    require_role(user, connection.route_handler.opt["role"])
    return user, gateway_context(user, header=connection.headers.get("x-gateway-id"))


def same_gateway(context: str, named: str | None, field: str = "gateway_id") -> None:
    """A gateway named in a body or query must be the context's: nothing crosses gateways."""
    if named is not None and named != context:
        raise PermissionDeniedException(
            f"{field} {named!r} differs from the X-Gateway-ID context {context!r}"
        )


def _is_form(request: Request[Any, Any, Any]) -> bool:
    """A route that takes a file upload (opt `file_upload`) checks the file itself: an import
    answers a NUL in its file with IMPORT_FAILED. Every other route's body is scanned, whatever
    content type it claims."""
    return bool(request.route_handler.opt.get("file_upload"))


async def authorize_request(request: Request[Any, Any, Any]) -> None:
    """The API router's `before_request` hook: it runs before parameters and body are parsed, so
    a caller without the role or the gateway learns nothing of what the route would accept. Its
    verdict is what the `ctx` dependency hands to the handler. OPTIONS (a CORS preflight carries
    no credentials) reaches only Litestar's own answer, the Allow header, which reveals nothing."""
    if request.method == "OPTIONS":
        return
    request.state.caller = authorize(request)
    refusal = csrf_refusal(request, request.app.state.runtime.settings.secret())
    if refusal is not None:  # a cookie-authenticated unsafe request without its session's token
        raise PermissionDeniedException(f"CSRF check failed: {refusal}", extra={"reason": "csrf"})
    refuse_repeated(key for key, _ in request.query_params.multi_items())
    if request.method in _WITH_BODY and not _is_form(request):  # then the body, read once (kept for the route)
        refuse_nul(await request.body())


async def authorize_page(request: Request[Any, Any, Any]) -> None:
    """The page routes' `before_request` hook: the session's principal (the cookie), the route's
    role, and the gateway from the header, else the page's selection (`?gateway_id=`, else the
    remembered one in its cookie), else the server's own."""
    user = _principal(request)
    require_role(user, request.route_handler.opt["role"])
    own = request.app.state.runtime.settings.gateway_id
    remembered = request.cookies.get(SELECTION_COOKIE) or None
    if remembered is not None and not _grantable(user, remembered):
        remembered = None  # another user's choice on this browser, or a gateway no longer granted
    gateway_id = gateway_context(
        user, header=request.headers.get("x-gateway-id"),
        selection=request.query_params.get(PAGE_SELECTION) or remembered, own=own,
    )
    request.state.caller = (user, gateway_id)


def _grantable(user: Principal, gateway_id: str) -> bool:
    try:
        check_gateway_id(gateway_id)
    except ValidationFailed:
        return False
    return user.may_see(gateway_id)
