"""One live subscription per process to the event store (its LISTEN/NOTIFY, so any process's
events arrive), fanned out to every socket of this process through bounded per-connection queues;
and the history read a socket catches up with. docs/live-feed.md says the protocol.

Why no event is lost or sent twice at the seam between history and live: appends are serialised
(a table lock), so notification ids become visible in order. A connection registers with the hub
*before* it reads history; every event the hub hands out after that is queued for it, and every
event committed before its history read ends is in that history. The connection keeps a cursor
(the last position delivered or passed over) and drops anything at or below it. A queue that fills
up is emptied and marked overflowed; its connection then catches up from its cursor again, from
the hub's memory of recent items when it reaches back that far: every item is remembered before it
is dispatched, so whatever a full queue dropped is there.

The fan-out costs per batch, not per socket and event: the subscription's thread hands each event
loop its items with one thread hop for all that gathered meanwhile; on the loop, the filters are
decided once per item and distinct (gateway, filters), and each socket is woken once per batch
and sends it back to back (docs/benchmarks.md, the live feed)."""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.projection import ApplicationSubscription

from application.maintenance.retention import low_water
from interfaces.ws.job_directory import JobDirectory
from interfaces.ws.mailbox import Filters, Item, Subscriber
from interfaces.ws.messages import encode
from interfaces.ws.routing import TOPICS, needs_job_ref, route

_log = logging.getLogger(__name__)
PAGE = 500  # notifications per history read
RECENT = 20_000  # live items kept in memory: an overflowed connection catches up from them, not the log


class FeedHub:
    """`app_of` gives the Scheduler application (read when first needed: the app is built before
    its runtime starts)."""

    def __init__(self, app_of: Callable[[], Any]) -> None:
        self._app_of = app_of
        self.directory = JobDirectory(self)
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._loops: dict[str, dict[asyncio.AbstractEventLoop, int]] = {}  # gateway -> loops with its sockets
        self._outbox: dict[asyncio.AbstractEventLoop, list[Item]] = {}  # items a loop has yet to take
        self._groups: dict[asyncio.AbstractEventLoop, dict[tuple[str, Filters], list[Subscriber]]] = {}
        self._thread: threading.Thread | None = None
        self._subscription: ApplicationSubscription[Any] | None = None
        self._stopping = threading.Event()
        self._started = threading.Event()
        self.position = 0  # the last notification the live subscription handed out
        self._recent: list[Item] = []  # the live items since `_complete_after`, in order
        self._complete_after = 0

    @property
    def app(self) -> Any:
        return self._app_of()

    # ---- turning events into items (history and live alike) ----------------------------------

    def item(self, event: Any, position: int) -> Item | None:
        self.directory.learn(event)
        routed = route(event, position, self.directory.ref(event) if needs_job_ref(event) is not None else None)
        if routed is None:
            return None
        return Item(position, routed.gateway_id, routed.message.type, routed.job_ids, routed.tags,
                    encode(routed.message))

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def low_water(self, gateway_id: str) -> int:
        """The highest position retention has pruned of the gateway (0: none): a resume from
        below it would miss events."""
        with self.app.recorder.datastore.transaction(commit=False) as curs:
            return low_water(curs, gateway_id)

    def history(self, gateway_id: str, after: int, limit: int = PAGE) -> tuple[list[Item], int, bool]:
        """The gateway's items after `after` (one page): (items, last notification id read, done)."""
        notifications = self.app.recorder.select_notifications(start=after + 1, limit=limit, topics=TOPICS)
        items = []
        for notification in notifications:
            item = self.item(self.app.mapper.to_domain_event(notification), notification.id)
            if item is not None and item.gateway_id == gateway_id:
                items.append(item)
        last = notifications[-1].id if notifications else after
        return items, last, len(notifications) < limit

    # ---- the live subscription -----------------------------------------------------------------

    def add(self, subscriber: Subscriber) -> Subscriber:
        with self._lock:
            self._subscribers.setdefault(subscriber.gateway_id, set()).add(subscriber)
            loops = self._loops.setdefault(subscriber.gateway_id, {})
            loops[subscriber.loop] = loops.get(subscriber.loop, 0) + 1
            self._groups.pop(subscriber.loop, None)
        return subscriber

    def remove(self, subscriber: Subscriber) -> None:
        with self._lock:
            group = self._subscribers.get(subscriber.gateway_id)
            if group is None or subscriber not in group:
                return
            group.discard(subscriber)
            if not group:
                del self._subscribers[subscriber.gateway_id]
            loops = self._loops[subscriber.gateway_id]
            loops[subscriber.loop] -= 1
            if not loops[subscriber.loop]:
                del loops[subscriber.loop]
            if not loops:
                del self._loops[subscriber.gateway_id]
            self._groups.pop(subscriber.loop, None)

    def ensure_started(self) -> None:
        """Blocking (the first time it opens the live subscription): call from a worker thread."""
        with self._lock:
            if self._thread is None:
                self.position = self._complete_after = self.head()
                self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
                self._thread.start()
        self._started.wait(10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._subscription = ApplicationSubscription(self.app, gt=self.position, topics=TOPICS)
                with self._subscription:
                    self._started.set()
                    for event, tracking in self._subscription:
                        item = self.item(event, tracking.notification_id)
                        self._remember(item)
                        self._dispatch(item)
                        self.position = tracking.notification_id
            except BaseException:  # noqa: BLE001 - the feed outlives a lost database; resumes where it was
                self._started.set()
                if self._stopping.is_set():
                    return
                _log.exception("live feed subscription failed; resubscribing after position %s", self.position)
                self._stopping.wait(1.0)

    def _remember(self, item: Item | None) -> None:
        """Before it is dispatched: an item dropped by an overflowed mailbox is then in memory."""
        if item is None:
            return
        with self._lock:
            self._recent.append(item)
            if len(self._recent) > 2 * RECENT:
                self._complete_after = self._recent[-RECENT - 1].position
                del self._recent[:-RECENT]

    def recent(self, gateway_id: str, after: int) -> list[Item] | None:
        """The gateway's live items after `after` from memory (every one the live subscription
        handed out so far), or None when memory no longer reaches back to `after`."""
        with self._lock:
            if after < self._complete_after:
                return None
            start = bisect.bisect_right(self._recent, after, key=lambda i: i.position)
            return [i for i in self._recent[start:] if i.gateway_id == gateway_id]

    def _dispatch(self, item: Item | None) -> None:
        """On the subscription's thread: the item joins the outbox of each loop with sockets of its
        gateway; a loop is called once for all that gathered since it last took its outbox (one
        thread hop per loop and batch, not per socket or per event)."""
        if item is None:
            return
        wake = []
        with self._lock:
            for loop in self._loops.get(item.gateway_id, ()):
                box = self._outbox.get(loop)
                if box is None:
                    self._outbox[loop] = [item]
                    wake.append(loop)
                else:
                    box.append(item)
        for loop in wake:
            try:
                loop.call_soon_threadsafe(self._deliver, loop)
            except RuntimeError:  # that loop is closed: its sockets are gone
                with self._lock:
                    self._outbox.pop(loop, None)
                    gone = [s for group in self._subscribers.values() for s in group if s.loop is loop]
                for subscriber in gone:
                    self.remove(subscriber)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        """On `loop`: its outbox to its subscribers, one filter decision per item and distinct
        (gateway, filters), one offer (one wake-up) per subscriber and batch."""
        with self._lock:
            items = self._outbox.pop(loop, [])
            groups = self._groups.get(loop)
            if groups is None:
                groups = {}
                for gateway_subscribers in self._subscribers.values():
                    for subscriber in gateway_subscribers:
                        if subscriber.loop is loop:
                            groups.setdefault((subscriber.gateway_id, subscriber.filters), []).append(subscriber)
                self._groups[loop] = groups
        by_gateway: dict[str, list[Item]] = {}
        for item in items:
            by_gateway.setdefault(item.gateway_id, []).append(item)
        for (gateway_id, filters), subscribers in groups.items():
            accepted = [i for i in by_gateway.get(gateway_id, ()) if filters.accepts(i)]
            if accepted:
                for subscriber in subscribers:
                    subscriber.offer(accepted)

    def close(self) -> None:
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
