"""The `data` of the API's answers about executions: a run's status, history, logs, metrics,
statistics, active runs and resource usage."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from interfaces.api.schemas.answers import (
    Count,
    ExecutionStatus,
    Rate,
    Trigger,
)
from interfaces.api.schemas.configuration import Instant


class ExecutionResult(msgspec.Struct):
    status: ExecutionStatus
    message: str | None


class Execution(msgspec.Struct):
    id: str
    job_id: str
    job_name: str
    status: Literal["completed", "running", "retrying", "failed", "timeout", "missed"]
    trigger: Trigger
    start_time: Instant
    end_time: Instant | None
    duration_ms: Count | None
    result: ExecutionResult


class ExecutionData(msgspec.Struct):
    execution: Execution


class HistoryEntry(msgspec.Struct):
    execution_id: str
    timestamp: Instant
    trigger: Trigger
    duration_ms: Count | None
    status: ExecutionStatus
    message: str | None


class HistoryData(msgspec.Struct):
    job_id: str
    job_name: str
    total_executions: Count
    success_rate: Rate
    history: list[HistoryEntry]


class LogLine(msgspec.Struct):
    timestamp: Instant
    level: Literal["info", "warning", "error", "debug"]
    message: str
    execution_id: str


class LogsData(msgspec.Struct):
    job_id: str
    job_name: str
    logs: list[LogLine]


class ExecutionTimes(msgspec.Struct):
    average_ms: Count
    min_ms: Count
    max_ms: Count
    p95_ms: Count


class AverageResources(msgspec.Struct):
    average_cpu_percent: float
    average_memory_mb: float


class Period(msgspec.Struct):
    period_start: Instant
    executions: Count
    success_rate: Rate
    average_ms: Count


class JobMetrics(msgspec.Struct):
    execution_times: ExecutionTimes
    success_rate: Rate
    resource_usage: AverageResources
    granularity: Literal["hourly", "daily", "weekly"]
    series: list[Period]


class MetricsData(msgspec.Struct):
    job_id: str
    job_name: str
    metrics: JobMetrics


class Statistics(msgspec.Struct):
    gateway_id: str
    time_range: Literal["24h", "7d", "30d", "90d"]
    total_jobs: Count
    active_jobs: Count
    total_executions: Count
    successful_executions: Count
    failed_executions: Count
    success_rate: Rate
    average_execution_time_ms: Count
    peak_concurrent_jobs: Count


class StatisticsData(msgspec.Struct):
    statistics: Statistics


class ActiveExecution(msgspec.Struct):
    execution_id: str
    job_id: str
    job_name: str
    start_time: Instant
    duration_ms: Count
    progress: Annotated[int, msgspec.Meta(ge=0, le=99)]
    status: Literal["running", "retrying"]


class ActiveData(msgspec.Struct):
    active_executions: list[ActiveExecution]
    total_active: Count
    peak_today: Count


class ResourceUsage(msgspec.Struct):
    gateway_id: str
    max_concurrent_jobs: Count
    current_concurrent_jobs: Count
    cpu_usage_percent: float
    memory_usage_mb: float
    storage_usage_mb: float
    network_usage_kbps: float


class ResourceUsageData(msgspec.Struct):
    resource_usage: ResourceUsage
