"""The live feed as Server-Sent Events, `GET /api/v1/scheduler/events/stream` (docs/live-feed.md),
for clients that cannot speak WebSocket: authenticated as the API (Bearer or the session cookie,
X-Gateway-ID), resumed with `Last-Event-ID` (what an EventSource sends when it reconnects) or
`?after=`. The same Subscription as the WebSocket (interfaces/ws/session.py): each message becomes
`event: <type>`, `id: <position>` (when it has one), `data: <the same JSON>`; its end, an `end` event.

The subscription ends with the response: when the client goes, Litestar cancels the task that
streams the body, and if that task was waiting on a write (a slow client's full TCP window) rather
than inside the message generator, the generator is left suspended, its subscriber registered in
the hub until the garbage collector finalises it. The response's background task closes it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from domain.errors import ValidationFailed
from interfaces.api.dependencies import Context
from interfaces.ws.feed import BadRequest, filters_of, hub_of, position
from interfaces.ws.mailbox import Filters
from interfaces.ws.session import End, Subscription

PATH = "/events/stream"


def _names(raw: str | None) -> list[str] | None:
    return None if raw is None else [name.strip() for name in raw.split(",") if name.strip()]


def _position(raw: str | None, field: str) -> int | None:
    if raw is None:
        return None
    try:
        return position(int(raw.strip()), field)
    except (ValueError, BadRequest):
        raise ValidationFailed(f"{field} must be a position (an integer >= 0)", {"field": field}) from None


def subscription_request(last_event_id: str | None, after: str | None, types: str | None, job_ids: str | None,
                         tags: str | None) -> tuple[int | None, Filters]:
    """The resume position (Last-Event-ID, else `after`) and the filters (comma-separated lists)."""
    position_ = _position(last_event_id, "Last-Event-ID")
    if position_ is None:
        position_ = _position(after, "after")
    try:
        return position_, filters_of(_names(types), _names(job_ids), _names(tags))
    except BadRequest as exc:
        raise ValidationFailed(str(exc), {"field": "types", "reason": "unknown type"}) from None


async def _events(subscription: Subscription, after: int | None) -> AsyncGenerator[ServerSentEventMessage, None]:
    async with aclosing(subscription.messages(after)) as messages:
        async for out in messages:
            if isinstance(out, End):
                data = msgspec.json.encode({"type": "end", "code": out.code, "reason": out.reason}).decode()
                yield ServerSentEventMessage(data=data, event="end")
                return
            for one in out if isinstance(out, list) else (out,):
                yield ServerSentEventMessage(data=one.text, event=one.type, id=one.position)


class LiveStream(Controller):
    @get(PATH, opt={"role": "viewer"})
    async def stream(
        self, ctx: NamedDependency[Context], request: Request[Any, Any, Any],
        after: Annotated[str | None, Parameter(description="Resume after this position (Last-Event-ID wins)",
                                               pattern="^[0-9]{1,18}$")] = None,
        types: Annotated[str | None, Parameter(description="Only these message types (comma-separated)")] = None,
        job_ids: Annotated[str | None, Parameter(description="Only the messages of these jobs (comma-separated)")] = None,
        tags: Annotated[str | None, Parameter(description="Only the messages of jobs with one of these tags")] = None,
    ) -> ServerSentEvent:
        """The gateway's live feed as Server-Sent Events (text/event-stream); resume with Last-Event-ID."""
        after_, filters = subscription_request(request.headers.get("last-event-id"), after, types, job_ids, tags)
        subscription = Subscription(hub_of(request.app), ctx.gateway_id, filters, request.auth.exp)
        events = _events(subscription, after_)
        return ServerSentEvent(events, headers={"X-Accel-Buffering": "no"}, background=BackgroundTask(_close, events))


async def _close(events: AsyncGenerator[ServerSentEventMessage, None]) -> None:
    """After the response, however it ended: a generator already finished is left as it is."""
    await events.aclose()
