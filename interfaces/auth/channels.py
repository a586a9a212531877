"""How each channel meets its caller: a page route without a session is sent to /login (302),
not given the API's JSON envelope; a WebSocket is authenticated by its first message, and closed
with a 44xx code when that fails."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import WebSocket
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    SerializationException,
)
from litestar.status_codes import HTTP_302_FOUND

from domain.errors import SchedulerError
from interfaces.auth.context import gateway_context, require_role
from interfaces.auth.tokens import principal_from_token

PAGE = "page"  # the `channel` a page route declares in its opt
LOGIN = "/login"
# Close codes of a refused socket (4000-4999 are the application's): as the HTTP statuses.
CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_INVALID = 4401, 4403, 4400
AUTH_TIMEOUT = 5.0  # seconds a socket has to send its first message


def is_page(request: Request[Any, Any, Any]) -> bool:
    handler = request.scope.get("route_handler")
    return handler is not None and handler.opt.get("channel") == PAGE


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """302 to the login page, which sends the user back to where they were (`next`)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    target = request.url.path + (f"?{query}" if query else "")
    return Response(b"", status_code=HTTP_302_FOUND, headers={"Location": f"{LOGIN}?next={quote(target, safe='')}"})


def page_failure(request: Request[Any, Any, Any], exc: Exception, answer: Response[Any]) -> Response[Any]:
    """The page's answer to a failure the API would answer with `answer` (its envelope): no
    session -> the login page; another refusal -> its status and message in plain text; a server
    error stays the envelope (with its request id)."""
    if isinstance(exc, NotAuthorizedException):
        return login_redirect(request)
    if answer.status_code >= 500 or not isinstance(answer.content, dict):
        return answer
    return Response(
        str(answer.content.get("message", "")), status_code=answer.status_code, media_type="text/plain",
        headers=dict(answer.headers),
    )


SocketHandler = Callable[..., Awaitable[None]]


def authenticated_socket(handler: SocketHandler) -> SocketHandler:
    """Wraps a WebSocket route: accept, read the first message `{"token": ..., "gateway_id": ...}`,
    check the token, the role the route declares and the gateway (the message's, else the server's
    own), then run the route with `socket.state.caller = (principal, gateway_id)` and the message
    itself in `socket.state.first_message`. No message within AUTH_TIMEOUT: closed with 4401. `create_app`
    refuses a WebSocket route not wrapped so."""

    @functools.wraps(handler)
    async def authenticated(socket: WebSocket[Any, Any, Any], **kwargs: Any) -> None:
        await socket.accept()
        settings = socket.app.state.runtime.settings
        try:
            try:
                message = await asyncio.wait_for(socket.receive_json(), AUTH_TIMEOUT)
            except TimeoutError:
                raise NotAuthorizedException(f"No auth message within {AUTH_TIMEOUT:g} s") from None
            if not isinstance(message, dict):
                raise NotAuthorizedException("The first message must be {\"token\": ...}")
            principal = principal_from_token(message.get("token"), settings.secret())
            require_role(principal, socket.route_handler.opt["role"])
            gateway_id = gateway_context(principal, selection=message.get("gateway_id"), own=settings.gateway_id)
        except NotAuthorizedException as exc:
            await socket.close(code=CLOSE_UNAUTHORIZED, reason=exc.detail[:120])
            return
        except PermissionDeniedException as exc:
            await socket.close(code=CLOSE_FORBIDDEN, reason=exc.detail[:120])
            return
        except SerializationException:
            await socket.close(code=CLOSE_INVALID, reason="The first message must be JSON")
            return
        except (SchedulerError, ValueError) as exc:  # a malformed message or gateway id
            await socket.close(code=CLOSE_INVALID, reason=str(exc)[:120])
            return
        socket.state.caller = (principal, gateway_id)
        socket.state.first_message = message
        await handler(socket, **kwargs)

    authenticated.authorized_by = authenticated_socket  # type: ignore[attr-defined]
    return authenticated
