"""The Execution aggregate's outcomes and its status vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.execution import (
    ACTION_FAILED, CANCELLED, COMPLETED, FINAL, TIMEOUT, Execution, failure_status,
)

AT = datetime(2025, 3, 12, 15, 10, 30, tzinfo=UTC)


def _started() -> Execution:
    return Execution.start(gateway_id="gw-1", job_id="job_1", execution_id="exec_1", job_name="Poll",
                           trigger="manual", scheduled_for=None, now=AT)


def test_every_outcome_event_names_its_execution_and_job():
    succeeded, failed, interrupted = _started(), _started(), _started()
    succeeded.succeed(now=AT + timedelta(seconds=1), duration_ms=1000, message="ok", logs=[])
    failed.fail(now=AT + timedelta(seconds=1), duration_ms=1000, code=ACTION_FAILED, error="x", logs=[])
    interrupted.interrupt(now=AT + timedelta(seconds=1))
    for execution in (succeeded, failed, interrupted):
        outcome = execution.pending_events[-1]
        assert (outcome.gateway_id, outcome.job_id, outcome.job_name, outcome.execution_id) == (
            "gw-1", "job_1", "Poll", "exec_1")


@pytest.mark.parametrize(("code", "status"), [(TIMEOUT, "timeout"), (ACTION_FAILED, "failed"), (CANCELLED, "failed")])
def test_a_final_failure_is_a_timeout_only_for_the_timeout_code(code, status):
    execution = _started()
    execution.fail(now=AT, duration_ms=5, code=code, error="x", logs=[])
    assert failure_status(code) == execution.status == status
    assert execution.finished


def test_missed_is_final_but_not_completed():
    missed = Execution.missed(gateway_id="gw-1", job_id="job_1", execution_id="exec_2", job_name="Poll",
                              scheduled_for=AT, reason="offline", now=AT)
    assert missed.finished and missed.status in FINAL and missed.status not in COMPLETED
