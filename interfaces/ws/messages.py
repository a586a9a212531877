"""The one mapping from domain events to the live feed's wire messages (docs/live-feed.md).

Every message is `{"type", "timestamp", "position", "data"}`: `timestamp` is the event's (UTC, `Z`),
`position` its notification id in the event store (a client resumes with `"after": position`).
`route` says which gateway an event belongs to, what it becomes on the wire, and which jobs and tags
it is about (for the filters); `to_message` is that for one gateway (another gateway's event, or one
the feed does not carry, is None). Both are pure: the Job events after `Created` do not name their
gateway and job, so the caller passes a `JobRef` (what the job's `Created` said, and its tags), which
it keeps from the log (interfaces/ws/hub.py). Execution events carry all the feed needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, get_args
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain.execution import Execution, failure_status
from domain.execution_group import ExecutionGroup
from domain.fire_group import FireGroup
from domain.job import Job
from domain.resources import ResourceMonitor

MessageType = Literal[
    "job_started", "job_completed", "job_failed", "job_missed",
    "job_created", "job_updated", "job_toggled", "job_deleted",
    "schedule_event", "resource_alert",
]
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)


class JobRef(msgspec.Struct, frozen=True):
    """Who a Job aggregate is: from its Created event (gateway and job id never change)."""

    gateway_id: str
    job_id: str
    tags: tuple[str, ...] = ()


class JobStarted(msgspec.Struct):
    job_id: str
    job_name: str
    execution_id: str
    trigger: str
    scheduled_for: datetime | None


class JobCompleted(msgspec.Struct):
    job_id: str
    job_name: str
    execution_id: str
    status: Literal["success"]
    duration_ms: int


class JobFailed(msgspec.Struct):
    job_id: str
    job_name: str
    execution_id: str
    error: str
    retry_count: int
    code: str
    will_retry: bool
    status: Literal["retrying", "failed", "timeout"]
    duration_ms: int


class JobMissed(msgspec.Struct):
    job_id: str
    job_name: str
    execution_id: str
    scheduled_for: datetime
    reason: str


class JobConfigured(msgspec.Struct):
    """job_created and job_updated: the job's configuration summary after the change."""

    job_id: str
    job_name: str
    schedule_type: str
    enabled: bool
    tags: list[str]
    next_execution: datetime | None
    actor: str


class JobToggled(msgspec.Struct):
    job_id: str
    enabled: bool
    reason: str
    next_execution: datetime | None
    actor: str


class JobDeleted(msgspec.Struct):
    job_id: str
    actor: str


class ScheduleEvent(msgspec.Struct):
    """A group of jobs starting together: several jobs due at one instant (`schedule_id` names the
    instant, `instant_YYYYMMDDhhmmssmmm`), or a bulk run's execution group. `job_ids` and
    `scheduled_for` are beyond the contract (empty / null where the group has none)."""

    schedule_id: str
    job_count: int
    status: str
    job_ids: list[str] = []
    scheduled_for: datetime | None = None


def schedule_event(group_id: str, job_count: int, status: str, *, job_ids: list[str] | None = None,
                   scheduled_for: datetime | None = None) -> ScheduleEvent:
    """The one mapping of a group of runs to `schedule_event`'s data, whatever recorded the group."""
    return ScheduleEvent(group_id, job_count, status, list(job_ids or ()), _utc_or_none(scheduled_for))


class ResourceAlert(msgspec.Struct):
    """The contract's level, resource, usage_percent and message; `state` and `threshold` beyond it."""

    level: Literal["warning", "info"]
    resource: str
    usage_percent: float
    message: str
    state: Literal["raised", "cleared"]
    threshold: float


Data = (JobStarted | JobCompleted | JobFailed | JobMissed | JobConfigured | JobToggled | JobDeleted | ScheduleEvent
        | ResourceAlert)


class FeedMessage(msgspec.Struct):
    type: MessageType
    timestamp: datetime
    position: int
    data: Data


# Control messages of the socket (not events).
class AuthOk(msgspec.Struct):
    gateway_id: str
    type: Literal["auth_ok"] = "auth_ok"


class AuthInvalid(msgspec.Struct):
    """The auth message was refused; the socket closes with `code` (docs/live-feed.md) right after."""

    code: int
    reason: str
    type: Literal["auth_invalid"] = "auth_invalid"


class ResyncRequired(msgspec.Struct):
    """The feed cannot continue from the client's position without a gap; the connection closes
    after it. `reason` "retention": events after the position asked for were pruned, `position` is
    the oldest position a resume is complete from; "backlog": the client fell too far behind,
    `position` is the last one delivered to it. Reload state (the REST API), then resume with
    `"after": position` (or from the head)."""

    reason: Literal["retention", "backlog"]
    position: int
    type: Literal["resync_required"] = "resync_required"


class CaughtUp(msgspec.Struct):
    """History is delivered up to `position` (the log's head when the catch-up ended); live follows."""

    position: int
    type: Literal["caught_up"] = "caught_up"


class Heartbeat(msgspec.Struct):
    """Sent after HEARTBEAT_SECONDS without a message: the connection's cursor (resume after it)."""

    position: int
    type: Literal["heartbeat"] = "heartbeat"


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


ENCODER = msgspec.json.Encoder()


Control = AuthOk | AuthInvalid | CaughtUp | Heartbeat | ResyncRequired


def encode(message: FeedMessage | Control | dict[str, Any]) -> str:
    return ENCODER.encode(message).decode()
