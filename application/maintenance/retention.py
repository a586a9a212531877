"""Retention in the event store: the events of finished executions leave it; configuration never."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Connection

PRUNER_LOCK = 7_342_002
# Only Execution aggregates are ever pruned: a Job's or a Gateway's id handed here deletes nothing.
_EXECUTIONS = "domain.execution:%"


def take_pruner_lock(conn: Connection) -> bool:
    """One pruner at a time, for the caller's transaction; False when another one prunes."""
    return bool(conn.execute("SELECT pg_try_advisory_xact_lock(%(key)s)", {"key": PRUNER_LOCK}).fetchone()[0])


_RAISE_LOW_WATER = (
    "INSERT INTO feed_low_water (gateway_id, position)"
    " SELECT u.gateway_id, max(e.notification_id) FROM scheduler_events e"
    " JOIN unnest(%(ids)s::uuid[], %(gateways)s::text[]) AS u(id, gateway_id) ON e.originator_id = u.id"
    " GROUP BY u.gateway_id"
    " ON CONFLICT (gateway_id) DO UPDATE SET position = greatest(feed_low_water.position, EXCLUDED.position)"
)


def raise_low_water(conn: Any, aggregate_ids: Sequence[UUID], gateway_ids: Sequence[str]) -> None:
    """Before their events leave, in the same transaction: each gateway's low-water mark rises to
    the highest position of its executions about to be pruned (the live feed's resync_required)."""
    if aggregate_ids:
        conn.execute(_RAISE_LOW_WATER, {"ids": list(aggregate_ids), "gateways": list(gateway_ids)})


def low_water(conn: Any, gateway_id: str) -> int:
    """The gateway's low-water mark (0 when nothing of it was ever pruned); `conn` a connection or cursor."""
    row = conn.execute("SELECT position FROM feed_low_water WHERE gateway_id = %s", (gateway_id,)).fetchone()
    if row is None:
        return 0
    return int(row["position"] if isinstance(row, dict) else row[0])


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
