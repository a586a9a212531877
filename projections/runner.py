"""Runs projections in threads, each on its own subscription to the application's event log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import ApplicationSubscription, Projection

from projections.progress import Progress
from projections.view import TrackedView

_log = logging.getLogger(__name__)


class ProjectionThread:
    """Subscribes after the view's tracked position and feeds events to the projection.
    A failure is logged and the subscription restarts from the last committed position."""

    def __init__(self, app: Any, projection: Projection[TrackedView], progress: Progress) -> None:
        self.app = app
        self.projection = projection
        self.progress = progress
        self.view = projection.view
        self.view.on_commit = progress.advance
        self._stopping = threading.Event()
        self._subscription: ApplicationSubscription[Any] | None = None
        self._thread = threading.Thread(target=self._run, name=f"projection-{projection.name}", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        position = self.view.max_tracking_id(self.app.name)
        self.progress.register(self.view.tracking_table, self.projection.topics, position)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                gt = self.view.max_tracking_id(self.app.name)
                if gt:  # another process may have committed this view further (shared tables)
                    self.progress.advance(self.view.tracking_table, gt)
                self._subscription = ApplicationSubscription(self.app, gt=gt, topics=self.projection.topics)
                with self._subscription:
                    for event, tracking in self._subscription:
                        self.projection.process_event(event, tracking)
            except BaseException as error:  # noqa: BLE001 - keep the read side alive, log why
                if self._stopping.is_set():
                    return
                self.error = error
                _log.exception("projection %s failed; restarting", self.projection.name)
                self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.stop()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)


def rebuild(
    app: Any, projection: Projection[TrackedView], page: int = 500,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Truncate the projection's view and replay the whole log into it; returns events replayed.
    Stop the projection's thread first (or run it where no other writer appends). `on_progress`
    gets (events replayed, last notification id) after each page."""
    projection.view.truncate()
    start, count = 1, 0
    while batch := app.recorder.select_notifications(start=start, limit=page, topics=projection.topics):
        for notification in batch:
            projection.process_event(app.mapper.to_domain_event(notification), Tracking(app.name, notification.id))
        count += len(batch)
        start = batch[-1].id + 1
        if on_progress is not None:
            on_progress(count, batch[-1].id)
    return count
