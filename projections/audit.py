"""The audit / version read model: one row per event of a job (its version), with the cause
(actor, request id, operation id), the action, the reason, the fields it changed (domain/diff.py)
and the job's whole configuration after it (the snapshot that as_of, revert and undo read).

Generic over event types: every Job event class is followed (`job_event_classes`, so events added
later, such as bulk or import ones, are audited as they arrive), its action is named from its class
(`RunRequested` -> "run requested"), and any field it carries that names a field of the
configuration changes that field. Rows are never deleted: a deleted job keeps its audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic
from psycopg.types.json import Jsonb

from domain.diff import diff
from domain.job import job_event_classes
from projections.job_list import actor_of
from projections.view import TrackedView

# The configuration as the snapshot holds it; the event field each is read from.
SNAPSHOT_FIELDS = {
    "name": "name", "description": "description", "type": "schedule_type", "schedule": "schedule",
    "schedule_anchor": "schedule_anchor", "action": "action", "tags": "tags", "options": "options",
    "enabled": "enabled", "next_execution": "next_execution", "disabled_reason": "disabled_reason",
}
# Derived by the service, not set by anyone: in the snapshot, not in `changes`.
DERIVED = ("schedule_anchor", "next_execution")


def wire(value: Any) -> Any:
    """JSON-able: instants as UTC ISO-8601 with Z, containers walked."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return value


def action_of(event: Any) -> str:
    """The audit's action: the event class's name in lower-case words (`Toggled` -> "toggled")."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(event).__name__).lower()


def evolve(before: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The snapshot after `event`: the fields it carries replace the before-state's."""
    after = dict(before or {"disabled_reason": "", "deleted": False})
    if hasattr(event, "reason") and hasattr(event, "enabled"):  # a toggle's reason is the disabled one
        after["disabled_reason"] = "" if event.enabled else str(event.reason)
    for key, source in SNAPSHOT_FIELDS.items():
        if hasattr(event, source):
            after[key] = wire(getattr(event, source))
    if type(event).__name__ == "Deleted":
        after.update(deleted=True, enabled=False, next_execution=None)
    return after


class AuditView(TrackedView):
    tracking_table = "audit_tracking"
    tables = ("job_versions",)

    def latest(self, aggregate_id: Any) -> dict[str, Any] | None:
        """The job's last row so far (this projection applies events in log order, so a replay reads the same)."""
        self.flush_if_batching()  # what the thread keeps for one transaction is part of "so far"
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT gateway_id, job_id, snapshot FROM job_versions WHERE aggregate_id = %(id)s"
                " ORDER BY version DESC LIMIT 1",
                {"id": aggregate_id},
            )
            return curs.fetchone()


_INSERT = (
    "INSERT INTO job_versions (aggregate_id, gateway_id, job_id, version, position, timestamp, event_type,"
    " action, actor, reason, operation_id, request_id, changes, snapshot) VALUES (%(id)s, %(gateway_id)s,"
    " %(job_id)s, %(version)s, %(position)s, %(at)s, %(event_type)s, %(action)s, %(actor)s, %(reason)s,"
    " %(operation_id)s, %(request_id)s, %(changes)s, %(snapshot)s)"
)


class AuditProjection(Projection[AuditView]):
    name = "audit"
    topics = tuple(get_topic(cls) for cls in job_event_classes())

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        event = domain_event
        if hasattr(event, "gateway_id") and hasattr(event, "job_id"):  # the created event names its job
            previous, gateway_id, job_id = None, event.gateway_id, event.job_id
            if event.originator_version > 1:
                row = self.view.latest(event.originator_id)
                previous = row["snapshot"] if row else None
        else:
            row = self.view.latest(event.originator_id)
            if row is None:  # an event of a job never created in this log: nothing to attach it to
                self.view.record(tracking)
                return
            previous, gateway_id, job_id = row["snapshot"], row["gateway_id"], row["job_id"]
        snapshot = evolve(previous, event)
        params = {
            "id": event.originator_id, "gateway_id": gateway_id, "job_id": job_id,
            "version": event.originator_version, "position": tracking.notification_id, "at": event.timestamp,
            "event_type": type(event).__qualname__, "action": action_of(event),
            "actor": actor_of(event),
            "reason": str(getattr(event, "reason", "") or ""),
            "operation_id": getattr(event, "operation_id", None), "request_id": getattr(event, "request_id", None),
            "changes": Jsonb(diff(previous, snapshot, ignore=DERIVED)), "snapshot": Jsonb(snapshot),
        }
        self.view.record(tracking, [(_INSERT, params)])
