"""The raw event log, one gateway's part of it: positions, topics, timestamps and decoded payloads,
for replay tooling. An event belongs to a gateway when its aggregate does: the gateway itself, one
of its jobs (known to the audit read model, deleted ones included) or one of its executions (known
to the execution history; pruned executions' events are gone from the log too)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.identity import gateway_uuid
from projections.read_store import ReadStore

_PAGE = (
    "SELECT notification_id, originator_id, originator_version, topic, state FROM scheduler_events"
    " WHERE notification_id > %(after)s AND (originator_id = %(gateway)s"
    "  OR originator_id IN (SELECT aggregate_id FROM job_versions WHERE gateway_id = %(gateway_id)s)"
    "  OR originator_id IN (SELECT aggregate_id FROM executions WHERE gateway_id = %(gateway_id)s))"
    " ORDER BY notification_id LIMIT %(limit)s"
)
_HIDDEN = ("originator_id", "originator_version", "timestamp")


def decoded(mapper: Any, row: dict[str, Any]) -> dict[str, Any]:
    stored = StoredEvent(row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"]))
    event = mapper.to_domain_event(stored)
    return {
        "position": row["notification_id"], "topic": row["topic"], "type": type(event).__qualname__,
        "originator_id": str(row["originator_id"]), "originator_version": row["originator_version"],
        "timestamp": event.timestamp,
        "payload": {k: v for k, v in vars(event).items() if k not in _HIDDEN},
    }


def events_page(store: ReadStore, mapper: Any, gateway_id: str, after: int, limit: int) -> dict[str, Any]:
    """Up to `limit` of the gateway's events after position `after`, oldest first. Positions have
    gaps (other gateways' events, transactions rolled back, pruned executions): page on with
    `next_after`, the last position returned (or `after` itself when none)."""
    rows = store.all(_PAGE, {"after": after, "gateway": gateway_uuid(gateway_id), "gateway_id": gateway_id,
                             "limit": limit})
    events = [decoded(mapper, row) for row in rows]
    return {"after": after, "limit": limit, "next_after": events[-1]["position"] if events else after,
            "events": events}
