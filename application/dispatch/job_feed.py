"""How a dispatcher follows its gateway's jobs: it reads every job event so far, then follows new
ones live (a subscription thread puts them in an inbox the dispatch loop drains), keeping the
gateway's Job aggregates in memory. The dispatchers of one process share one subscription
(JobFeedHub): each subscription queries the event table on every notification of any gateway, so
one per dispatcher made a fleet's queries grow as gateways x commits (docs/benchmarks.md, fleet)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.projection import ApplicationSubscription
from eventsourcing.utils import get_topic

from domain.job import Job, job_event_classes

_log = logging.getLogger(__name__)
JOB_TOPICS = tuple(get_topic(c) for c in job_event_classes())  # every Job event, later ones included


class JobFeedHub:
    """One live subscription to the job events for the feeds of one process's dispatchers (one
    Scheduler application). Its thread runs while a feed is registered; each event goes to every
    feed's inbox (a feed keeps only its gateway's jobs)."""

    def __init__(self, app: Any, *, keep_history: bool = False) -> None:
        self.app = app
        self._feeds: list[JobFeed] = []
        self._lock = threading.Lock()
        # The job events read so far, by gateway, for the catch-up of the next feed: kept by a
        # process's hub, so that its dispatchers of G gateways read the log once, not G times.
        self.keep_history = keep_history
        self._history_lock = threading.Lock()
        self._history: dict[str, list[Any]] = {}
        self._gateway_of: dict[UUID, str] = {}
        self._history_upto = 0
        self._followed = 0  # the last event passed on (subscription thread)
        self._stopping: threading.Event | None = None
        self._subscription: ApplicationSubscription[Any] | None = None
        self._thread: threading.Thread | None = None

    def register(self, feed: JobFeed) -> None:
        """From now on `feed` receives every job event after the last one passed on (at most the
        log's end, so a catch-up read after this call leaves no gap)."""
        with self._lock:
            self._feeds.append(feed)
            if self._thread is None:
                self._followed = self.app.recorder.max_notification_id() or 0
                self._stopping = threading.Event()
                self._thread = threading.Thread(target=self._follow, args=(self._stopping,), daemon=True,
                                                name="job-feed")
                self._thread.start()

    def unregister(self, feed: JobFeed) -> None:
        with self._lock:
            if feed in self._feeds:
                self._feeds.remove(feed)
            if self._feeds or self._thread is None:
                return
            stopping, thread, subscription = self._stopping, self._thread, self._subscription
            self._thread = self._stopping = self._subscription = None
        assert stopping is not None
        stopping.set()
        if subscription is not None:
            subscription.stop()
        thread.join(timeout=5)

    def history(self, gateway_id: str) -> tuple[list[Any], int]:
        """Every job event of the gateway up to a position at least the log's end now, and that
        position (a feed registered before this call receives what comes after it)."""
        with self._history_lock:
            end = self.app.recorder.max_notification_id() or 0
            start = self._history_upto + 1
            while start <= end:
                page = self.app.recorder.select_notifications(start, 1000, stop=end, topics=JOB_TOPICS)
                for notification in page:
                    self._remember(self.app.mapper.to_domain_event(notification))
                if len(page) < 1000:
                    break
                start = page[-1].id + 1
            self._history_upto = max(self._history_upto, end)
            events, upto = list(self._history.get(gateway_id, ())), self._history_upto
            if not self.keep_history:
                self._history, self._gateway_of, self._history_upto = {}, {}, 0
            return events, upto

    def _remember(self, event: Any) -> None:
        gateway = event.gateway_id if isinstance(event, Job.Created) else self._gateway_of.get(event.originator_id)
        if gateway is None:
            return
        self._gateway_of[event.originator_id] = gateway
        self._history.setdefault(gateway, []).append(event)

    def _follow(self, stopping: threading.Event) -> None:
        """The subscription thread: from the last event it passed on, for as long as a feed is registered."""
        while not stopping.is_set():
            try:
                subscription = ApplicationSubscription(self.app, gt=self._followed, topics=JOB_TOPICS)
                with self._lock:
                    if stopping.is_set():
                        return
                    self._subscription = subscription
                with subscription:
                    for event, tracking in subscription:
                        with self._lock:
                            feeds = list(self._feeds)
                        for feed in feeds:
                            feed.deliver(event, tracking.notification_id)
                        self._followed = tracking.notification_id
            except Exception:  # noqa: BLE001 - keep following; resumes from the last position passed on
                if not stopping.is_set():
                    _log.exception("job feed subscription failed; resubscribing")
                    stopping.wait(1.0)


class JobFeed:
    def __init__(self, app: Any, gateway_id: str, wake: threading.Event, hub: JobFeedHub | None = None) -> None:
        self.app = app
        self.gateway_id = gateway_id
        self.jobs: dict[UUID, Job] = {}
        self.position = 0  # the last event applied (dispatch loop)
        self._wake = wake
        self._inbox: queue.SimpleQueue[tuple[Any, int]] = queue.SimpleQueue()
        self.hub = hub or JobFeedHub(app)  # without one given, a subscription of its own

    def deliver(self, event: Any, position: int) -> None:
        """The hub's thread: a live job event of any gateway."""
        self._inbox.put((event, position))
        self._wake.set()

    def catch_up(self, on_event: Callable[[Any, bool], None]) -> None:
        """Read every job event so far (job events are few: executions are their own aggregates);
        the hub passes on what comes after (drain skips what this read already applied)."""
        self.hub.register(self)
        events, self.position = self.hub.history(self.gateway_id)
        for event in events:
            on_event(event, False)

    def stop(self) -> None:
        self.hub.unregister(self)

    def drain(self, on_event: Callable[[Any, bool], None]) -> int | None:
        """Apply what arrived (dispatch loop); returns the last position applied, if any."""
        applied = None
        while True:
            try:
                event, position = self._inbox.get_nowait()
            except queue.Empty:
                return applied
            if position <= self.position:
                continue  # the catch-up read it already
            on_event(event, True)
            self.position = applied = position

    def apply(self, event: Any) -> Job | None:
        """Keep this gateway's Job aggregates in step; returns the job the event changed (None
        when not one of this gateway's). A deleted job is forgotten."""
        if isinstance(event, Job.Created):
            if event.gateway_id != self.gateway_id:
                return None
            job = event.mutate(None)
            self.jobs[event.originator_id] = job
            return job
        job = self.jobs.get(event.originator_id)
        if job is None:
            return None
        event.mutate(job)
        if job.deleted:
            self.jobs.pop(event.originator_id, None)
        return job
