"""The live feed's WebSocket, `/api/v1/scheduler/ws` (docs/live-feed.md): first-message auth
(interfaces/auth/channels.py), then what the client's Subscription (interfaces/ws/session.py)
yields, each message a text frame; its end a close with its code. Filters `types`, `job_ids`, `tags`."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

from litestar import websocket
from litestar.connection import WebSocket
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect

from interfaces.auth.channels import (
    CLOSE_INVALID,
    CLOSE_UNAUTHORIZED,
    authenticated_socket,
    refuse,
)
from interfaces.auth.tokens import token_expiry
from interfaces.ws.hub import FeedHub
from interfaces.ws.mailbox import Filters
from interfaces.ws.messages import MESSAGE_TYPES
from interfaces.ws.session import End, Subscription

PATH = "/api/v1/scheduler/ws"


class BadRequest(ValueError):
    pass


def strings(value: Any, name: str, allowed: tuple[str, ...] | None = None) -> frozenset[str] | None:
    """A filter's list of names (None: no filter); BadRequest when it is not a list of strings or
    names an unknown one."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    if allowed is not None and (unknown := sorted(set(value) - set(allowed))):
        raise BadRequest(f"unknown {name}: {', '.join(unknown)[:80]}")
    return frozenset(value)


def position(value: Any, name: str = "after") -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise BadRequest(f"{name} must be a position (an integer >= 0)")
    return value  # type: ignore[no-any-return]


def filters_of(types: Any, job_ids: Any, tags: Any) -> Filters:
    return Filters(strings(types, "types", MESSAGE_TYPES), strings(job_ids, "job_ids"), strings(tags, "tags"))


def parse(message: dict[str, Any]) -> tuple[int | None, Filters]:
    return position(message.get("after")), filters_of(message.get("types"), message.get("job_ids"), message.get("tags"))


def hub_of(app: Any) -> FeedHub:
    return app.state.feed  # type: ignore[no-any-return]


@websocket(PATH, opt={"role": "viewer"})
@authenticated_socket
async def live_feed(socket: WebSocket[Any, Any, Any]) -> None:
    _principal, gateway_id = socket.state.caller
    try:
        after, filters = parse(socket.state.first_message)
    except BadRequest as exc:
        await refuse(socket, CLOSE_INVALID, str(exc))
        return
    try:
        expires = token_expiry(socket.state.first_message["token"], socket.app.state.runtime.settings.secret())
    except NotAuthorizedException:  # expired since it was checked
        await refuse(socket, CLOSE_UNAUTHORIZED, "The token expired")
        return
    subscription = Subscription(hub_of(socket.app), gateway_id, filters, expires)
    try:
        await _until_either(_send_all(socket, subscription, after), _until_closed(socket))
    except WebSocketDisconnect:
        pass


async def _send_all(socket: WebSocket[Any, Any, Any], subscription: Subscription, after: int | None) -> None:
    async with aclosing(subscription.messages(after)) as messages:
        async for out in messages:
            if isinstance(out, list):  # live messages: back to back
                for item in out:
                    await socket.send_text(item.text)
            elif isinstance(out, End):
                await socket.close(code=out.code, reason=out.reason)
                return
            else:
                await socket.send_text(out.text)


async def _until_closed(socket: WebSocket[Any, Any, Any]) -> None:
    """Reads (and ignores) what the client sends, to notice when it goes."""
    while True:
        await socket.receive_data("text")


async def _until_either(*coroutines: Any) -> None:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # re-raises a disconnect or a failure
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
