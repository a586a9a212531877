"""The Execution aggregate: one run (or one missed run) of a job, from start to its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.errors import ValidationFailed
from domain.identity import execution_uuid

TRIGGERS = ("scheduled", "manual", "misfire", "bulk")
# Outcome codes of a failed execution (the contract's EXECUTION_TIMEOUT among them).
TIMEOUT = "EXECUTION_TIMEOUT"
INTERRUPTED = "INTERRUPTED"
CANCELLED = "CANCELLED"
ACTION_FAILED = "ACTION_FAILED"
# The action may or may not have taken effect (a publish sent but never acknowledged): retrying
# could do it twice, so such a failure is final.
DELIVERY_UNKNOWN = "DELIVERY_UNKNOWN"
_FINAL_CODES = (INTERRUPTED, CANCELLED, DELIVERY_UNKNOWN)

ActiveStatus = Literal["running", "retrying"]  # still going, between attempts included
# "Finished" has two meanings, named apart. Completed: a run that ended with an outcome; rates,
# durations and job statistics are over these. FINAL: no event changes it any more (completed, or
# missed: never ran); what retention may prune and what a takeover leaves alone.
CompletedStatus = Literal["success", "failed", "timeout"]
Status = Literal[ActiveStatus, CompletedStatus, "missed"]
ACTIVE: tuple[ActiveStatus, ...] = get_args(ActiveStatus)
COMPLETED: tuple[CompletedStatus, ...] = get_args(CompletedStatus)
FINAL: tuple[Status, ...] = (*COMPLETED, "missed")


def failure_status(code: str) -> Literal["failed", "timeout"]:
    """The status a final failure leaves: `timeout` for the timeout code, `failed` for any other."""
    return "timeout" if code == TIMEOUT else "failed"


class Execution(Aggregate):
    """Status moves running -> (retrying -> running)* -> success | failed | timeout; or is missed."""

    class Started(Aggregate.Created):
        gateway_id: str
        job_id: str
        execution_id: str
        job_name: str
        trigger: str
        scheduled_for: datetime | None
        jitter_seconds: float
        parameters: dict[str, Any]
        actor: str
        max_attempts: int
        # A manual run's cause, copied from the Job.RunRequested that asked for it (docs/events.md).
        request_id: str | None = None
        operation_id: str | None = None
        # The job's tags when it fired, for the live feed's `tags` filter (docs/events.md, v2 fields:
        # events recorded before them load with none).
        tags: tuple[str, ...] = ()

    def __init__(
        self, gateway_id: str, job_id: str, execution_id: str, job_name: str, scheduled_for: datetime | None,
        trigger: str = "scheduled", jitter_seconds: float = 0.0, parameters: dict[str, Any] | None = None,
        actor: str = "scheduler", max_attempts: int = 1, reason: str = "",
        request_id: str | None = None, operation_id: str | None = None, tags: tuple[str, ...] = (),
    ) -> None:
        """Initialised by either created event: Started (a run) or Missed (a run that did not happen)."""
        self.gateway_id = gateway_id
        self.job_id = job_id
        self.execution_id = execution_id
        self.job_name = job_name
        self.trigger = trigger
        self.scheduled_for = scheduled_for
        self.jitter_seconds = jitter_seconds
        self.parameters = parameters or {}
        self.max_attempts = max_attempts
        self.actor = actor
        self.request_id, self.operation_id = request_id, operation_id
        self.tags = tuple(tags)
        self.attempt = 1
        self.reason = reason
        self.code = ""  # of the last failed attempt
        self.status: Status = "missed" if reason else "running"
        self.ended_at: datetime | None = self.created_on if reason else None

    class Missed(Aggregate.Created):
        gateway_id: str
        job_id: str
        execution_id: str
        job_name: str
        scheduled_for: datetime
        reason: str
        tags: tuple[str, ...] = ()

    class Event(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            """Events that change state override this."""

    class Retrying(Event):
        attempt: int

        def apply(self, execution: Execution) -> None:
            execution.attempt = self.attempt
            execution.status = "running"

    # Outcomes name their execution and job, so a reader needs no lookup. Events recorded before
    # they did load with these empty (docs/events.md says how readers handle those).
    class Succeeded(Event):
        duration_ms: int
        message: str
        logs: list[dict[str, Any]]
        details: dict[str, Any]
        gateway_id: str = ""
        job_id: str = ""
        job_name: str = ""
        execution_id: str = ""
        tags: tuple[str, ...] = ()

        def apply(self, execution: Execution) -> None:
            execution.status = "success"
            execution.ended_at = self.timestamp

    class Failed(Event):
        duration_ms: int
        code: str
        error: str
        retry_count: int
        will_retry: bool
        logs: list[dict[str, Any]]
        details: dict[str, Any]
        gateway_id: str = ""
        job_id: str = ""
        job_name: str = ""
        execution_id: str = ""
        tags: tuple[str, ...] = ()

        def apply(self, execution: Execution) -> None:
            execution.code = self.code
            if self.will_retry:
                execution.status = "retrying"
            else:
                execution.status = failure_status(self.code)
                execution.ended_at = self.timestamp

    # ---- construction ----------------------------------------------------------------

    @classmethod
    def start(
        cls, *, gateway_id: str, job_id: str, execution_id: str, job_name: str, trigger: str,
        scheduled_for: datetime | None, now: datetime, jitter_seconds: float = 0.0,
        parameters: dict[str, Any] | None = None, actor: str = "scheduler", max_attempts: int = 1,
        request_id: str | None = None, operation_id: str | None = None, tags: tuple[str, ...] = (),
    ) -> Execution:
        if trigger not in TRIGGERS:
            raise ValidationFailed(f"Unknown trigger {trigger!r}", {"field": "trigger"})
        return cls._created(cls.Started, execution_uuid(gateway_id, execution_id), now, {
            "gateway_id": gateway_id, "job_id": job_id, "execution_id": execution_id, "job_name": job_name,
            "trigger": trigger, "scheduled_for": scheduled_for, "jitter_seconds": jitter_seconds,
            "parameters": dict(parameters or {}), "actor": actor, "max_attempts": max_attempts,
            "request_id": request_id, "operation_id": operation_id, "tags": tuple(tags),
        })

    @classmethod
    def missed(
        cls, *, gateway_id: str, job_id: str, execution_id: str, job_name: str, scheduled_for: datetime,
        reason: str, now: datetime, tags: tuple[str, ...] = (),
    ) -> Execution:
        return cls._created(cls.Missed, execution_uuid(gateway_id, execution_id), now, {
            "gateway_id": gateway_id, "job_id": job_id, "execution_id": execution_id, "job_name": job_name,
            "scheduled_for": scheduled_for, "reason": reason, "tags": tuple(tags),
        })

    # The dispatcher builds thousands of these a second: the library's `_create` and
    # `trigger_event` (keyword filtering, dataclass construction with its checks, topic lookups)
    # were most of the cost of an execution's events (docs/decisions.md 201). These build the
    # same events (class, attributes and their order) and the same aggregate state directly.
    # tests/domain/test_execution_events.py compares both paths for every event.

    @classmethod
    def _created(cls, event_class: type[Any], originator_id: UUID, timestamp: datetime, fields: dict[str, Any]) -> Execution:
        """As `cls._create(event_class, id=originator_id, timestamp=timestamp, **fields)`; `fields`
        in the event class's field order."""
        event = object.__new__(event_class)
        object.__setattr__(event, "__dict__", {
            "originator_id": originator_id, "originator_version": 1, "timestamp": timestamp,
            "originator_topic": _TOPIC, **fields,
        })
        execution = object.__new__(cls)
        execution.__base_init__(originator_id, 1, timestamp)
        execution.__init__(**fields)  # type: ignore[misc]
        execution._pending_events.append(event)
        return execution

    def _trigger(self, event_class: type[Any], timestamp: datetime, fields: dict[str, Any]) -> None:
        """As `self.trigger_event(event_class, timestamp=timestamp, **fields)`; `fields` in the
        event class's field order."""
        event = object.__new__(event_class)
        object.__setattr__(event, "__dict__", {
            "originator_id": self._id, "originator_version": self._version + 1, "timestamp": timestamp, **fields,
        })
        event.apply(self)
        self._version = event.originator_version
        self._modified_on = timestamp
        self._pending_events.append(event)

    # ---- outcomes ----------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Final: no outcome changes it any more (missed included)."""
        return self.status in FINAL

    def _named(self) -> dict[str, Any]:
        return {"gateway_id": self.gateway_id, "job_id": self.job_id, "job_name": self.job_name,
                "execution_id": self.execution_id, "tags": self.tags}

    def succeed(self, *, now: datetime, duration_ms: int, message: str, logs: list[dict[str, Any]],
                details: dict[str, Any] | None = None) -> None:
        if self.status != "running":
            return  # a late outcome of an execution already closed (e.g. timed out) changes nothing
        self._trigger(self.Succeeded, now, {"duration_ms": duration_ms, "message": message, "logs": logs,
                                            "details": details or {}, **self._named()})

    def fail(self, *, now: datetime, duration_ms: int, code: str, error: str, logs: list[dict[str, Any]],
             details: dict[str, Any] | None = None) -> bool:
        """Record a failed attempt; returns whether another attempt will follow."""
        if self.status != "running":
            return False
        will_retry = code not in _FINAL_CODES and self.attempt < self.max_attempts
        self._trigger(self.Failed, now, {"duration_ms": duration_ms, "code": code, "error": error,
                                         "retry_count": self.attempt - 1, "will_retry": will_retry, "logs": logs,
                                         "details": details or {}, **self._named()})
        return will_retry

    def interrupt(self, *, now: datetime, reason: str = "the worker stopped while this execution ran") -> None:
        """Close a run whose worker died mid-flight (its outcome is unknown): failed, never
        retried (the action may have taken effect), never left running."""
        if self.status in ("running", "retrying"):
            self._closed(now, INTERRUPTED, f"interrupted: {reason}")

    def cancel(self, *, now: datetime, reason: str = "the job was disabled or changed before this run began") -> None:
        """Close a recorded run, or a run between attempts, that must not start (its job changed or
        went away meanwhile, or it is too late)."""
        if self.status in ("running", "retrying"):
            self._closed(now, CANCELLED, f"cancelled: {reason}")

    def _closed(self, now: datetime, code: str, error: str) -> None:
        self._trigger(self.Failed, now, {"duration_ms": 0, "code": code, "error": error, "retry_count": self.attempt - 1,
                                         "will_retry": False, "logs": [], "details": {}, **self._named()})

    def retry(self, *, now: datetime) -> None:
        if self.status == "retrying":
            self._trigger(self.Retrying, now, {"attempt": self.attempt + 1})

    @staticmethod
    def id_for(gateway_id: str, execution_id: str) -> UUID:
        return execution_uuid(gateway_id, execution_id)


_TOPIC = get_topic(Execution)
