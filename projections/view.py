"""Base of every materialised view: its rows and its tracking record commit in one transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.utils import retry
import msgspec
from psycopg import ClientCursor
from psycopg.errors import DivisionByZero
from psycopg.types.json import Jsonb, set_json_dumps

Statement = tuple[str, dict[str, Any]]  # SQL with named parameters, and their values
NUL_ESCAPE = "\\u0000"  # the six characters a NUL is shown as in the read models
_brief = retry((InterfaceError, OperationalError), max_attempts=3, wait=0.1)


def _plain(obj: Any) -> Any:
    if isinstance(obj, Jsonb):
        return obj.obj
    raise TypeError(type(obj))


_encode = msgspec.json.Encoder(enc_hook=_plain).encode


def storable(value: Any) -> Any:
    """`value` with every NUL character (in strings, keys, nested values) written as `\\u0000`:
    PostgreSQL's text and jsonb refuse NUL, and an event in the log that holds one (accepted by a
    version that did not refuse it) must still project; the log keeps the original.

    Nearly no value holds one: a single msgspec encode (which writes NUL as the escape) says so, at
    a fraction of the walk below through every statement's parameters (docs/decisions.md 320). A
    text that merely contains the escape, or a value msgspec cannot encode, takes the walk."""
    try:
        if b"\\u0000" not in _encode(value):
            return value
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        pass
    return _walk(value)


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", NUL_ESCAPE) if "\x00" in value else value
    if isinstance(value, Jsonb):
        return Jsonb(_walk(value.obj))
    if isinstance(value, dict):
        return {_walk(k): _walk(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(v) for v in value)
    return value


def _json_dumps(value: Any) -> bytes | str:
    """The read models' JSON columns dumped by msgspec (the json module's dumps of the job rows'
    columns was a visible part of the views' time); what msgspec cannot encode, as before."""
    try:
        return msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value)


class ReadModelDatastore(PostgresDatastore):
    """The views' connections: each session commits without waiting for its WAL flush (what every
    read-model transaction asks for, see `_record_one`), set once per connection instead of by a
    statement in each transaction (one round trip less per read-model commit). No session is
    pinged when taken from the pool (a round trip per read-model transaction): as the event
    store's, a broken one fails its statement and the view's commit is retried (`_commit`)."""

    commits_asynchronously = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "pre_ping": False})

    def after_connect_func(self) -> Callable[[Any], None]:
        configure = super().after_connect_func()

        def after_connect(conn: Any) -> None:
            configure(conn)
            conn.execute("SET synchronous_commit = off")
            set_json_dumps(_json_dumps, context=conn)

        return after_connect


def _commit_without_flush(datastore: PostgresDatastore, curs: Any) -> None:
    if not getattr(datastore, "commits_asynchronously", False):
        curs.execute("SET LOCAL synchronous_commit = off")


class TrackedView(PostgresTrackingRecorder):
    """Subclasses name their tracking table and the read-model tables a rebuild truncates."""

    tracking_table: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    # Statements without parameters run once at the end of each transaction, after every event's
    # (a view that settles what its events' statements left marked: the analytics hours' peaks).
    closing: ClassVar[tuple[str, ...]] = ()

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

    def stop_batching(self) -> None:
        """Record what is kept, then record each event at once again."""
        self.flush_if_batching()
        self._batching_thread = None

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
            self._commit(first, last, [statements for _, statements in pending])
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
            self._commit(tracking, tracking, [statements])
        except IntegrityError:
            if not self.has_tracking_id(tracking.application_name, tracking.notification_id):
                raise
        self.applying = None
        if self.on_commit is not None:
            self.on_commit(self.tracking_table, tracking.notification_id)

    @_brief
    def _commit(self, first: Tracking, last: Tracking, events: Sequence[Sequence[Statement]]) -> None:
        """The events' statements and the tracking of `last` in one transaction; IntegrityError
        (nothing applied) when the tracking had already reached `first` (another process). A lost
        connection is retried: when its commit went through, the retry's tracking refuses it."""
        if type(self).write is TrackedView.write and self.datastore.single_row_tracking:
            self._commit_in_one_message(first, last, events)
            return
        with self.datastore.transaction(commit=True) as curs:
            _commit_without_flush(self.datastore, curs)
            if first is not last:
                curs.execute(
                    f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = %s FOR UPDATE",  # noqa: S608
                    (first.application_name,),
                )
                row = curs.fetchone()
                if row is not None and row["notification_id"] >= first.notification_id:
                    raise IntegrityError("recorded meanwhile")
            self.write(curs, events)
            for statement in self.closing:
                curs.execute(statement)
            self._insert_tracking(curs, last)

    def _commit_in_one_message(self, first: Tracking, last: Tracking, events: Sequence[Sequence[Statement]]) -> None:
        """`_commit` as one simple-query message, bound on this side: one round trip for the
        whole transaction instead of BEGIN, a statement each, the tracking and COMMIT (docs/
        decisions.md 240). The tracking moves first, under its row lock, and divides by zero when
        it had reached `first`: PostgreSQL rolls the message's implicit transaction back."""
        advance = (
            f"WITH advanced AS (INSERT INTO {self.datastore.schema}.{self.tracking_table}"  # noqa: S608 - constants
            " VALUES (%(app)s, %(last)s) ON CONFLICT (application_name) DO UPDATE SET notification_id = %(last)s"
            f" WHERE {self.datastore.schema}.{self.tracking_table}.notification_id < %(first)s RETURNING 1)"
            " SELECT 1 / (SELECT count(*) FROM advanced)"
        )
        with self.datastore.get_connection() as conn:
            bind = ClientCursor(conn).mogrify
            parts = [] if getattr(self.datastore, "commits_asynchronously", False) else ["SET LOCAL synchronous_commit = off"]
            parts.append(bind(advance, {"app": last.application_name, "last": last.notification_id,
                                        "first": first.notification_id}))
            parts.extend(bind(sql, storable(params)) for statements in events for sql, params in statements)
            parts.extend(self.closing)
            try:
                conn.execute(";".join(parts))
            except DivisionByZero:
                raise IntegrityError(f"{self.tracking_table} had reached {first.notification_id}") from None

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
