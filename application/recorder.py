"""Persistence for the Scheduler: eventsourcing's PostgreSQL factory with recorders that
(1) run side statements in the same transaction as the events (dispatcher checkpoints and in-flight
runs), (2) retry a lost connection briefly, so a dead database fails a request in seconds, and
(3) name the topics they recorded in their NOTIFY, so a subscription to other topics stays asleep."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.persistence import ListenNotifySubscription, Subscription
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from application.listener import SharedListener, Subscriber

# The library retries 10 times, 0.2 s apart, each waiting up to the pool timeout: ~20 s against a
# dead server. Three attempts still ride out a connection broken by a server restart.
_brief = retry((InterfaceError, OperationalError), max_attempts=3, wait=0.1)
# A NOTIFY payload holds at most 8,000 bytes; a longer list of topics is sent as "" (any topic).
_MAX_PAYLOAD = 7000


def topics_payload(topics: Sequence[str]) -> str:
    """The NOTIFY payload naming the distinct topics of a transaction's events ("" names any)."""
    payload = ",".join(sorted(set(topics)))
    return payload if len(payload) <= _MAX_PAYLOAD else ""


def concerns(payload: str, topics: Sequence[str] | frozenset[str]) -> bool:
    """Whether a NOTIFY with this payload may have recorded an event a subscription to `topics`
    (none: every topic) follows. A writer that names no topics (another version, the library's
    own NOTIFY) concerns every subscription."""
    return not payload or not topics or any(topic in topics for topic in payload.split(","))


class TopicSubscription(ListenNotifySubscription[Any]):
    """The library's subscription, woken only by a NOTIFY that may concern its topics: with six
    projections and a dispatcher feed per process, each commit woke every one of them to run a
    SELECT that found nothing for most (docs/decisions.md 101). The NOTIFYs are read by the
    recorder's one listener, shared by all its subscriptions (application/listener.py)."""

    def __init__(self, recorder: SchedulerRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        followed = frozenset(self._topics)
        self._subscriber = Subscriber(
            lambda payload: concerns(payload, followed), self._has_been_notified.set, self._listener_failed,
        )
        recorder.listener().join(self._subscriber)
        if self._has_been_stopped:  # stopped while joining (its first pull failed)
            recorder.listener().leave(self._subscriber)

    def _listener_failed(self, error: BaseException) -> None:
        if self._thread_error is None:
            self._thread_error = error
        self.stop()

    def stop(self) -> None:
        super().stop()
        subscriber = getattr(self, "_subscriber", None)
        if subscriber is not None:
            self._recorder.listener().leave(subscriber)


class FastFailingAggregateRecorder(PostgresAggregateRecorder):
    """The snapshot store's recorder."""

    select_events = _brief(PostgresAggregateRecorder.select_events.__wrapped__)  # type: ignore[attr-defined]
    insert_events = _brief(PostgresAggregateRecorder.insert_events.__wrapped__)  # type: ignore[attr-defined]


class SchedulerRecorder(PostgresApplicationRecorder):
    _insert_columns: Any = None
    _locking: tuple[str, str] | None = None
    select_events = _brief(PostgresAggregateRecorder.select_events.__wrapped__)  # type: ignore[attr-defined]
    max_notification_id = _brief(PostgresApplicationRecorder.max_notification_id.__wrapped__)  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._notification_selects: dict[tuple[bool, bool, bool, bool], Any] = {}
        self._listener: SharedListener | None = None
        self._listener_lock = threading.Lock()

    @_brief
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """As the library's, in one transaction, but without pipeline mode: a batch of hundreds of
        events (a dispatcher tick, a bulk operation) once left the connection waiting forever in
        Pipeline.sync while the server waited for the rest of the batch (seen with the embedded
        server over its Unix socket). Plain statements cost a few local round trips, and the
        transaction is opened by the same message that sets its lock timeout and takes the table
        lock: three round trips for a command's commit (that one, the INSERT and COMMIT) instead of
        five (decision 324). Side statements run before the lock, as they always did.

        `positions=False` (the dispatcher's records): the events' notification ids are not
        returned (nor, then, the library's Recording of each event): nothing reads them there."""
        side = kwargs.get("side_statements")
        with self.datastore.get_connection() as conn:
            try:
                with conn.cursor() as curs:
                    if side or not stored_events:
                        curs.execute("BEGIN")
                        self._insert_events(curs, stored_events, **kwargs)
                        if not stored_events:
                            conn.commit()
                            return []
                        curs.execute(self._locking_sql()[0])
                    else:
                        curs.execute(self._locking_sql()[1])
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs) if kwargs.get(
                        "positions", True) else None
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):  # a broken connection is discarded by the pool
                    conn.rollback()
                raise
            return ids

    def _locking_sql(self) -> tuple[str, str]:
        """The lock timeout and the table lock as one message, and the same opening the transaction."""
        if self._locking is None:
            lock = ";".join(statement.as_string(None) for statement in self.lock_table_statements)
            self._locking = (lock, "BEGIN;" + lock)
        return self._locking

    @_brief
    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None, topics: Sequence[str] = (), *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """As the library's, but each shape of the statement composed once: the library composes
        and formats it on every call, and every subscription pulls after every commit (decision
        323)."""
        shape = (start is not None, inclusive_of_start, stop is not None, bool(topics))
        statement = self._notification_selects.get(shape)
        if statement is None:
            statement = self._notification_selects[shape] = self._notifications_select(*shape)
        params: list[Any] = []
        if start is not None:
            params.append(start)
        if stop is not None:
            params.append(stop)
        if topics:
            params.append(list(topics))
        params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(id=row["notification_id"], originator_id=row["originator_id"],
                             originator_version=row["originator_version"], topic=row["topic"],
                             state=bytes(row["state"]))
                for row in curs.fetchall()
            ]

    def _notifications_select(self, start: bool, inclusive: bool, stop: bool, topics: bool) -> Any:
        conditions = []
        if start:
            conditions.append("notification_id>=%s" if inclusive else "notification_id>%s")
        if stop:
            conditions.append("notification_id <= %s")
        if topics:
            conditions.append("topic = ANY(%s)")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return SQL("SELECT * FROM {schema}.{table}" + where + " ORDER BY notification_id LIMIT %s").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name),
        ).as_string(None)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[Any]:
        return TopicSubscription(recorder=self, gt=gt, topics=topics)

    def listener(self) -> SharedListener:
        """The one LISTEN of this recorder's channel, shared by its subscriptions."""
        with self._listener_lock:
            if self._listener is None:
                self._listener = SharedListener(self.datastore, self.channel_name)
            return self._listener

    @_brief
    def select_events_of(self, originator_ids: Sequence[Any]) -> list[StoredEvent]:
        """Every event of many aggregates in one statement, each aggregate's in order: an import
        decides on every job of a gateway at once, and one statement per job was most of its time."""
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table}"
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),), prepare=True)
            return [
                StoredEvent(originator_id=row["originator_id"], originator_version=row["originator_version"],
                            topic=row["topic"], state=bytes(row["state"]))
                for row in curs.fetchall()
            ]

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Notify and insert as the library does, but with one array per column in binary
        rather than an array of composites in text (dumping composites was most of a large save),
        and a NOTIFY that names the events' topics, sent by the INSERT itself (one round trip less;
        delivered at commit either way). The table is locked already (`insert_events`)."""
        topics = [e.topic for e in stored_events]
        curs.execute(
            self._insert_columns_sql(kwargs.get("positions", True)),
            (
                topics_payload(topics),
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                topics,
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def _insert_columns_sql(self, positions: bool) -> Any:
        if self._insert_columns is None:
            insert = (
                "WITH notified AS MATERIALIZED (SELECT pg_notify({channel}, %b::text))"
                " INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
                " SELECT i, v, t, s FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
                " WITH ORDINALITY AS u(i, v, t, s, n) CROSS JOIN notified ORDER BY n"
            )
            names = {"channel": Literal(self.channel_name), "schema": Identifier(self.datastore.schema),
                     "table": Identifier(self.events_table_name)}
            self._insert_columns = {
                True: SQL(insert + " RETURNING notification_id").format(**names), False: SQL(insert).format(**names),
            }
        return self._insert_columns[positions]

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """`save(..., side_statements=[(sql, rows), ...])` runs each sql once per row, atomically with the events."""
        for sql, rows in kwargs.get("side_statements") or ():
            for row in rows:  # callers pass arrays: a row or two per statement, no executemany pipeline
                curs.execute(sql, row, prepare=True)  # type: ignore[arg-type]


class SchedulerFactory(PostgresFactory):
    aggregate_recorder_class = FastFailingAggregateRecorder
    application_recorder_class = SchedulerRecorder
