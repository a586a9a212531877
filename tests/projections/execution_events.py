"""Test support: record Execution events for a job and wait until the read side has them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.execution import TIMEOUT, Execution

BASE = datetime(2025, 3, 12, 15, 10, 30, tzinfo=UTC)


def new_execution_id() -> str:
    return f"exec_{uuid.uuid4().hex[:16]}"


def save(runtime: Any, *executions: Execution) -> tuple[tuple[str, int], ...]:
    recorded = tuple((r.notification.topic, r.notification.id) for r in runtime.app.save(*executions))
    assert runtime.wait(recorded), "the projections did not catch up"
    return recorded


def started(gateway_id: str, job_id: str, at: datetime, *, trigger: str = "scheduled", max_attempts: int = 1,
            job_name: str = "Modbus Poll", parameters: dict[str, Any] | None = None) -> Execution:
    return Execution.start(
        gateway_id=gateway_id, job_id=job_id, execution_id=new_execution_id(), job_name=job_name, trigger=trigger,
        scheduled_for=at, now=at, max_attempts=max_attempts, parameters=parameters,
    )


def log(at: datetime, level: str, message: str) -> dict[str, Any]:
    return {"timestamp": at.isoformat().replace("+00:00", "Z"), "level": level, "message": message}


def succeeded(gateway_id: str, job_id: str, at: datetime, duration_ms: int, *, message: str = "done",
              resources: dict[str, Any] | None = None, logs: list[dict[str, Any]] | None = None) -> Execution:
    execution = started(gateway_id, job_id, at)
    execution.succeed(
        now=at + timedelta(milliseconds=duration_ms), duration_ms=duration_ms, message=message,
        logs=logs if logs is not None else [log(at, "info", "Starting"), log(at, "info", "Finished")],
        details={"resources": resources} if resources is not None else {},
    )
    return execution


def failed(gateway_id: str, job_id: str, at: datetime, duration_ms: int, *, code: str = "ACTION_FAILED",
           error: str = "Connection refused") -> Execution:
    execution = started(gateway_id, job_id, at)
    execution.fail(now=at + timedelta(milliseconds=duration_ms), duration_ms=duration_ms, code=code, error=error,
                   logs=[log(at, "error", error)])
    return execution


def timed_out(gateway_id: str, job_id: str, at: datetime, duration_ms: int) -> Execution:
    return failed(gateway_id, job_id, at, duration_ms, code=TIMEOUT, error="Execution timed out")


def missed(gateway_id: str, job_id: str, at: datetime, reason: str = "gateway was offline") -> Execution:
    return Execution.missed(gateway_id=gateway_id, job_id=job_id, execution_id=new_execution_id(),
                            job_name="Modbus Poll", scheduled_for=at, reason=reason, now=at)


def recorded_before_outcomes_named(execution: Execution) -> Execution:
    """`execution` with its outcome events as a version before them recorded them: without the
    execution's gateway, job and name (they load with these empty)."""
    for event in execution.pending_events:
        if isinstance(event, (Execution.Succeeded, Execution.Failed)):
            for name in ("gateway_id", "job_id", "job_name", "execution_id"):
                event.__dict__.pop(name, None)
    return execution
