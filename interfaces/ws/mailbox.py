"""A connection's side of the live feed's fan-out: the item it is sent (encoded once for every
socket), the filters it asked for, and its mailbox on its event loop (interfaces/ws/hub.py fills
it; interfaces/ws/session.py empties it)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

QUEUE_SIZE = 1000  # live messages a connection may have waiting before it falls back to catch-up


@dataclass(frozen=True)
class Item:
    """One message, encoded once for every socket that gets it."""

    position: int
    gateway_id: str
    type: str
    job_ids: frozenset[str]  # the jobs it is about (none: gateway-wide, e.g. resource_alert)
    tags: frozenset[str]
    text: str


OVERFLOW = object()  # in a queue: live messages were dropped, catch up from the cursor


@dataclass(frozen=True)
class Filters:
    """A message passes when its type is listed; and, if it is about jobs, when one of them is
    listed and one of its tags is. A gateway-wide message (resource_alert) passes the job filters."""

    types: frozenset[str] | None = None
    job_ids: frozenset[str] | None = None
    tags: frozenset[str] | None = None

    def accepts(self, item: Item) -> bool:
        if self.types is not None and item.type not in self.types:
            return False
        if not item.job_ids:
            return True
        return (self.job_ids is None or not self.job_ids.isdisjoint(item.job_ids)) and (
            self.tags is None or not self.tags.isdisjoint(item.tags))


class Subscriber:
    """One connection's mailbox, on its event loop: the live items the hub handed it (already
    through its filters), woken once per batch. Past QUEUE_SIZE waiting items it is emptied and
    marked overflowed (its connection catches up from its cursor)."""

    __slots__ = ("gateway_id", "loop", "filters", "pending", "overflowed", "overflows", "_waiter", "_timer")

    def __init__(self, gateway_id: str, loop: asyncio.AbstractEventLoop, filters: Filters | None = None) -> None:
        self.gateway_id, self.loop, self.filters = gateway_id, loop, filters or Filters()
        self.pending: deque[Item] = deque()
        self.overflowed = False
        self.overflows = 0
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def offer(self, items: Sequence[Item]) -> None:
        """On the subscriber's loop."""
        if self.overflowed:
            return  # its catch-up reads these from the log
        if len(self.pending) + len(items) > QUEUE_SIZE:
            self.pending.clear()
            self.overflowed = True
            self.overflows += 1
        else:
            self.pending.extend(items)
        self._wake()

    def take(self) -> list[Item] | object | None:
        """What waits: OVERFLOW, or the items (all of them), or None."""
        if self.overflowed:
            self.overflowed = False
            return OVERFLOW
        if not self.pending:
            return None
        items = list(self.pending)
        self.pending.clear()
        return items

    async def wait(self, until: float) -> None:
        """Until something is offered or the loop's clock reaches `until`. One timer serves many
        waits: armed again only once it rang or when a wait needs it sooner."""
        if self.pending or self.overflowed:
            return
        if self._timer is None or self._timer.when() > until:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(until, self._ring)
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _ring(self) -> None:
        self._timer = None
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
