"""The one mapping from domain events to the live feed's messages (interfaces/ws/messages.py).

`route` says which gateway an event belongs to, what it becomes on the wire, and which jobs and tags
it is about (for the filters); `to_message` is that for one gateway (another gateway's event, or one
the feed does not carry, is None). Both are pure: the Job events after `Created` do not name their
gateway and job, so the caller passes a `JobRef` (what the job's `Created` said, and its tags), which
it keeps from the log (interfaces/ws/hub.py). Execution events carry all the feed needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.execution import Execution, failure_status
from domain.execution_group import ExecutionGroup
from domain.fire_group import FireGroup
from domain.job import Job
from domain.resources import ResourceMonitor
from interfaces.ws.messages import (
    Data,
    FeedMessage,
    JobCompleted,
    JobConfigured,
    JobDeleted,
    JobFailed,
    JobMissed,
    JobRef,
    JobStarted,
    JobToggled,
    MessageType,
    ResourceAlert,
    schedule_event,
)

# The events the feed carries: the history read and the live subscription ask for these topics only.
_EXECUTION_EVENTS = (Execution.Started, Execution.Succeeded, Execution.Failed, Execution.Missed)
# Reverted and Reset: a job_updated (a configuration whole, or the options back to defaults)
_LATER_JOB_EVENTS = (Job.Updated, Job.Reverted, Job.Reset, Job.Toggled, Job.Deleted)
_ALERTS = (ResourceMonitor.AlertRaised, ResourceMonitor.AlertCleared)
_GROUPS = (FireGroup.Started, FireGroup.Completed, ExecutionGroup.Started, ExecutionGroup.Completed)
TOPICS: tuple[str, ...] = tuple(
    get_topic(cls) for cls in (*_EXECUTION_EVENTS, Job.Created, *_LATER_JOB_EVENTS, *_GROUPS, *_ALERTS)
)


class Routed(NamedTuple):
    """An event the feed carries: its gateway, its message, and what the filters look at (the jobs
    and tags it is about; none for a gateway-wide message such as `resource_alert`)."""

    gateway_id: str
    message: FeedMessage
    job_ids: frozenset[str]
    tags: frozenset[str]


def needs_job_ref(event: Any) -> UUID | None:
    """The Job aggregate whose JobRef `route` needs for this event, else None."""
    return event.originator_id if isinstance(event, _LATER_JOB_EVENTS) else None


def ref_of_created(event: Any) -> JobRef | None:
    return JobRef(event.gateway_id, event.job_id, tuple(event.tags)) if isinstance(event, Job.Created) else None


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC) if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _utc_or_none(instant: datetime | None) -> datetime | None:
    return None if instant is None else _utc(instant)


def route(event: Any, position: int, job: JobRef | None = None) -> Routed | None:
    """(gateway id, message, job ids, tags) of an event the feed carries; None for any other event,
    for an outcome recorded before outcomes named their execution (docs/events.md), and for a later
    Job event whose JobRef is not given. A later Job event's tags are its own when it carries them
    (Updated always; Toggled and Deleted since v2), else the JobRef's."""
    made = _made(event, job)
    if made is None:
        return None
    gateway_id, kind, data = made
    message = FeedMessage(kind, _utc(event.timestamp), position, data)
    if isinstance(event, (FireGroup.Started, FireGroup.Completed)):
        return Routed(gateway_id, message, frozenset(event.job_ids), frozenset(event.tags))
    if isinstance(event, ExecutionGroup.Started):
        return Routed(gateway_id, message, frozenset(data.job_ids), frozenset())  # type: ignore[union-attr]
    if isinstance(event, ExecutionGroup.Completed):  # its members are named by its Started
        return Routed(gateway_id, message, frozenset(), frozenset())
    if isinstance(event, _ALERTS):
        return Routed(gateway_id, message, frozenset(), frozenset())
    tags = getattr(event, "tags", None)
    if tags is None and job is not None:
        tags = job.tags
    return Routed(gateway_id, message, frozenset((data.job_id,)), frozenset(tags or ()))


def to_message(event: Any, position: int, gateway_id: str, job: JobRef | None = None) -> FeedMessage | None:
    """The message for a client of `gateway_id`; None when the event is another gateway's or not carried."""
    routed = route(event, position, job)
    if routed is None or routed.gateway_id != gateway_id:
        return None
    return routed.message


def _made(event: Any, job: JobRef | None) -> tuple[str, MessageType, Data] | None:  # noqa: PLR0911 - one case per event
    if isinstance(event, Execution.Started):
        return event.gateway_id, "job_started", JobStarted(
            event.job_id, event.job_name, event.execution_id, event.trigger, _utc_or_none(event.scheduled_for),
        )
    if isinstance(event, Execution.Missed):
        return event.gateway_id, "job_missed", JobMissed(
            event.job_id, event.job_name, event.execution_id, _utc(event.scheduled_for), event.reason,
        )
    if isinstance(event, Execution.Succeeded):
        if not event.gateway_id or not event.execution_id:
            return None
        return event.gateway_id, "job_completed", JobCompleted(
            event.job_id, event.job_name, event.execution_id, "success", event.duration_ms,
        )
    if isinstance(event, Execution.Failed):
        if not event.gateway_id or not event.execution_id:
            return None
        status = "retrying" if event.will_retry else failure_status(event.code)
        return event.gateway_id, "job_failed", JobFailed(
            event.job_id, event.job_name, event.execution_id, event.error, event.retry_count, event.code,
            event.will_retry, status, event.duration_ms,
        )
    if isinstance(event, FireGroup.Started):
        return event.gateway_id, "schedule_event", schedule_event(
            event.group_id, len(event.job_ids), "started", job_ids=event.job_ids, scheduled_for=event.scheduled_for,
        )
    if isinstance(event, FireGroup.Completed):
        return event.gateway_id, "schedule_event", schedule_event(
            event.group_id, event.succeeded + event.failed, event.status, job_ids=event.job_ids,
            scheduled_for=event.scheduled_for,
        )
    if isinstance(event, ExecutionGroup.Started):  # a bulk run's group (POST /jobs/run/all)
        return event.gateway_id, "schedule_event", schedule_event(
            event.group_id, len(event.members), "started", job_ids=[m["job_id"] for m in event.members],
        )
    if isinstance(event, ExecutionGroup.Completed):
        return event.gateway_id, "schedule_event", schedule_event(
            event.group_id, event.succeeded + event.failed + event.skipped, event.status,
        )
    if isinstance(event, ResourceMonitor.AlertRaised):
        return event.gateway_id, "resource_alert", ResourceAlert(
            event.level, event.resource, event.usage_percent, event.message, "raised", event.threshold,  # type: ignore[arg-type]
        )
    if isinstance(event, ResourceMonitor.AlertCleared):
        return event.gateway_id, "resource_alert", ResourceAlert(
            "info", event.resource, event.usage_percent, event.message, "cleared", event.threshold,
        )
    if isinstance(event, Job.Created):
        return event.gateway_id, "job_created", JobConfigured(
            event.job_id, event.name, event.schedule_type, event.enabled, list(event.tags),
            _utc_or_none(event.next_execution), event.actor,
        )
    if job is None or not isinstance(event, _LATER_JOB_EVENTS):
        return None
    if isinstance(event, Job.Updated):
        return job.gateway_id, "job_updated", JobConfigured(
            job.job_id, event.name, event.schedule_type, event.enabled, list(event.tags),
            _utc_or_none(event.next_execution), event.actor,
        )
    if isinstance(event, Job.Reset):
        return event.gateway_id, "job_updated", JobConfigured(
            event.job_id, event.name, event.schedule_type, True, list(event.tags or ()), _utc_or_none(event.next_execution),
            event.actor,
        )
    if isinstance(event, Job.Toggled):
        return job.gateway_id, "job_toggled", JobToggled(
            job.job_id, event.enabled, event.reason, _utc_or_none(event.next_execution), event.actor,
        )
    return job.gateway_id, "job_deleted", JobDeleted(job.job_id, event.actor)
