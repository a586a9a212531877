"""Base of every materialised view: its rows and its tracking record commit in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder

Statement = tuple[str, Sequence[Any] | dict[str, Any]]


class TrackedView(PostgresTrackingRecorder):
    """Subclasses name their tracking table and the read-model tables a rebuild truncates."""

    tracking_table: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, datastore: PostgresDatastore, on_commit: Callable[[str, int], None] | None = None) -> None:
        super().__init__(datastore, tracking_table_name=self.tracking_table)
        self.on_commit = on_commit

    def record(self, tracking: Tracking, statements: Sequence[Statement] = ()) -> None:
        """Apply `statements` and advance tracking atomically, then wake waiters. When another
        process running the same projection on the same tables has already recorded this event,
        the tracking write refuses and the whole transaction rolls back: nothing is applied twice."""
        try:
            with self.datastore.transaction(commit=True) as curs:
                for sql, params in statements:
                    curs.execute(sql, params)  # type: ignore[arg-type]
                self._insert_tracking(curs, tracking)
        except IntegrityError:
            if not self.has_tracking_id(tracking.application_name, tracking.notification_id):
                raise
        if self.on_commit is not None:
            self.on_commit(self.tracking_table, tracking.notification_id)

    def truncate(self) -> None:
        """Forget everything so a replay from position 0 rebuilds the view."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(f"TRUNCATE {table}")  # noqa: S608 - class constants, not input
            curs.execute(
                f"DELETE FROM {self.tracking_table} WHERE application_name <> '__migration__'"  # noqa: S608
            )
