"""Runs one execution's action in a pool thread and turns the result into the Execution's outcome."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psutil

from application.clock import Clock
from application.executors.ports import ExecutionContext, ExecutionResult, Executor
from domain.actions import Action
from domain.execution import ACTION_FAILED, TIMEOUT, Execution
from domain.options import JobOptions

_log = logging.getLogger(__name__)
_PROCESS = psutil.Process()
RSS_EVERY = 1.0  # seconds a reading of the process's memory serves the runs that end within it


class _ResidentMemory:
    """The process's resident memory, read at most once every RSS_EVERY seconds: reading it costs
    a file read (/proc), which per run was a third of a pool thread's CPU at thousands of runs a
    second, for a figure that moves slowly."""

    def __init__(self) -> None:
        self._mb, self._at = 0.0, float("-inf")

    def mb(self) -> float:
        now = time.monotonic()
        if now - self._at >= RSS_EVERY:  # two threads reading at once both read it: harmless
            self._mb, self._at = round(_PROCESS.memory_info().rss / 2**20, 1), now
        return self._mb


_RSS = _ResidentMemory()


@dataclass
class Outcome:
    execution: Execution
    will_retry: bool
    options: JobOptions
    job_id: str


def _logs(result: ExecutionResult) -> list[dict[str, Any]]:
    return [
        {"timestamp": line.timestamp.isoformat().replace("+00:00", "Z"), "level": line.level, "message": line.message}
        for line in result.logs
    ]


def run_action(
    executor: Executor, execution: Execution, action: Action, options: JobOptions, *,
    clock: Clock, device_id: str, started_at: datetime,
) -> Outcome:
    """Runs the action (never raises) and records success or failure on the execution."""
    ctx = ExecutionContext(
        job_id=execution.job_id, job_name=execution.job_name, execution_id=execution.execution_id,
        gateway_id=execution.gateway_id, device_id=device_id, now=started_at,
        parameters=execution.parameters, timeout_seconds=options.timeout_seconds,
    )
    cpu_before = time.thread_time()  # the CPU this run's thread used: meaningful under concurrency
    began = time.perf_counter()
    try:
        result = executor.execute(action, ctx)
    except Exception as error:  # noqa: BLE001 - a bug in an executor fails the run, not the worker
        _log.exception("executor raised for %s", execution.execution_id)
        result = ExecutionResult(status="failed", message=f"internal error: {error}", logs=[])
    elapsed = time.perf_counter() - began
    cpu_seconds = time.thread_time() - cpu_before
    details = {
        **result.details,
        "resources": {
            "cpu_percent": round(100.0 * cpu_seconds / elapsed, 2) if elapsed > 0 else 0.0,
            "memory_mb": _RSS.mb(),
        },
    }
    duration_ms = int(elapsed * 1000)
    now = clock()
    if result.status == "success":
        # An action that took effect is a success even past its timeout (every executor keeps its
        # own deadline; a process paused mid-run overruns it): as a timeout it would be retried,
        # done twice (docs/decisions.md 292).
        if elapsed > options.timeout_seconds:
            _log.warning("run %s succeeded after %.1f s, past its %g s timeout (paused or overloaded)",
                         execution.execution_id, elapsed, options.timeout_seconds)
        execution.succeed(now=now, duration_ms=duration_ms, message=result.message, logs=_logs(result), details=details)
        return Outcome(execution, False, options, execution.job_id)
    timed_out = result.details.get("error_code") == TIMEOUT or elapsed > options.timeout_seconds
    code = TIMEOUT if timed_out else str(result.details.get("error_code") or ACTION_FAILED)
    message = result.message
    will_retry = execution.fail(
        now=now, duration_ms=duration_ms, code=code, error=message, logs=_logs(result), details=details
    )
    return Outcome(execution, will_retry, options, execution.job_id)
