"""Bulk operations on a gateway's jobs (docs/api.md, "Bulk operations"): the request bodies (decoded
strictly with `decode_body`, and the OpenAPI document's description of them) and the answers'
`data`, the contract's fields and, beside them, `operation_id` (decision 48)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from interfaces.api.schemas.configuration import Instant

Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
GatewayId = Annotated[str, msgspec.Meta(max_length=64)]
Count = Annotated[int, msgspec.Meta(ge=0)]
OperationId = Annotated[str, msgspec.Meta(
    description="the operation's id (a UUID), on each event it caused", extra_json_schema={"format": "uuid"},
)]
MAX_DISABLE_MINUTES = 30 * 24 * 60


class RunAllRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    gateway_id: GatewayId | None = None
    include_tags: Tags = msgspec.field(default_factory=list)  # none: every tag
    exclude_tags: Tags = msgspec.field(default_factory=list)
    sequential: bool = False


class DisableAllRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    gateway_id: GatewayId | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_DISABLE_MINUTES, description=(
        "re-enable what this operation disabled after so many minutes; none: until an operator enables them"
    ))] | None = None


class ResetAllRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    gateway_id: GatewayId | None = None
    keep_data: bool = True


class RunAllData(msgspec.Struct):
    execution_group_id: str
    gateway_id: str
    total_jobs: Count
    started_jobs: Count
    status: Literal["started", "completed"]
    sequential: bool
    operation_id: OperationId


class DisableAllData(msgspec.Struct):
    gateway_id: str
    disabled_count: Count
    disabled_until: Instant | None
    operation_id: OperationId


class ResetAllData(msgspec.Struct):
    gateway_id: str
    reset_count: Count
    kept_execution_history: bool
    operation_id: OperationId


class MemberExecution(msgspec.Struct):
    status: Literal["running", "retrying", "success", "failed", "timeout", "missed"]
    start_time: Instant
    end_time: Instant | None
    duration_ms: Count | None


class GroupMember(msgspec.Struct):
    position: Count
    job_id: str
    execution_id: str
    state: Literal["waiting", "started", "finished", "skipped"]
    outcome: str | None  # the execution's final status, or why the member was skipped
    started_at: Instant | None
    finished_at: Instant | None
    execution: MemberExecution | None  # as the execution history has it (none: not started yet)


class ExecutionGroupData(msgspec.Struct):
    execution_group_id: str
    gateway_id: str
    operation_id: str | None
    sequential: bool
    status: Literal["running", "completed", "completed_with_errors"]
    total_jobs: Count
    waiting_jobs: Count
    running_jobs: Count
    finished_jobs: Count
    skipped_jobs: Count
    include_tags: list[str]
    exclude_tags: list[str]
    started_at: Instant
    finished_at: Instant | None
    members: list[GroupMember]
