"""Retention in the event store: the events of finished executions leave it; configuration never."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Connection

PRUNER_LOCK = 7_342_002
# Only Execution aggregates are ever pruned: a Job's or a Gateway's id handed here deletes nothing.
_EXECUTIONS = "domain.execution:%"


def take_pruner_lock(conn: Connection) -> bool:
    """One pruner at a time, for the caller's transaction; False when another one prunes."""
    return bool(conn.execute("SELECT pg_try_advisory_xact_lock(%(key)s)", {"key": PRUNER_LOCK}).fetchone()[0])


def delete_execution_events(conn: Connection, aggregate_ids: Sequence[UUID]) -> int:
    """Delete every event (and snapshot) of these Execution aggregates, in the caller's
    transaction; returns how many events left."""
    params = {"ids": list(aggregate_ids), "topics": _EXECUTIONS}
    events = conn.execute(
        "DELETE FROM scheduler_events WHERE originator_id = ANY(%(ids)s) AND topic LIKE %(topics)s", params
    ).rowcount
    conn.execute(
        "DELETE FROM scheduler_snapshots WHERE originator_id = ANY(%(ids)s) AND topic LIKE %(topics)s", params
    )
    return events
