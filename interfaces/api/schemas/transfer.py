"""The wire shapes of export and import: the export request, the exported file (the document an
import reads back), the multipart import form, and the import's answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from domain.execution import TRIGGERS, Status
from interfaces.api.schemas.answers import Count, JobStatistics
from interfaces.api.schemas.configuration import (
    Action,
    Instant,
    JobOptions,
    Schedule,
    ScheduleType,
)

EXPORT_TYPE = "jobs_configuration"
FORMAT_VERSION = 1  # bumped when a reader of version 1 would misread a file (docs/api.md, "Export")
Format = Literal["json", "yaml", "csv"]
Strategy = Literal["merge", "replace"]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class ExportRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    gateway_id: Text | None = None
    format: Format = "json"
    include_history: bool = False
    include_statistics: bool = True


# ---- the exported file ------------------------------------------------------------------------


class ExportedJob(msgspec.Struct, kw_only=True):
    """A job in the shape a create accepts, with its id."""

    id: str
    name: str
    description: str
    type: ScheduleType
    enabled: bool
    schedule: Schedule
    action: Action
    tags: list[str]
    options: JobOptions


class ExportStatistics(msgspec.Struct, kw_only=True):
    total_jobs: Count
    enabled_jobs: Count
    total_executions: Count
    successful_executions: Count
    failed_executions: Count
    jobs: dict[str, JobStatistics]


class ExportedExecution(msgspec.Struct, kw_only=True):
    job_id: str
    execution_id: str
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    status: Status
    scheduled_for: Instant | None
    start_time: Instant
    end_time: Instant | None
    duration_ms: Count | None
    attempt: Annotated[int, msgspec.Meta(ge=1)]
    code: str
    message: str


class ExportDocument(msgspec.Struct, kw_only=True):
    """The file an export answers (JSON or YAML) and an import reads."""

    export_type: Literal["jobs_configuration"]
    format_version: Literal[1]
    timestamp: Instant
    gateway_id: str
    jobs: list[ExportedJob]
    statistics: ExportStatistics | None
    history: list[ExportedExecution] | None


# ---- what an import reads (strictly: the file is anyone's) ------------------------------------


class ImportedFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The file's envelope; its jobs are checked one by one (ImportedJob), to name each bad one."""

    export_type: str
    format_version: int
    jobs: list[Any]
    timestamp: Text | None = None
    gateway_id: Text | None = None
    statistics: Any = None  # carried by an export, ignored by an import
    history: Any = None


class ImportedJob(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: Text
    name: Text
    type: Text
    schedule: dict[str, Any]
    action: dict[str, Any]
    description: Text = ""
    enabled: bool = True
    tags: list[Text] = msgspec.field(default_factory=list)
    options: dict[str, Any] | None = None


class ImportForm(msgspec.Struct, kw_only=True):
    """POST /jobs/import, multipart/form-data."""

    configFile: Annotated[str, msgspec.Meta(  # noqa: N815 - the contract's name
        description="An export file: JSON, YAML or CSV", extra_json_schema={"format": "binary"})]
    gateway_id: Annotated[str, msgspec.Meta(description="Must equal X-Gateway-ID")] | None = None
    strategy: Annotated[Strategy, msgspec.Meta(
        description="merge: skip jobs whose id exists; replace: leave the gateway with exactly the file's jobs",
    )] = "merge"
    dry_run: Annotated[bool, msgspec.Meta(description="Answer the plan, write nothing")] = False
    plan_token: Annotated[str, msgspec.Meta(
        max_length=64, description="A dry run's plan_token: refused with VERSION_CONFLICT if the jobs changed since",
    )] | None = None


# ---- the import's answer ----------------------------------------------------------------------


class Change(msgspec.Struct):
    before: Any
    after: Any


class ImportStep(msgspec.Struct, kw_only=True):
    index: Annotated[int, msgspec.Meta(ge=0)] | None
    id: str
    action: Literal["create", "update", "delete", "skip"]
    reason: Literal["exists", "unchanged"] | None
    changes: dict[str, Change] | None
    next_executions: Annotated[list[Instant], msgspec.Meta(max_length=3)]


class ImportData(msgspec.Struct, kw_only=True):
    import_id: str
    operation_id: str | None  # the import_id, recorded on every event it caused; None for a dry run
    gateway_id: str
    strategy: Strategy
    dry_run: bool
    processed: Count
    imported: Count
    skipped: Count
    deleted: Count
    errors: Count
    plan_token: str | None
    jobs: list[ImportStep]
