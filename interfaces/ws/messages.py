"""The live feed's wire messages, declared once (docs/live-feed.md): every message is `{"type",
"timestamp", "position", "data"}`, `timestamp` the event's (UTC, `Z`), `position` its notification id
in the event store (a client resumes with `"after": position`); and the control messages. What each
domain event becomes is interfaces/ws/routing.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

import msgspec

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


def _utc_or_none(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    return instant.astimezone(UTC) if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


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


ENCODER = msgspec.json.Encoder()


Control = AuthOk | AuthInvalid | CaughtUp | Heartbeat | ResyncRequired


def encode(message: FeedMessage | Control | dict[str, Any]) -> str:
    return ENCODER.encode(message).decode()
