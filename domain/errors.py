"""The family of domain errors, each with the stable code the contract names."""

from __future__ import annotations

from typing import Any


class SchedulerError(Exception):
    """Base of every error a client may see; `code` is the contract's error code."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(SchedulerError):
    code = "VALIDATION_ERROR"


class InvalidCronExpression(SchedulerError):
    code = "INVALID_CRON_EXPRESSION"


class ActionNotSupported(SchedulerError):
    code = "ACTION_NOT_SUPPORTED"


class JobNotFound(SchedulerError):
    code = "JOB_NOT_FOUND"


class ExecutionNotFound(SchedulerError):
    code = "EXECUTION_NOT_FOUND"


class ExecutionGroupNotFound(SchedulerError):
    code = "NOT_FOUND"


class GatewayNotFound(SchedulerError):
    code = "GATEWAY_NOT_FOUND"


class MaxJobsExceeded(SchedulerError):
    code = "MAX_JOBS_EXCEEDED"


class VersionConflict(SchedulerError):
    code = "VERSION_CONFLICT"


class ImportFailed(SchedulerError):
    """A file that cannot be imported whole: `details.errors` names each bad job (index, id, field)."""

    code = "IMPORT_FAILED"


class OperationInProgress(SchedulerError):
    code = "OPERATION_IN_PROGRESS"


class ResourceLimitExceeded(SchedulerError):
    code = "RESOURCE_LIMIT_EXCEEDED"


class GatewayOffline(SchedulerError):
    code = "GATEWAY_OFFLINE"


class ServiceUnavailable(SchedulerError):
    code = "SERVICE_UNAVAILABLE"


class OperationNotFound(SchedulerError):
    """No event of the gateway carries that operation id (undo)."""

    code = "NOT_FOUND"


class ScheduleConflict(SchedulerError):
    code = "SCHEDULE_CONFLICT"
