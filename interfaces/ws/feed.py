"""The live feed's WebSocket, `/api/v1/scheduler/ws` (docs/live-feed.md): first-message auth
(interfaces/auth/channels.py), `auth_ok`, history after `"after"` from the event store, then
`caught_up`, then live events; filters `types` and `job_ids`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from litestar import websocket
from litestar.connection import WebSocket
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect

from interfaces.auth.channels import CLOSE_INVALID, CLOSE_UNAUTHORIZED, authenticated_socket
from interfaces.auth.tokens import token_expiry
from interfaces.ws.hub import OVERFLOW, FeedHub, Filters, Item, Subscriber
from interfaces.ws.messages import MESSAGE_TYPES, AuthOk, CaughtUp, Heartbeat, encode

PATH = "/api/v1/scheduler/ws"
HEARTBEAT_SECONDS = 15.0  # a quiet connection gets {"type": "heartbeat", "position": cursor} this often


class BadRequest(ValueError):
    pass


def _strings(message: dict[str, Any], name: str, allowed: tuple[str, ...] | None = None) -> frozenset[str] | None:
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    if allowed is not None and (unknown := sorted(set(value) - set(allowed))):
        raise BadRequest(f"unknown {name}: {', '.join(unknown)[:80]}")
    return frozenset(value)


def parse(message: dict[str, Any]) -> tuple[int | None, Filters]:
    after = message.get("after")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
        raise BadRequest("after must be a position (an integer >= 0)")
    return after, Filters(_strings(message, "types", MESSAGE_TYPES), _strings(message, "job_ids"))


def hub_of(socket: WebSocket[Any, Any, Any]) -> FeedHub:
    return socket.app.state.feed  # type: ignore[no-any-return]


class Connection:
    def __init__(self, socket: WebSocket[Any, Any, Any], hub: FeedHub, subscriber: Subscriber, filters: Filters,
                 expires: datetime):
        self.socket, self.hub, self.subscriber, self.filters = socket, hub, subscriber, filters
        self.expires = expires  # the token's expiry: the connection closes then (4401)
        self.cursor = 0  # the last position delivered or passed over

    async def send(self, item: Item) -> None:
        if item.position <= self.cursor:
            return
        if self.filters.accepts(item):
            await self.socket.send_text(item.text)
        self.cursor = item.position

    async def catch_up(self, after: int) -> None:
        """Everything of the gateway after `after` from the log, up to at least its head now."""
        head = await anyio.to_thread.run_sync(self.hub.head)
        self.cursor = max(self.cursor, after)
        while True:
            items, last, done = await anyio.to_thread.run_sync(self.hub.history, self.subscriber.gateway_id, self.cursor)
            for item in items:
                await self.send(item)
            self.cursor = max(self.cursor, last)
            if done:
                break
        self.cursor = max(self.cursor, head)

    async def live(self) -> None:
        while True:
            left = (self.expires - datetime.now(UTC)).total_seconds()
            try:
                item = await asyncio.wait_for(self.subscriber.queue.get(), max(0.0, min(HEARTBEAT_SECONDS, left)))
            except TimeoutError:
                if datetime.now(UTC) >= self.expires:
                    await self.socket.close(code=CLOSE_UNAUTHORIZED, reason="The token expired")
                    return
                if left < HEARTBEAT_SECONDS:
                    continue  # it woke for the expiry, a moment early (timer granularity): wait again
                await self.socket.send_text(encode(Heartbeat(self.cursor)))
                continue
            if item is OVERFLOW:
                await self.catch_up(self.cursor)
            else:
                await self.send(item)


@websocket(PATH, opt={"role": "viewer"})
@authenticated_socket
async def live_feed(socket: WebSocket[Any, Any, Any]) -> None:
    _principal, gateway_id = socket.state.caller
    try:
        after, filters = parse(socket.state.first_message)
    except BadRequest as exc:
        await socket.close(code=CLOSE_INVALID, reason=str(exc)[:120])
        return
    try:
        expires = token_expiry(socket.state.first_message["token"], socket.app.state.runtime.settings.secret())
    except NotAuthorizedException:  # expired since it was checked
        await socket.close(code=CLOSE_UNAUTHORIZED, reason="The token expired")
        return
    hub = hub_of(socket)
    await anyio.to_thread.run_sync(hub.ensure_started)
    subscriber = hub.add(Subscriber(gateway_id, asyncio.get_running_loop()))  # before the history read: the seam
    connection = Connection(socket, hub, subscriber, filters, expires)
    try:
        await socket.send_text(encode(AuthOk(gateway_id)))
        if after is None:  # live only, from now
            connection.cursor = await anyio.to_thread.run_sync(hub.head)
        else:
            await connection.catch_up(after)
        await socket.send_text(encode(CaughtUp(connection.cursor)))
        await _until_either(connection.live(), _until_closed(socket))
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(subscriber)


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
