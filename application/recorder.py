"""Persistence for the Scheduler: eventsourcing's PostgreSQL factory with recorders that
(1) run side statements in the same transaction as the events (dispatcher checkpoints and in-flight
runs) and (2) retry a lost connection briefly, so a dead database fails a request in seconds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

# The library retries 10 times, 0.2 s apart, each waiting up to the pool timeout: ~20 s against a
# dead server. Three attempts still ride out a connection broken by a server restart.
_brief = retry((InterfaceError, OperationalError), max_attempts=3, wait=0.1)


class FastFailingAggregateRecorder(PostgresAggregateRecorder):
    """The snapshot store's recorder."""

    select_events = _brief(PostgresAggregateRecorder.select_events.__wrapped__)  # type: ignore[attr-defined]
    insert_events = _brief(PostgresAggregateRecorder.insert_events.__wrapped__)  # type: ignore[attr-defined]


class SchedulerRecorder(PostgresApplicationRecorder):
    _insert_columns: Any = None
    select_events = _brief(PostgresAggregateRecorder.select_events.__wrapped__)  # type: ignore[attr-defined]
    select_notifications = _brief(PostgresApplicationRecorder.select_notifications.__wrapped__)  # type: ignore[attr-defined]
    max_notification_id = _brief(PostgresApplicationRecorder.max_notification_id.__wrapped__)  # type: ignore[attr-defined]

    @_brief
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """As the library's, in one transaction, but without pipeline mode: a batch of hundreds of
        events (a dispatcher tick, a bulk operation) once left the connection waiting forever in
        Pipeline.sync while the server waited for the rest of the batch (seen with the embedded
        server over its Unix socket). Plain statements cost a few local round trips."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return []
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

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
        """Lock, notify and insert as the library does, but with one array per column in binary
        rather than an array of composites in text: dumping composites was most of a large save."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns_sql(),
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def _insert_columns_sql(self) -> Any:
        if self._insert_columns is None:
            self._insert_columns = SQL(
                "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
                " SELECT i, v, t, s FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
                " WITH ORDINALITY AS u(i, v, t, s, n) ORDER BY n RETURNING notification_id"
            ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        return self._insert_columns

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """`save(..., side_statements=[(sql, rows), ...])` runs each sql once per row, atomically with the events."""
        for sql, rows in kwargs.get("side_statements") or ():
            for row in rows:  # callers pass arrays: a row or two per statement, no executemany pipeline
                curs.execute(sql, row, prepare=True)  # type: ignore[arg-type]


class SchedulerFactory(PostgresFactory):
    aggregate_recorder_class = FastFailingAggregateRecorder
    application_recorder_class = SchedulerRecorder
