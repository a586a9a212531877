"""Wire shapes of audit and time travel (issue 13): requests of revert and undo, and the `data` of
the audit, as_of, fires, undo and event log answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from interfaces.api.schemas.configuration import (
    Action,
    Instant,
    JobOptions,
    Schedule,
    ScheduleType,
)

Count = Annotated[int, msgspec.Meta(ge=0)]
Version = Annotated[int, msgspec.Meta(ge=1)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class RevertRequest(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1, le=2**62)]
    reason: Reason = ""


class UndoRequest(msgspec.Struct, forbid_unknown_fields=True):
    force: bool = False
    dry_run: bool = False


class Change(msgspec.Struct):
    field: str
    before: Any
    after: Any


class AuditEntry(msgspec.Struct):
    version: Version
    timestamp: Instant
    actor: str
    action: str
    reason: str
    operation_id: str | None
    request_id: str | None
    changes: list[Change]


class GatewayAuditEntry(AuditEntry):
    job_id: str = ""


class JobAuditData(msgspec.Struct):
    job_id: str
    total: Count
    limit: Count
    offset: Count
    entries: list[AuditEntry]


class AuditData(msgspec.Struct):
    total: Count
    limit: Count
    offset: Count
    entries: list[GatewayAuditEntry]


class VersionConfiguration(msgspec.Struct):
    schedule: Schedule
    action: Action
    options: JobOptions


class JobVersion(msgspec.Struct):
    id: str
    gateway_id: str
    version: Version
    as_of: Instant
    recorded_at: Instant
    changed_by: str
    action: str
    deleted: bool
    name: str
    description: str
    type: ScheduleType
    enabled: bool
    disabled_reason: str
    tags: list[str]
    next_execution: Instant | None
    recorded_next_execution: Instant | None
    configuration: VersionConfiguration


class JobVersionData(msgspec.Struct):
    job: JobVersion


FireStatus = Literal[
    "fired", "retried", "fired_late", "missed", "skipped_overlap", "cancelled", "running", "disabled",
    "outside_bounds", "dst_deduplicated", "dst_skipped", "no_solar_event", "manual", "pruned", "upcoming", "pending", "not_recorded",
]


class DstNote(msgspec.Struct):
    kind: Literal["gap"]
    wall_time: str
    fired_local: str


class Fire(msgspec.Struct, omit_defaults=True):
    instant: Instant
    status: FireStatus
    version: Count | None = None
    execution_id: str | None = None
    trigger: str | None = None
    outcome: str | None = None
    attempts: Count | None = None
    started_at: Instant | None = None
    code: str | None = None
    reason: str | None = None
    actor: str | None = None
    since: Instant | None = None
    until: Instant | None = None
    start_at: Instant | None = None
    end_at: Instant | None = None
    fired_at: Instant | None = None
    date: str | None = None
    wall_times: list[str] | None = None
    dst: DstNote | None = None


FiresData = msgspec.defstruct(
    "FiresData",
    [("job_id", str), ("from", Instant), ("to", Instant), ("pruned_before", Instant), ("truncated", bool),
     ("count", Count), ("fires", list[Fire])],
    module=__name__,
)


class JobRevertedData(msgspec.Struct):
    job_id: str
    version: Version
    reverted_to: Version
    next_execution: Instant | None


class UndoStepAnswer(msgspec.Struct):
    job_id: str
    kind: Literal["restore", "delete"]
    from_version: Version
    restores_version: Version | None


class UndoSkipped(msgspec.Struct):
    job_id: str
    reason: str
    operation_version: Version
    current_version: Version


class UndoImpossible(msgspec.Struct):
    job_id: str
    reason: str


class UndoData(msgspec.Struct):
    operation_id: str
    dry_run: bool
    force: bool
    undone: list[UndoStepAnswer]
    skipped: list[UndoSkipped]
    not_undoable: list[UndoImpossible]


class LoggedEvent(msgspec.Struct):
    position: Annotated[int, msgspec.Meta(ge=1)]
    topic: str
    type: str
    originator_id: str
    originator_version: Version
    timestamp: Instant
    payload: dict[str, Any]


class EventsData(msgspec.Struct):
    after: Count
    limit: Count
    next_after: Count
    events: list[LoggedEvent]
