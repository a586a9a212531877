"""Base of every materialised view: its rows and its tracking record commit in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.types.json import Jsonb

Statement = tuple[str, dict[str, Any]]  # SQL with named parameters, and their values
NUL_ESCAPE = "\\u0000"  # the six characters a NUL is shown as in the read models


def storable(value: Any) -> Any:
    """`value` with every NUL character (in strings, keys, nested values) written as `\\u0000`:
    PostgreSQL's text and jsonb refuse NUL, and an event in the log that holds one (accepted by a
    version that did not refuse it) must still project; the log keeps the original."""
    if isinstance(value, str):
        return value.replace("\x00", NUL_ESCAPE) if "\x00" in value else value
    if isinstance(value, Jsonb):
        return Jsonb(storable(value.obj))
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(storable(v) for v in value)
    return value


class ReadModelDatastore(PostgresDatastore):
    """The views' connections: each session commits without waiting for its WAL flush (what every
    read-model transaction asks for, see `_record_one`), set once per connection instead of by a
    statement in each transaction (one round trip less per read-model commit)."""

    commits_asynchronously = True

    def after_connect_func(self) -> Callable[[Any], None]:
        configure = super().after_connect_func()

        def after_connect(conn: Any) -> None:
            configure(conn)
            conn.execute("SET synchronous_commit = off")

        return after_connect


def _commit_without_flush(datastore: PostgresDatastore, curs: Any) -> None:
    if not getattr(datastore, "commits_asynchronously", False):
        curs.execute("SET LOCAL synchronous_commit = off")


class TrackedView(PostgresTrackingRecorder):
    """Subclasses name their tracking table and the read-model tables a rebuild truncates."""

    tracking_table: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, datastore: PostgresDatastore, on_commit: Callable[[str, int], None] | None = None) -> None:
        super().__init__(datastore, tracking_table_name=self.tracking_table)
        self.on_commit = on_commit
        # The projection's thread keeps its events for `flush`, many in one transaction (docs/
        # decisions.md, 83); any other caller (a rebuild, a test) records each at once.
        self._batching_thread: int | None = None
        self._pending: list[tuple[Tracking, Sequence[Statement]]] = []
        self.applying: int | None = None  # the event whose recording failed, None while none did

    def batch_in_this_thread(self) -> None:
        self._batching_thread = threading.get_ident()

    def record(self, tracking: Tracking, statements: Sequence[Statement] = ()) -> None:
        if self._batching_thread == threading.get_ident():
            self._pending.append((tracking, list(statements)))
        else:
            self._record_one(tracking, statements)

    def flush_if_batching(self) -> None:
        if self._pending and self._batching_thread == threading.get_ident():
            self.flush()

    def flush(self) -> None:
        """Record the events kept while batching in one transaction: their statements in order and
        the tracking of the last. When another process recorded some of them meanwhile, or one
        fails, they are recorded one at a time instead (each refused if already recorded, a
        failure pinned on its own event)."""
        pending, self._pending = self._pending, []
        if len(pending) <= 1:
            for tracking, statements in pending:
                self._record_one(tracking, statements)
            return
        first, last = pending[0][0], pending[-1][0]
        try:
            with self.datastore.transaction(commit=True) as curs:
                _commit_without_flush(self.datastore, curs)  # as _record_one's
                curs.execute(
                    f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = %s FOR UPDATE",  # noqa: S608
                    (first.application_name,),
                )
                row = curs.fetchone()
                if row is not None and row["notification_id"] >= first.notification_id:
                    raise IntegrityError("recorded meanwhile")
                self.write(curs, [statements for _, statements in pending])
                self._insert_tracking(curs, last)
        except Exception:  # noqa: BLE001 - one at a time says which event, if any, cannot be applied
            for tracking, statements in pending:
                self._record_one(tracking, statements)
            return
        if self.on_commit is not None:
            self.on_commit(self.tracking_table, last.notification_id)

    def _record_one(self, tracking: Tracking, statements: Sequence[Statement] = ()) -> None:
        """Apply `statements` and advance tracking atomically, then wake waiters. When another
        process running the same projection on the same tables has already recorded this event,
        the tracking write refuses and the whole transaction rolls back: nothing is applied twice.

        The commit does not wait for its WAL flush (synchronous_commit off, this transaction only):
        a read model is rebuilt from the log, and its rows and tracking record commit together, so
        a crash loses at most the last few ms of both and the projection applies those events
        again. Waiting for one flush per event made a 1,000-job import's read models take seconds
        (docs/decisions.md). Other sessions see the rows at once either way."""
        self.applying = tracking.notification_id
        try:
            with self.datastore.transaction(commit=True) as curs:
                _commit_without_flush(self.datastore, curs)
                self.write(curs, [statements])
                self._insert_tracking(curs, tracking)
        except IntegrityError:
            if not self.has_tracking_id(tracking.application_name, tracking.notification_id):
                raise
        self.applying = None
        if self.on_commit is not None:
            self.on_commit(self.tracking_table, tracking.notification_id)

    def write(self, curs: Any, events: Sequence[Sequence[Statement]]) -> None:
        """Run the statements of one transaction's events, in order (a view that keeps figures over
        them adds its own statements here, in the same transaction)."""
        for statements in events:
            for sql, params in statements:
                curs.execute(sql, storable(params))

    def truncate(self) -> None:
        """Forget everything so a replay from position 0 rebuilds the view."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(f"TRUNCATE {table}")  # noqa: S608 - class constants, not input
            curs.execute(
                f"DELETE FROM {self.tracking_table} WHERE application_name <> '__migration__'"  # noqa: S608
            )
