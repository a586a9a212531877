"""Runs projections in threads, each on its own subscription to the application's event log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import ApplicationSubscription, Projection

from projections.progress import Progress
from projections.view import TrackedView

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """Why a projection does not advance: the event it cannot apply (None when the failure is not
    an event's, e.g. the database went away) and the error."""

    notification_id: int | None
    error: str


BATCH = 500  # events at most in one read-model transaction


def _more_ready(subscription: ApplicationSubscription[Any]) -> bool:
    """Whether the subscription holds more events already read from the log (then the next one
    comes without waiting, and joins the same transaction). eventsourcing's listen/notify
    subscription keeps them in a list and a queue; without those, every event commits alone."""
    inner = subscription.subscription
    held = getattr(inner, "_notifications", None)
    index = getattr(inner, "_notifications_index", None)
    queue = getattr(inner, "_notifications_queue", None)
    if held is None or index is None or queue is None:
        return False
    return index < len(held) or not queue.empty()


class ProjectionThread:
    """Subscribes after the view's tracked position and feeds events to the projection.
    A failure is logged and the subscription restarts from the last committed position. While it
    fails, `failure` says why (for /readyz and /metrics), its waiters are released (a command does
    not wait for a read model that cannot move) and the failure is logged once as an error."""

    def __init__(self, app: Any, projection: Projection[TrackedView], progress: Progress) -> None:
        self.app = app
        self.projection = projection
        self.progress = progress
        self.view = projection.view
        self.view.on_commit = self._committed
        self._stopping = threading.Event()
        self._subscription: ApplicationSubscription[Any] | None = None
        self._thread = threading.Thread(target=self._run, name=f"projection-{projection.name}", daemon=True)
        self.failure: Failure | None = None
        self.failures = 0  # failed attempts since the process started
        self._applying: int | None = None

    def _committed(self, name: str, position: int) -> None:
        self.progress.advance(name, position)
        failure = self.failure
        if failure is not None and failure.notification_id is not None and position >= failure.notification_id:
            self._recovered()

    def _recovered(self) -> None:
        _log.warning("projection %s advances again", self.projection.name)
        self.failure = None
        self.progress.release(self.view.tracking_table, False)

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        self.view._pending.clear()  # not committed: read again from the committed position
        if self.view.applying is not None:  # recording failed (maybe a flush inside a later event)
            self._applying, self.view.applying = self.view.applying, None
        failure = Failure(self._applying, f"{type(error).__name__}: {error}")
        if failure != self.failure:  # once per cause, not once a second
            _log.error(
                "projection %s cannot apply event %s: %s; retrying every second (docs/operations.md)",
                self.projection.name, failure.notification_id, failure.error, exc_info=error,
            )
        self.failure = failure
        self.progress.release(self.view.tracking_table, True)

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
                self._applying = None
                self._subscription = ApplicationSubscription(self.app, gt=gt, topics=self.projection.topics)
                with self._subscription:
                    if self.failure is not None and self.failure.notification_id is None:
                        self._recovered()  # the database is back
                    self.view.batch_in_this_thread()
                    for event, tracking in self._subscription:
                        self._applying = tracking.notification_id
                        self.projection.process_event(event, tracking)
                        if not _more_ready(self._subscription) or len(self.view._pending) >= BATCH:
                            self._applying = None
                            self.view.flush()
            except BaseException as error:  # noqa: BLE001 - keep the read side alive, log why
                if self._stopping.is_set():
                    return
                self._failed(error)
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
    projection.view.batch_in_this_thread()  # a page per read-model transaction, as the projection's thread
    try:
        while batch := app.recorder.select_notifications(start=start, limit=page, topics=projection.topics):
            for notification in batch:
                projection.process_event(app.mapper.to_domain_event(notification), Tracking(app.name, notification.id))
            projection.view.flush_if_batching()
            count += len(batch)
            start = batch[-1].id + 1
            if on_progress is not None:
                on_progress(count, batch[-1].id)
    finally:
        projection.view.stop_batching()
    return count
