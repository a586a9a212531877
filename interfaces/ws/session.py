"""One client's subscription to its gateway's feed, whatever carries it: the WebSocket
(interfaces/ws/feed.py) and Server-Sent Events (interfaces/api/live_stream.py) both iterate
`Subscription.messages` and only say how a message, a batch of live messages and the end go on
their wire. The hub
(interfaces/ws/hub.py) is the one live subscription of the process; this is the cursor.

A message is `Out` (its text, type and position, or None for control messages without one); live
messages come as a list of the hub's `Item`s (the same three attributes), already through the
client's filters and in order; the last thing a subscription yields may be `End` (the code and
reason the transport closes with)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread

from interfaces.ws.hub import FeedHub
from interfaces.ws.mailbox import OVERFLOW, Filters, Item, Subscriber
from interfaces.ws.messages import AuthOk, CaughtUp, Heartbeat, ResyncRequired, encode

HEARTBEAT_SECONDS = 15.0  # a quiet connection gets {"type": "heartbeat", "position": cursor} this often
# A client whose queue overflowed (it reads too slowly) is caught up from the log while it is at
# most this many positions behind the head; further behind, it gets resync_required and the close.
BACKLOG_LIMIT = 100_000
CLOSE_EXPIRED = 4401  # as channels.CLOSE_UNAUTHORIZED
CLOSE_RESYNC = 4410  # "gone", as HTTP 410: the position cannot be continued without a gap


@dataclass(frozen=True)
class Out:
    text: str
    type: str
    position: int | None


@dataclass(frozen=True)
class End:
    code: int
    reason: str


def _control(message: AuthOk | CaughtUp | Heartbeat | ResyncRequired) -> Out:
    return Out(encode(message), message.type, getattr(message, "position", None))


class Subscription:
    def __init__(self, hub: FeedHub, gateway_id: str, filters: Filters, expires: datetime) -> None:
        self.hub, self.gateway_id, self.filters = hub, gateway_id, filters
        self.expires = expires  # the token's expiry: the subscription ends then (4401)
        self.cursor = 0  # the last position delivered or passed over

    def _pass(self, item: Item) -> Item | None:
        """The item's message if this client gets it; moves the cursor past it either way."""
        if item.position <= self.cursor:
            return None
        self.cursor = item.position
        return item if self.filters.accepts(item) else None  # an Item reads as an Out: no copy

    async def _catch_up(self, after: int) -> AsyncIterator[Item]:
        """Everything of the gateway after `after` from the log, up to at least its head now."""
        head = await anyio.to_thread.run_sync(self.hub.head)
        self.cursor = max(self.cursor, after)
        while True:
            items, last, done = await anyio.to_thread.run_sync(self.hub.history, self.gateway_id, self.cursor)
            for item in items:
                if (out := self._pass(item)) is not None:
                    yield out
            self.cursor = max(self.cursor, last)
            if done:
                break
        self.cursor = max(self.cursor, head)

    async def messages(self, after: int | None) -> AsyncIterator[Out | End | list[Item]]:
        """auth_ok; the history after `after` (None: live from now) or resync_required if retention
        pruned some of it; caught_up; then live messages and heartbeats until the token expires."""
        hub = self.hub
        await anyio.to_thread.run_sync(hub.ensure_started)
        subscriber = hub.add(Subscriber(self.gateway_id, asyncio.get_running_loop(), self.filters))  # before the history: the seam
        try:
            yield _control(AuthOk(self.gateway_id))
            if after is None:
                self.cursor = await anyio.to_thread.run_sync(hub.head)
            else:
                low = await anyio.to_thread.run_sync(hub.low_water, self.gateway_id)
                if after < low:
                    yield _control(ResyncRequired("retention", low))
                    yield End(CLOSE_RESYNC, "Events after this position were pruned: resync")
                    return
                async for out in self._catch_up(after):
                    yield out
            yield _control(CaughtUp(self.cursor))
            async for out in self._live(subscriber):
                yield out
        finally:
            hub.remove(subscriber)
            subscriber.close()

    async def _live(self, subscriber: Subscriber) -> AsyncIterator[Out | End | list[Item]]:
        """Each batch the hub offered, at once and whole (the transport sends it back to back);
        a heartbeat after HEARTBEAT_SECONDS without one; the end at the token's expiry. Times are
        the loop's clock: no wall-clock read per batch."""
        loop = asyncio.get_running_loop()
        expires = loop.time() + (self.expires - datetime.now(UTC)).total_seconds()
        quiet_since = loop.time()
        while True:
            got = subscriber.take()
            if got is None:
                now = loop.time()
                if now >= expires:
                    yield End(CLOSE_EXPIRED, "The token expired")
                    return
                if now >= quiet_since + HEARTBEAT_SECONDS:
                    quiet_since = now
                    yield _control(Heartbeat(self.cursor))
                    continue
                await subscriber.wait(min(expires, quiet_since + HEARTBEAT_SECONDS))
                continue
            quiet_since = loop.time()
            if got is OVERFLOW:
                head = await anyio.to_thread.run_sync(self.hub.head)
                if head - self.cursor > BACKLOG_LIMIT:
                    yield _control(ResyncRequired("backlog", self.cursor))
                    yield End(CLOSE_RESYNC, "Too far behind: resync")
                    return
                recent = self.hub.recent(self.gateway_id, self.cursor)
                if recent is None:  # further back than the hub remembers: from the log
                    async for out in self._catch_up(self.cursor):
                        yield out
                elif recent:  # what the mailbox dropped, and the live items since: the rest comes live
                    self.cursor = recent[-1].position
                    if batch := [item for item in recent if self.filters.accepts(item)]:
                        yield batch
                continue
            batch = [item for item in got if item.position > self.cursor]  # type: ignore[union-attr]
            if batch:
                self.cursor = batch[-1].position
                yield batch
