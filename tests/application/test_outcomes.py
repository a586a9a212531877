"""What a run's result is recorded as (application/dispatch/outcomes.py run_action)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from application.dispatch.outcomes import run_action
from application.executors.log import ExecutionLog
from application.executors.ports import EXECUTION_TIMEOUT, ExecutionResult
from domain.actions import parse_action
from domain.options import JobOptions

ACTION = parse_action({"type": "system", "operation": "health_check"})


class _Executor:
    def __init__(self, result: ExecutionResult, seconds: float) -> None:
        self.result, self.seconds = result, seconds

    def execute(self, action, ctx):  # noqa: ANN001, ANN201 - the Executor port
        time.sleep(self.seconds)  # as a process paused (SIGSTOP) while its action ran
        return self.result


def _run(result: ExecutionResult, seconds: float, **options):  # noqa: ANN003, ANN202
    now = datetime.now(UTC)
    from domain.execution import Execution

    execution = Execution.start(gateway_id="gw", job_id="job_a", execution_id="exec_a", job_name="a",
                                trigger="scheduled", scheduled_for=now, now=now,
                                max_attempts=options.get("max_attempts", 1))
    return run_action(_Executor(result, seconds), execution, ACTION, JobOptions(**options),
                      clock=lambda: datetime.now(UTC), device_id="gw", started_at=now)


def test_an_action_that_succeeded_past_its_timeout_is_a_success_and_not_retried():
    outcome = _run(ExecutionResult.success("done", ExecutionLog()), 0.3, timeout_seconds=0.1, max_attempts=3)
    assert outcome.execution.status == "success" and not outcome.will_retry


def test_a_failure_past_its_timeout_is_a_timeout():
    outcome = _run(ExecutionResult.failure("no answer", ExecutionLog()), 0.3, timeout_seconds=0.1, max_attempts=1)
    assert outcome.execution.status == "timeout" and outcome.execution.code == EXECUTION_TIMEOUT
