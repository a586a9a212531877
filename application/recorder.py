"""The application recorder: eventsourcing's PostgreSQL recorder plus side statements that
commit in the same transaction as the events (dispatcher checkpoints and in-flight runs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

SideStatement = tuple[str, Sequence[Sequence[Any]]]


class SchedulerRecorder(PostgresApplicationRecorder):
    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """`save(..., side_statements=[(sql, rows), ...])` runs each sql once per row, atomically with the events."""
        for sql, rows in kwargs.get("side_statements") or ():
            if rows:
                curs.executemany(sql, rows)  # type: ignore[arg-type]
