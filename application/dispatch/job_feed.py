"""How a dispatcher follows its gateway's jobs: it reads every job event so far, then follows new
ones live (a subscription thread puts them in an inbox the dispatch loop drains), keeping the
gateway's Job aggregates in memory."""

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


class JobFeed:
    def __init__(self, app: Any, gateway_id: str, wake: threading.Event) -> None:
        self.app = app
        self.gateway_id = gateway_id
        self.jobs: dict[UUID, Job] = {}
        self.position = 0  # the last event applied (dispatch loop)
        self._followed = 0  # the last event put in the inbox (subscription thread)
        self._wake = wake
        self._inbox: queue.SimpleQueue[tuple[Any, int]] = queue.SimpleQueue()
        self._subscription: ApplicationSubscription[Any] | None = None

    def catch_up(self, on_event: Callable[[Any, bool], None]) -> None:
        """Read every job event so far (job events are few: executions are their own aggregates)."""
        self.position = self.app.recorder.max_notification_id() or 0
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, 1000, stop=self.position, topics=JOB_TOPICS)
            for notification in page:
                on_event(self.app.mapper.to_domain_event(notification), False)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        self._followed = self.position

    def follow(self, stopping: threading.Event) -> None:
        """The subscription thread: from the last event it passed on, for as long as the dispatcher runs."""
        while not stopping.is_set():
            try:
                self._subscription = ApplicationSubscription(self.app, gt=self._followed, topics=JOB_TOPICS)
                with self._subscription:
                    for event, tracking in self._subscription:
                        self._inbox.put((event, tracking.notification_id))
                        self._followed = tracking.notification_id
                        self._wake.set()
            except Exception:  # noqa: BLE001 - keep following; resumes from the last position applied
                if not stopping.is_set():
                    _log.exception("dispatcher subscription failed; resubscribing")
                    stopping.wait(1.0)

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.stop()

    def drain(self, on_event: Callable[[Any, bool], None]) -> int | None:
        """Apply what arrived (dispatch loop); returns the last position applied, if any."""
        applied = None
        while True:
            try:
                event, position = self._inbox.get_nowait()
            except queue.Empty:
                return applied
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
