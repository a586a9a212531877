"""How a dispatcher follows its gateway's jobs: it reads every job event so far, then follows new
ones live, keeping the Job aggregates in memory and, while it leads, the due index in step."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from eventsourcing.projection import ApplicationSubscription
from eventsourcing.utils import get_topic

from application.due_index import Due, JobEntry
from domain.job import Job

_log = logging.getLogger(__name__)
JOB_TOPICS = tuple(get_topic(c) for c in (Job.Created, Job.Updated, Job.Toggled, Job.Deleted, Job.RunRequested))


class JobFeed:
    """Mixin of Dispatcher (its state lives there)."""

    app: Any
    gateway_id: str

    def _catch_up(self) -> None:
        """Read every job event so far (job events are few: executions are their own aggregates)."""
        self._position = self.app.recorder.max_notification_id() or 0
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, 1000, stop=self._position, topics=JOB_TOPICS)
            for notification in page:
                self._apply(self.app.mapper.to_domain_event(notification), live=False)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        if self.on_applied:
            self.on_applied(self._position)

    def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                self._subscription = ApplicationSubscription(self.app, gt=self._position, topics=JOB_TOPICS)
                with self._subscription:
                    for event, tracking in self._subscription:
                        self._inbox.put(("event", (event, tracking.notification_id)))
                        self._wake.set()
            except Exception:  # noqa: BLE001 - keep following; the loop resumes from the last position
                if not self._stopping.is_set():
                    _log.exception("dispatcher subscription failed; resubscribing")
                    self._stopping.wait(1.0)

    def _apply(self, event: Any, *, live: bool) -> None:
        """Keep this gateway's Job aggregates and, while leading, the due index in step."""
        if isinstance(event, Job.Created):
            if event.gateway_id != self.gateway_id:
                return
            job = event.mutate(None)
            self.jobs[event.originator_id] = job
        else:
            job = self.jobs.get(event.originator_id)
            if job is None:
                return
            event.mutate(job)
            if isinstance(event, Job.RunRequested):
                self._run_requested(job, event, live=live)
                return
        if job.deleted:
            self.jobs.pop(event.originator_id, None)
            self.index.remove(job.job_id)
        elif self.leadership.held:
            self.index.replace(JobEntry.of(job, self._location()), event.timestamp)

    def _run_requested(self, job: Job, event: Job.RunRequested, *, live: bool) -> None:
        due = Due(event.timestamp, 0, job.job_id, None, 0.0, 0, "manual", event.execution_id, dict(event.parameters))
        if self.leadership.held and live:
            self.index.push(due)
        elif self.clock() - event.timestamp < timedelta(hours=1):
            self.pending_runs[event.execution_id] = due  # checked when this worker leads

    def _location(self) -> tuple[float, float] | None:
        gateway = self.app.gateway(self.gateway_id)
        return gateway.location_point if gateway else None

