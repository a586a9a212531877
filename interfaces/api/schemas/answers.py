"""The `data` of each API answer about jobs, gateways and the catalogue, and the success envelope
around every answer (executions and analytics: `execution_answers.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from domain.execution import TRIGGERS, CompletedStatus, Status
from interfaces.api.schemas.configuration import (
    Action,
    Instant,
    JobOptions,
    ListedSchedule,
    Schedule,
    ScheduleType,
)

JobStatus = Literal["active", "inactive", "error"]
FinishedStatus = CompletedStatus  # the statuses a finished run's counters know (domain/execution.py)
ExecutionStatus = Status
Trigger = Literal[TRIGGERS]  # type: ignore[valid-type]
Count = Annotated[int, msgspec.Meta(ge=0)]
Rate = Annotated[float, msgspec.Meta(ge=0, le=100, description="percent")]


class ResourceSnapshot(msgspec.Struct):
    cpu: float
    memory: str
    concurrent_jobs: Count


class StatusData(msgspec.Struct):
    system_status: Literal["healthy", "degraded"]
    total_jobs: Count
    active_jobs: Count
    failed_jobs: Count
    success_rate: Rate
    last_execution: Instant | None
    next_scheduled: Instant | None
    resource_usage: ResourceSnapshot


class ListedJob(msgspec.Struct):
    id: str
    name: str
    description: str
    type: ScheduleType
    enabled: bool
    status: JobStatus
    schedule: ListedSchedule
    action: Action
    tags: list[str]
    created_at: Instant
    last_execution: Instant | None
    execution_count: Count
    average_duration_ms: Count


class JobListData(msgspec.Struct):
    total_jobs: Count
    active_jobs: Count
    jobs: list[ListedJob]


class Configuration(msgspec.Struct):
    schedule: Schedule
    action: Action
    options: JobOptions


class JobStatistics(msgspec.Struct):
    total_executions: Count
    successful_executions: Count
    failed_executions: Count
    average_duration_ms: Count
    last_execution: Instant | None
    last_status: FinishedStatus | None


class JobMetadata(msgspec.Struct):
    created_at: Instant
    updated_at: Instant
    created_by: str
    updated_by: str
    disabled_reason: str
    tags: list[str]


class JobDetail(msgspec.Struct):
    id: str
    name: str
    description: str
    type: ScheduleType
    enabled: bool
    status: JobStatus
    gateway_id: str
    version: Annotated[int, msgspec.Meta(ge=1)]
    next_execution: Instant | None
    next_executions: Annotated[list[Instant], msgspec.Meta(max_length=10)]
    configuration: Configuration
    statistics: JobStatistics
    metadata: JobMetadata


class JobDetailData(msgspec.Struct):
    job: JobDetail


class JobCreatedData(msgspec.Struct):
    job_id: str
    name: str
    next_execution: Instant | None
    version: int


class JobUpdatedData(msgspec.Struct):
    job_id: str
    next_execution: Instant | None
    version: int


class DeletedStatistics(msgspec.Struct):
    total_executions: Count


class JobDeletedData(msgspec.Struct):
    deleted_job: str
    statistics: DeletedStatistics


class JobToggledData(msgspec.Struct):
    job_id: str
    enabled: bool
    next_execution: Instant | None


class RunStartedData(msgspec.Struct):
    execution_id: str
    job_id: str
    status: Literal["started"]
    trigger: Literal["manual"]
    start_time: Instant


class TypeTemplate(msgspec.Struct):
    description: str
    parameters: list[str]


class TemplatesData(msgspec.Struct):
    schedule_types: dict[str, TypeTemplate]
    action_types: dict[str, TypeTemplate]


class Tag(msgspec.Struct):
    name: str
    job_count: Count
    last_used: Instant | None


class TagsData(msgspec.Struct):
    tags: list[Tag]


class Gateway(msgspec.Struct):
    id: str
    name: str
    status: Literal["online", "offline"]
    location: str
    last_seen: Instant | None
    jobs_count: Count
    active_jobs: Count


class GatewaysData(msgspec.Struct):
    gateways: list[Gateway]


class GatewayJob(msgspec.Struct):
    id: str
    name: str
    type: ScheduleType
    enabled: bool
    status: JobStatus
    next_execution: Instant | None


class GatewayJobsData(msgspec.Struct):
    gateway_id: str
    gateway_name: str
    total_jobs: Count
    active_jobs: Count
    jobs: list[GatewayJob]


class ValidationData(msgspec.Struct):
    valid: bool
    next_executions: list[Instant]
    description: str


def envelope(data: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """The contract's success answer around `data`: {"data": ..., "success": true, "message": ...}."""
    name = data.__name__.removesuffix("Data") + "Answer"
    return msgspec.defstruct(name, [("data", data), ("success", Literal[True]), ("message", str)], module=__name__)


