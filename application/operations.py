"""The operations of a gateway (bulk changes, imports): the guard that lets one run at a time, and
the follow-up work the dispatcher owes an operation after it answered (docs/decisions.md 48-49).

An operation is a row of the `operations` table (migrations/007_bulk_operations.sql), not an
event: it is the state of a guard, while what the operation changed is in the log, on events
carrying its id. Use:

    operation = operations.begin(gateway_id, "import", actor)    # OPERATION_IN_PROGRESS if one runs
    try:
        ... scheduler.execute(command, CommandContext(actor, request_id, operation.id)) ...
    except BaseException:
        operations.finish(operation.id, "failed")
        raise
    operations.finish(operation.id)                              # or keep it running: see below

A synchronous operation expires after SYNC_EXPIRY (its process died between begin and finish):
it blocks no other after that. An operation whose effect goes on after it answered (a sequential
run-all) is begun with `expires=None` and finished by whoever ends it (the dispatcher).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from application.clock import Clock, utc_now
from domain.errors import OperationInProgress

SYNC_EXPIRY = timedelta(minutes=5)  # far beyond a bulk transaction's lock timeout and retries
_GUARD = 7_342_010  # advisory lock (with the gateway's hash): begins of one gateway take turns


@dataclass(frozen=True)
class Operation:
    id: str
    gateway_id: str
    kind: str
    state: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    follow_up_at: datetime | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: dict[str, Any]) -> Operation:
        return cls(str(row["id"]), row["gateway_id"], row["kind"], row["state"], row["actor"], row["started_at"],
                   row["finished_at"], row["follow_up_at"], row["detail"])


class Operations:
    def __init__(self, conninfo: str, clock: Clock = utc_now, *, pool_size: int = 2) -> None:
        self.clock = clock
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            conninfo, min_size=0, max_size=pool_size, open=True, name="operations",
            kwargs={"autocommit": True, "row_factory": dict_row},
        )

    def close(self) -> None:
        self._pool.close()

    def begin(
        self, gateway_id: str, kind: str, actor: str, *, expires: timedelta | None = SYNC_EXPIRY,
        follow_up_at: datetime | None = None, detail: dict[str, Any] | None = None, op_id: str | None = None,
    ) -> Operation:
        """A new running operation, or OPERATION_IN_PROGRESS naming the one that runs.
        `follow_up_at`: when the dispatcher owes it work, set before the operation changes
        anything, so that a process dying after its commit leaves the follow-up owed."""
        now = self.clock()
        op_id = op_id or str(uuid.uuid4())  # an import names itself (its import_id)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_GUARD, gateway_id))
            running = conn.execute(
                "SELECT id, kind, actor, started_at FROM operations WHERE gateway_id = %s AND state = 'running'"
                " AND (expires_at IS NULL OR expires_at > %s) ORDER BY started_at LIMIT 1",
                (gateway_id, now),
            ).fetchone()
            if running is not None:
                raise OperationInProgress(
                    f"Operation {running['id']} ({running['kind']}) is in progress on gateway {gateway_id}",
                    {"operation_id": str(running["id"]), "kind": running["kind"], "actor": running["actor"],
                     "started_at": running["started_at"].isoformat().replace("+00:00", "Z")},
                )
            row = conn.execute(
                "INSERT INTO operations (id, gateway_id, kind, state, actor, started_at, expires_at, follow_up_at,"
                " detail) VALUES (%s, %s, %s, 'running', %s, %s, %s, %s, %s) RETURNING *",
                (op_id, gateway_id, kind, actor, now, None if expires is None else now + expires, follow_up_at,
                 Jsonb(detail or {})),
            ).fetchone()
        assert row is not None
        return Operation.of(row)

    def finish(self, op_id: str, state: str = "completed", *, detail: dict[str, Any] | None = None) -> None:
        """No longer running: it blocks no other (its follow-up, if any, is still owed)."""
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE operations SET state = %s, finished_at = %s, detail = detail || %s"
                " WHERE id = %s AND state = 'running'",
                (state, self.clock(), Jsonb(detail or {}), op_id),
            )

    def due(self, gateway_id: str, now: datetime) -> list[Operation]:
        """The operations of the gateway whose follow-up is due and not yet done, oldest first."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM operations WHERE gateway_id = %s AND follow_up_at <= %s AND followed_up_at IS NULL"
                " ORDER BY follow_up_at, id",
                (gateway_id, now),
            ).fetchall()
        return [Operation.of(r) for r in rows]

    def due_in(self, gateway_ids: list[str], now: datetime) -> dict[str, list[Operation]]:
        """`due` of many gateways in one query (a worker process's dispatchers), by gateway."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM operations WHERE gateway_id = ANY(%s) AND follow_up_at <= %s AND followed_up_at IS NULL"
                " ORDER BY follow_up_at, id",
                (gateway_ids, now),
            ).fetchall()
        due: dict[str, list[Operation]] = {}
        for r in rows:
            due.setdefault(r["gateway_id"], []).append(Operation.of(r))
        return due

    def followed_up(self, op_id: str, *, finish: bool = False) -> None:
        """Its follow-up is done; `finish`: and the operation ends with it (if still running)."""
        now = self.clock()
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE operations SET followed_up_at = %s,"
                " state = CASE WHEN %s AND state = 'running' THEN 'completed' ELSE state END,"
                " finished_at = CASE WHEN %s AND finished_at IS NULL THEN %s ELSE finished_at END WHERE id = %s",
                (now, finish, finish, now, op_id),
            )

    def get(self, op_id: str) -> Operation | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT * FROM operations WHERE id = %s", (op_id,)).fetchone()
        return None if row is None else Operation.of(row)
